import type { SyncLogEntry, PrimaryKey, SyncOperation } from '../entries/types'
import { entryId, entryObjectKey } from '../entries/keys'
import type { StoredObject } from '../backend/types'

/** How an entry is stored in the client log: the entry plus its keys and sync flags. */
export interface ClientLogRow extends SyncLogEntry {
    id: string
    objectKey: string
    /** 1 once the entry is in the shared log (own entries after a push; received entries always). */
    shared: number
    /** 1 for a received entry that is held back (quarantined) and not reflected in the database. */
    needsIntegration: number
    /** The version while unshared, else null (sparse index of what to push). */
    pendingVersion: number | null
    /** The version while held back, else null (sparse index of what to retry). */
    heldVersion: number | null
}

export function entryToRow(entry: SyncLogEntry, flags: { shared: boolean; needsIntegration: boolean }): ClientLogRow {
    return {
        id: entryId(entry),
        objectKey: entryObjectKey(entry),
        collection: entry.collection,
        pk: entry.pk,
        operation: entry.operation,
        field: entry.field,
        value: entry.value === undefined ? null : entry.value,
        version: entry.version,
        deviceId: entry.deviceId,
        schemaVersion: entry.schemaVersion,
        shared: flags.shared ? 1 : 0,
        needsIntegration: flags.needsIntegration ? 1 : 0,
        pendingVersion: flags.shared ? null : entry.version,
        heldVersion: flags.needsIntegration ? entry.version : null,
    }
}

export function rowToEntry(stored: StoredObject | ClientLogRow): SyncLogEntry {
    const row = stored as StoredObject
    return {
        collection: row.collection as string,
        pk: row.pk as PrimaryKey,
        operation: row.operation as SyncOperation,
        field: (row.field as string | null | undefined) ?? null,
        value: row.value === undefined ? null : row.value,
        version: row.version as number,
        deviceId: row.deviceId as string,
        schemaVersion: row.schemaVersion as number,
    }
}
