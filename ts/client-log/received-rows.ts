import { putAll } from '../backend/types'
import type { AtomicOperations, StoredObject } from '../backend/types'
import { CLIENT_LOG_COLLECTIONS } from './collections'
import { obsoleteRows } from './compaction'
import type { ClientLogRow } from './rows'
import { assignSharedSeqs } from './seq'
import { greatestVersion, raiseVersionBound } from './version-bound'

/** How received rows are stored and their objects compacted, in one transaction. */
export interface ReceivedRowsPlan {
    /** Received rows given the key of a stored row compaction drops: written over it. */
    overwrite: ClientLogRow[]
    /** Received rows that need a key of their own (below zero, `assignSharedSeqs`). */
    add: ClientLogRow[]
    /** Stored rows compaction drops that no received row is written over. */
    remove: ClientLogRow[]
}

/**
 * Plans storing `fresh` (received entries' rows, not yet stored) beside `stored` (every row of
 * their objects, as the transaction has them), so that the log ends as if the rows were added
 * and the objects then compacted, with fewer requests:
 * - a received row that is obsolete at once (a newer entry of its field is stored or arrives with
 *   it) is not written;
 * - a received row takes the key of a stored row compaction drops, if that key is below zero (a
 *   received row's or a baseline's), and is written over it: the superseded row costs no delete
 *   and the store no new key. Keys below zero are slots, nothing is ordered by them (a push reads
 *   from the watermark up, own rows keep their commit order above zero), and no process remembers
 *   a row by such a key (`RecentOwnRows` keeps own rows only).
 * Own rows (keys above zero) that compaction drops are deleted as before.
 */
export function planReceivedRows(fresh: ClientLogRow[], stored: ClientLogRow[]): ReceivedRowsPlan {
    const obsolete = new Set(obsoleteRows([...stored, ...fresh]))
    const written = fresh.filter(row => !obsolete.has(row))
    const dropped = stored.filter(row => obsolete.has(row))
    const slots = dropped.filter(row => typeof row.seq === 'number' && row.seq < 0)
    const taken = Math.min(slots.length, written.length)
    const overwrite = written.slice(0, taken).map((row, index) => ({ ...row, seq: slots[index].seq }))
    const reused = new Set(slots.slice(0, taken))
    return { overwrite, add: written.slice(taken), remove: dropped.filter(row => !reused.has(row)) }
}

/**
 * Adds rows stored shared (received entries, baselines) under keys below zero and raises the
 * version bound to the greatest of their versions and `raiseTo` (so `ops` must include the sync
 * state, unless that is 0 or less, as baselines' versions are).
 */
export async function addSharedRows(ops: AtomicOperations, rows: ClientLogRow[], raiseTo = -Infinity): Promise<void> {
    if (rows.length) {
        await assignSharedSeqs(ops, rows)
        await ops.createObjects(CLIENT_LOG_COLLECTIONS.entry, rows as unknown as StoredObject[])
    }
    const greatest = Math.max(raiseTo, greatestVersion(rows))
    if (greatest > 0) {
        await raiseVersionBound(ops, greatest)
    }
}

/** Stores received rows beside `stored` (every row of their objects, as `ops` has them) and compacts those objects, as `planReceivedRows` plans. */
export async function storeReceivedRows(ops: AtomicOperations, fresh: ClientLogRow[], stored: ClientLogRow[]): Promise<void> {
    const { overwrite, add, remove } = planReceivedRows(fresh, stored)
    // No step without a request: nothing to write costs this transaction no idle await.
    if (overwrite.length) {
        await putAll(ops, CLIENT_LOG_COLLECTIONS.entry, overwrite as unknown as StoredObject[])
    }
    if (add.length || overwrite.length) {
        await addSharedRows(ops, add, greatestVersion(overwrite))
    }
    if (remove.length) {
        // Rows read from the store: every one has its key.
        await ops.deleteObjects(CLIENT_LOG_COLLECTIONS.entry, { seq: { $in: remove.map(row => row.seq as number) } })
    }
}
