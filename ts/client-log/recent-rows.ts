import type { ClientLogRow } from './rows'

/** What compaction reads of a row: everything but the entry's value, collection, pk and schema version. */
export type RowMeta = Pick<ClientLogRow, 'seq' | 'id' | 'objectKey' | 'operation' | 'field' | 'version' | 'deviceId' | 'shared' | 'needsIntegration'>

/** How many own rows a process remembers: about 170 bytes of heap each (measured; the strings are shared with the rows read). */
export const RECENT_OWN_ROWS = 20_000

/**
 * The own rows a push marked lately, as compaction needs them. An own row never changes once
 * written: its key is never handed out again (the store's key generator; SQLite's AUTOINCREMENT,
 * which `setupSync` checks) and compaction only ever deletes it. So when a later push finds one of
 * these keys among an object's rows (a lookup in its own transaction, which also tells that the
 * row is still there), it need not read the row again: a note created and then edited is looked
 * up at the edit's push and finds its create row here. Received rows are not kept: their keys
 * below zero are reused once the lowest is deleted. A row marked shared without the watermark may
 * be remembered as unshared; compaction then keeps it, which is always allowed.
 */
export class RecentOwnRows {
    private readonly rows = new Map<number, RowMeta>()

    constructor(private readonly capacity: number) {}

    get(seq: number): RowMeta | undefined {
        return this.rows.get(seq)
    }

    /** Remembers own rows (keys above zero) as they stood in a committed transaction; the oldest go first. */
    remember(rows: Iterable<RowMeta>): void {
        for (const row of rows) {
            const seq = row.seq
            if (typeof seq !== 'number' || seq <= 0) {
                continue
            }
            this.rows.delete(seq)
            this.rows.set(seq, metaOf(row))
        }
        for (const seq of this.rows.keys()) {
            if (this.rows.size <= this.capacity) {
                break
            }
            this.rows.delete(seq)
        }
    }

    forget(rows: Iterable<RowMeta>): void {
        for (const row of rows) {
            if (typeof row.seq === 'number') {
                this.rows.delete(row.seq)
            }
        }
    }
}

function metaOf(row: RowMeta): RowMeta {
    const { seq, id, objectKey, operation, field, version, deviceId, shared, needsIntegration } = row
    return { seq, id, objectKey, operation, field, version, deviceId, shared, needsIntegration }
}
