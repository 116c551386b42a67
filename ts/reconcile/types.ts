import type { OperationBatch } from '@worldbrain/storex'
import type { SyncLogEntry } from '../entries/types'

/**
 * A reconciler turns log entries into the Storex writes that bring the local database from the
 * state of the `known` entries to the state of `known ∪ incoming`. It is a pure function.
 */
export interface ReconcileInput {
    /**
     * Every entry this device already holds (its own and previously applied ones) for the objects
     * the incoming entries touch. The local database reflects exactly these.
     */
    known: SyncLogEntry[]
    /** Newly received entries; may contain duplicates of each other or of `known`. */
    incoming: SyncLogEntry[]
    /** Primary key field names per collection (a compound key lists several). */
    pkFields: (collection: string) => string[]
}

export interface ReconcileResult {
    /** The writes to apply, in one transaction, with logging switched off. */
    batch: OperationBatch
    /** Incoming entries not already in `known` (deduplicated), to be recorded in the client log. */
    newEntries: SyncLogEntry[]
}

export type Reconciler = (input: ReconcileInput) => ReconcileResult
