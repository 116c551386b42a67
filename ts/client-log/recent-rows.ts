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
    /** How many remembered rows each object has, so a push can tell which objects it may find here. */
    private readonly perObject = new Map<string, number>()

    constructor(private readonly capacity: number) {}

    get(seq: number): RowMeta | undefined {
        return this.rows.get(seq)
    }

    /** Whether some row of the object is remembered (its other rows, if any, may not be). */
    hasObject(objectKey: string): boolean {
        return this.perObject.has(objectKey)
    }

    /** Remembers own rows (keys above zero) as they stood in a committed transaction; the oldest go first. */
    remember(rows: Iterable<RowMeta>): void {
        for (const row of rows) {
            const seq = row.seq
            if (typeof seq !== 'number' || seq <= 0) {
                continue
            }
            this.drop(seq)
            this.rows.set(seq, metaOf(row))
            this.perObject.set(row.objectKey, (this.perObject.get(row.objectKey) ?? 0) + 1)
        }
        for (const seq of this.rows.keys()) {
            if (this.rows.size <= this.capacity) {
                break
            }
            this.drop(seq)
        }
    }

    forget(rows: Iterable<RowMeta>): void {
        for (const row of rows) {
            if (typeof row.seq === 'number') {
                this.drop(row.seq)
            }
        }
    }

    private drop(seq: number): void {
        const row = this.rows.get(seq)
        if (!row) {
            return
        }
        this.rows.delete(seq)
        const count = (this.perObject.get(row.objectKey) ?? 1) - 1
        if (count > 0) {
            this.perObject.set(row.objectKey, count)
        } else {
            this.perObject.delete(row.objectKey)
        }
    }
}

function metaOf(row: RowMeta): RowMeta {
    const { seq, id, objectKey, operation, field, version, deviceId, shared, needsIntegration } = row
    return { seq, id, objectKey, operation, field, version, deviceId, shared, needsIntegration }
}
