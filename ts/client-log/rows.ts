import type { SyncLogEntry, PrimaryKey, SyncOperation } from '../entries/types'
import { entryIdOf, entryObjectKey, fieldKeyOf } from '../entries/keys'
import type { StoredObject } from '../backend/types'
import { decodeValue, encodeEntry } from '../entries/values'

/**
 * How an entry is stored in the client log: the entry plus its keys and sync flags. The value is
 * always in the encoded form (ts/entries/values.ts), on every backend: SQLite keeps a json column
 * as JSON text (a Date would come back as a string), and one format means no per-backend paths.
 */
export interface ClientLogRow extends SyncLogEntry {
    /**
     * The row's key: for own rows the store's generated key, in commit order (absent until
     * stored); for received rows a key below zero (see ts/client-log/seq.ts).
     */
    seq?: number
    id: string
    objectKey: string
    /**
     * 1 once the entry is in the shared log. Received entries are stored with 1. Own entries are
     * stored with 0 and are shared once the push watermark reaches their `seq`, without being
     * rewritten; the rows `ClientSyncLog` returns say 1 for those.
     */
    shared: number
    /** 1 for a received entry that is held back (quarantined) and not reflected in the database. */
    needsIntegration: number
}

/** `objectKey` when the caller has it already (it is a JSON encoding per call). */
export function entryToRow(entry: SyncLogEntry, flags: { shared: boolean; needsIntegration: boolean }, objectKey = entryObjectKey(entry)): ClientLogRow {
    return {
        id: entryIdOf(fieldKeyOf(objectKey, entry), entry),
        objectKey,
        ...encodeEntry(entry),
        shared: flags.shared ? 1 : 0,
        needsIntegration: flags.needsIntegration ? 1 : 0,
    }
}

export function rowToEntry(stored: StoredObject | ClientLogRow): SyncLogEntry {
    const row = stored as StoredObject
    return {
        collection: row.collection as string,
        pk: row.pk as PrimaryKey,
        operation: row.operation as SyncOperation,
        field: (row.field as string | null | undefined) ?? null,
        value: decodeValue(row.value),
        version: row.version as number,
        deviceId: row.deviceId as string,
        schemaVersion: row.schemaVersion as number,
    }
}
