import type { AtomicOperations } from '../backend/types'
import type { SyncLogEntry } from '../entries/types'
import { CLIENT_LOG_COLLECTIONS } from './collections'
import { objectsWithOtherRows } from './compaction'
import type { RecentOwnRows, RowMeta } from './recent-rows'
import type { ClientLogRow } from './rows'

/**
 * Every row of a push batch's objects, as stored in `ops`' transaction, for the compaction that
 * marks the batch shared. `heldRows` are the batch's own rows as read for the push, one per entry.
 * It reads as little as it can:
 * - an object whose first row here is its create has no rows but these that compaction needs
 *   now (`objectsWithOtherRows`), so they are only checked to be still there (a key probe);
 * - an object created in the batch, or with a row in `recent`, is looked up by key, and only the
 *   rows neither held nor remembered are read;
 * - any other object (an edit of an older one, or the first push after a restart) is read whole
 *   with its lookup: keys and then a get per row would cost a request per row more (on real
 *   IndexedDB about 40 µs each).
 * Null when the backend cannot list keys (the caller then reads every object whole).
 */
export async function pushedObjectRows(options: { ops: AtomicOperations; entries: SyncLogEntry[]; heldRows: ClientLogRow[]; recent: RecentOwnRows }): Promise<RowMeta[] | null> {
    const { ops, entries, heldRows, recent } = options
    const held = new Map<number, RowMeta>()
    const createdHere = new Set<string>()
    for (const [index, row] of heldRows.entries()) {
        held.set(row.seq as number, row)
        if (entries[index].operation === 'create') {
            createdHere.add(row.objectKey)
        }
    }
    const toLookUp = objectsWithOtherRows(heldRows)
    const likelyHeld = (key: string) => createdHere.has(key) || recent.hasObject(key)
    const byKey = toLookUp.filter(likelyHeld)
    const whole = toLookUp.filter(key => !likelyHeld(key))
    const keys = !byKey.length ? [] : ops.findKeys && (await ops.findKeys(CLIENT_LOG_COLLECTIONS.entry, { objectKey: { $in: byKey } }))
    if (!keys) {
        return null
    }
    const rows: RowMeta[] = []
    if (whole.length) {
        for (const row of (await ops.findObjects(CLIENT_LOG_COLLECTIONS.entry, { objectKey: { $in: whole } })) as unknown as ClientLogRow[]) {
            rows.push(held.get(row.seq as number) ?? row)
        }
    }
    const others: Array<string | number> = []
    const lookedUp = new Set(toLookUp)
    const created = [...held.values()].filter(row => !lookedUp.has(row.objectKey)).map(row => row.seq as number)
    if (created.length) {
        // Whether the create rows are still there (another pass may have pushed and compacted
        // them): the rows of one push were committed one after another, so one probe of their range.
        const existing = ops.findKeys && (await ops.findKeys(CLIENT_LOG_COLLECTIONS.entry, { seq: { $in: created } }))
        if (existing) {
            rows.push(...existing.map(seq => held.get(seq as number)!))
        } else {
            others.push(...created)
        }
    }
    for (const key of new Set(keys)) {
        const row = held.get(key as number) ?? (typeof key === 'number' ? recent.get(key) : undefined)
        if (row) {
            rows.push(row)
        } else {
            others.push(key)
        }
    }
    if (others.length) {
        rows.push(...((await ops.findObjects(CLIENT_LOG_COLLECTIONS.entry, { seq: { $in: others } })) as unknown as ClientLogRow[]))
    }
    return rows
}
