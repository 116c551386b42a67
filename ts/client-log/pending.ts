import type { SyncLogEntry } from '../entries/types'
import { entryId } from '../entries/keys'
import type { StoredObject } from '../backend/types'
import type { ClientLogRow } from './rows'

/**
 * Which own entries are still to be pushed is kept beside the log, not on its rows: one key per
 * unpushed entry in `syncPending`, written in the entry's own transaction and deleted when the
 * push is acknowledged. Marking a batch pushed is then a delete of its keys (one key range on
 * IndexedDB), where rewriting the log rows (as the first layout did) paid for every index of
 * every row again. The store has no index to maintain.
 *
 * The key starts with the version, zero-padded, so the store's key order is version order: a push
 * reads the oldest first, and the first key bounds which rows can still be pending. A batch's rows
 * are then a device's consecutive versions, which the log's ids (`device@version:…`) keep
 * together: the Dexie adapter reads them as one key range.
 */
const VERSION_DIGITS = 16 // Number.MAX_SAFE_INTEGER has 16 digits

export function pendingKeyOf(entry: Pick<SyncLogEntry, 'collection' | 'pk' | 'field' | 'operation' | 'version' | 'deviceId'>, id = entryId(entry)): string {
    return `${String(entry.version).padStart(VERSION_DIGITS, '0')}:${id}`
}

/** The entry id a pending key stands for. */
export function entryIdOfPendingKey(key: string): string {
    return key.slice(VERSION_DIGITS + 1)
}

/** The version a pending key was made for. */
export function versionOfPendingKey(key: string): number {
    return Number(key.slice(0, VERSION_DIGITS))
}

/** The pending store's row for an own entry's log row. */
export function pendingRowOf(row: ClientLogRow): StoredObject {
    return { key: pendingKeyOf(row, row.id) }
}
