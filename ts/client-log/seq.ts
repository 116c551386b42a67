import type { AtomicOperations, StoredObject } from '../backend/types'
import { CLIENT_LOG_COLLECTIONS } from './collections'
import type { ClientLogRow } from './rows'

/**
 * Where the sync state records the push watermark: every own row whose `seq` is at most this
 * has been pushed. Own rows take the store's generated keys, which follow commit order, so a
 * push of the first n unpushed rows it read marks them all by recording the n-th row's key.
 */
export const WATERMARK_STATE_KEY = 'clientLog.pushedThrough'

/** A `findObjects`, of an adapter or of a transaction's operations. */
export type Find = (collection: string, where: StoredObject, options?: { limit?: number; order?: Array<[string, 'asc' | 'desc']> }) => Promise<StoredObject[]>

export async function readWatermark(find: Find): Promise<number> {
    const [state] = await find(CLIENT_LOG_COLLECTIONS.state, { key: WATERMARK_STATE_KEY })
    const value = state?.value
    return typeof value === 'number' && Number.isFinite(value) ? value : 0
}

export async function writeWatermark(ops: AtomicOperations, watermark: number): Promise<void> {
    await ops.putObject(CLIENT_LOG_COLLECTIONS.state, { key: WATERMARK_STATE_KEY, value: watermark })
}

/**
 * Gives rows that are stored shared (received entries, baselines) keys below every key in the
 * store, counting down from -1: a push reads own rows from the watermark up and so never reads
 * them, and the key generator, which only numbers at or above its current value move, never
 * hands an own row a key near them. One read of the lowest key per call.
 */
export async function assignSharedSeqs(ops: AtomicOperations, rows: ClientLogRow[]): Promise<void> {
    if (!rows.length) {
        return
    }
    const [lowest] = await ops.findObjects(CLIENT_LOG_COLLECTIONS.entry, {}, { order: [['seq', 'asc']], limit: 1 })
    let next = Math.min(0, typeof lowest?.seq === 'number' ? lowest.seq : 0) - 1
    for (const row of rows) {
        row.seq = next--
    }
}

/** Rows as `ClientSyncLog` returns them: own rows the watermark covers say `shared` 1 (copies; the rest as given). */
export function withSharedFlag<R extends Pick<ClientLogRow, 'seq' | 'shared'>>(rows: R[], watermark: number): R[] {
    return rows.map(row => (!row.shared && isCovered(row, watermark) ? { ...row, shared: 1 } : row))
}

/** Whether rows may need the watermark to tell whether they are shared (some own row is stored unshared). */
export function needsWatermark(rows: ClientLogRow[]): boolean {
    return rows.some(row => !row.shared && typeof row.seq === 'number' && row.seq > 0)
}

function isCovered(row: Pick<ClientLogRow, 'seq'>, watermark: number): boolean {
    return typeof row.seq === 'number' && row.seq > 0 && row.seq <= watermark
}

/** How many rows one read of a scan takes. */
const SCAN_PAGE = 5_000

/**
 * Calls `visit` with every row of the log whose key is above `above` (every row for null), a
 * page at a time in key order, so that a log of any length is never read whole at once. For what
 * has no index: the rows not yet pushed, and the one-time steps after an upgrade.
 */
export async function scanLog(find: Find, above: number | null, visit: (rows: StoredObject[]) => void): Promise<void> {
    for (let from = above; ; ) {
        const rows = await find(CLIENT_LOG_COLLECTIONS.entry, from === null ? {} : { seq: { $gt: from } }, { order: [['seq', 'asc']], limit: SCAN_PAGE })
        visit(rows)
        if (rows.length < SCAN_PAGE) {
            return
        }
        from = rows[rows.length - 1].seq as number
    }
}
