import { obsoleteRows } from './compaction'
import type { ClientLogRow } from './rows'

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
