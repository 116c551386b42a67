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
    id: string
    objectKey: string
    /**
     * 1 once the entry is in the shared log. As stored: 1 for received entries, 0 for own ones,
     * which are not rewritten when pushed (their pending key goes, see ./pending.ts). Rows the
     * `ClientSyncLog` hands out carry the resolved flag.
     */
    shared: number
    /** 1 for a received entry that is held back (quarantined) and not reflected in the database. */
    needsIntegration: number
}

export function entryToRow(entry: SyncLogEntry, flags: { shared: boolean; needsIntegration: boolean }): ClientLogRow {
    const objectKey = entryObjectKey(entry)
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
