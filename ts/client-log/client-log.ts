import { putAll } from '../backend/types'
import type { AtomicOperations, BackendAdapter, StoredObject } from '../backend/types'
import type { SyncLogEntry } from '../entries/types'
import { entryId, entryObjectKey } from '../entries/keys'
import { CLIENT_LOG_COLLECTIONS } from './collections'
import { collidingRows, reversioned } from './collisions'
import { obsoleteRows } from './compaction'
import { pushedObjectRows } from './pushed-rows'
import { addSharedRows, storeReceivedRows } from './received-rows'
import { entryToRow, rowToEntry } from './rows'
import type { ClientLogRow } from './rows'
import { RECENT_OWN_ROWS, RecentOwnRows } from './recent-rows'
import type { RowMeta } from './recent-rows'
import { needsWatermark, readWatermark, withSharedFlag, writeWatermark } from './seq'
import { putQuarantine, quarantineRecords } from './quarantine'
import type { QuarantineItem, QuarantineRecord } from './quarantine'
import { greatestVersion, newestVersion, raiseVersionBound } from './version-bound'

/** One `getUnsharedEntries` read: the keys of the rows it returned, in order. */
interface UnsharedRead {
    seqs: number[]
}

export interface ClientSyncLogOptions {
    /** Backend adapter of the app's storage manager (see `createBackendAdapter`). */
    adapter: BackendAdapter
}

export interface QuarantinedEntry {
    entry: SyncLogEntry
    reason: string
    code: string
}

/**
 * The client sync log and sync state, kept as Storex collections in the app's own database.
 * Writes that must be atomic with app writes take the caller's `AtomicOperations`.
 */
export class ClientSyncLog {
    private readonly adapter: BackendAdapter
    /**
     * The row each entry returned by `getUnsharedEntries` was read from, and that read, so that
     * `markAsShared` need not read those rows again and can tell whether the entries are the
     * read's first n (then it records the n-th row's key as the watermark). An own unshared row
     * changes only by being marked shared or compacted away once shared, which the marking
     * transaction sees by its key.
     */
    private readonly unsharedRows = new WeakMap<SyncLogEntry, { row: ClientLogRow; read: UnsharedRead }>()
    /** Own rows pushes marked lately, so that the next push that finds them need not read them. */
    private readonly recentOwnRows = new RecentOwnRows(RECENT_OWN_ROWS)

    constructor(options: ClientSyncLogOptions) {
        this.adapter = options.adapter
    }

    /** Adds entries inside the caller's transaction (own writes: unshared; received: shared). */
    async insertEntries(ops: AtomicOperations, entries: SyncLogEntry[], flags: { shared: boolean; needsIntegration: boolean }): Promise<void> {
        await this.insertRows(ops, entries.map(entry => entryToRow(entry, flags)))
    }

    /**
     * Stores received entries that are held back (not reflected in the database) with their
     * quarantine records, which are how `getHeldEntries` finds them. An entry already stored
     * keeps its row and only gets the record.
     */
    async holdEntries(ops: AtomicOperations, held: Array<{ entry: SyncLogEntry; code: string; reason: string; at: number }>): Promise<void> {
        if (!held.length) {
            return
        }
        const existing = new Set((await this.readRows(ops, held.map(item => entryObjectKey(item.entry)))).map(row => row.id))
        const unique = new Map(held.filter(item => !existing.has(entryId(item.entry))).map(item => [entryId(item.entry), item.entry]))
        await this.insertEntries(ops, [...unique.values()], { shared: true, needsIntegration: true })
        await this.quarantine(ops, held.map(item => ({ id: entryId(item.entry), code: item.code, reason: item.reason, at: item.at, objectKey: entryObjectKey(item.entry) })))
    }

    /**
     * `insertEntries` for a caller that made the rows already (`entryToRow`). Shared rows are
     * given their keys here (set on the rows given) and raise the version bound (so `ops` must
     * include the sync state, unless their versions are all 0, as baselines' are); own rows get
     * the store's next keys.
     */
    async insertRows(ops: AtomicOperations, rows: ClientLogRow[]): Promise<void> {
        const own = rows.filter(row => !row.shared)
        const shared = rows.filter(row => row.shared)
        if (shared.length) {
            await addSharedRows(ops, shared)
        }
        if (own.length) {
            await ops.createObjects(CLIENT_LOG_COLLECTIONS.entry, own as unknown as StoredObject[])
        }
    }

    /**
     * Up to `limit` unshared own entries, in commit order: the rows above the watermark, read as
     * key ranges of the store itself (received rows have keys below zero, so none is read).
     * Push order does not matter to last-write-wins; commit order lets the push mark them by key.
     */
    async getUnsharedEntries(options: { limit: number }): Promise<SyncLogEntry[]> {
        const limit = Math.max(1, options.limit)
        const read: UnsharedRead = { seqs: [] }
        const entries: SyncLogEntry[] = []
        let above = await this.watermark()
        for (;;) {
            const rows = (await this.adapter.findObjects(CLIENT_LOG_COLLECTIONS.entry, { seq: { $gt: above } }, { order: [['seq', 'asc']], limit })) as unknown as ClientLogRow[]
            for (const row of rows) {
                // Above the watermark but shared: marked on its own (a push of entries not read here).
                if (row.shared || entries.length === limit) {
                    continue
                }
                const entry = rowToEntry(row)
                entries.push(entry)
                read.seqs.push(row.seq as number)
                this.unsharedRows.set(entry, { row, read })
            }
            if (entries.length === limit || rows.length < limit) {
                return entries
            }
            above = rows[rows.length - 1].seq as number
        }
    }

    /**
     * Marks pushed entries shared and compacts their objects, in one transaction. Entries that are
     * the first n that one `getUnsharedEntries` returned (a push batch) are marked by recording the
     * greatest of their keys as the watermark: no row is rewritten. Others are rewritten one by one.
     */
    async markAsShared(entries: SyncLogEntry[]): Promise<void> {
        if (!entries.length) {
            return
        }
        const through = this.throughOfRead(entries)
        const marked = await this.adapter.atomic([CLIENT_LOG_COLLECTIONS.entry, CLIENT_LOG_COLLECTIONS.state], async ops => {
            await raiseVersionBound(ops, greatestVersion(entries))
            const current = await this.watermark(ops)
            if (through !== null) {
                const watermark = Math.max(current, through)
                if (watermark > current) {
                    await writeWatermark(ops, watermark)
                }
                const rows = (await this.rowsHeldOrRead(ops, entries)) ?? (await this.readRows(ops, entries.map(entryObjectKey)))
                const pushed = new Set(entries.map(entry => this.unsharedRows.get(entry)!.row.seq as number))
                const { rows: flagged, relogged } = await this.relogCollisions(ops, withSharedFlag(rows, watermark), pushed)
                const obsolete = obsoleteRows(flagged)
                await this.deleteRows(ops, obsolete)
                return { kept: flagged, dropped: [...obsolete, ...relogged] }
            }
            const ids = new Set(entries.map(entry => entryId(entry)))
            const rows = withSharedFlag(await this.readRows(ops, entries.map(entryObjectKey)), current)
            const marking: ClientLogRow[] = []
            const marked = rows.map(row => {
                if (!ids.has(row.id) || row.shared) {
                    return row
                }
                const flagged = { ...row, shared: 1 }
                marking.push(flagged)
                return flagged
            })
            const { rows: after, relogged } = await this.relogCollisions(ops, marked, new Set(marking.map(row => row.seq as number)))
            const gone = new Set<RowMeta>(relogged)
            const changed = marking.filter(row => !gone.has(row))
            const obsolete = obsoleteRows(after)
            const dropped = new Set(obsolete)
            // A row that is about to be deleted need not be rewritten first.
            await putAll(ops, CLIENT_LOG_COLLECTIONS.entry, changed.filter(row => !dropped.has(row)) as unknown as StoredObject[])
            await this.deleteRows(ops, obsolete)
            return { kept: [], dropped: [...changed, ...obsolete, ...relogged] }
        })
        // Only once committed: a body the adapter ran again or rolled back remembers nothing.
        this.recentOwnRows.forget(marked.dropped)
        const dropped = new Set<RowMeta>(marked.dropped)
        this.recentOwnRows.remember(marked.kept.filter(row => !dropped.has(row)))
    }

    /**
     * Logs again, one version later, the pushed own rows whose entry id an earlier own row has
     * too (two tabs in one millisecond: `collidingRows`), and returns the rows as they are then.
     */
    private async relogCollisions<R extends RowMeta>(ops: AtomicOperations, rows: R[], pushedSeqs: Set<number>): Promise<{ rows: Array<R | ClientLogRow>; relogged: R[] }> {
        const colliding = collidingRows(rows, pushedSeqs)
        if (!colliding.length) {
            return { rows, relogged: [] }
        }
        // Pushed rows are whole (held from the read for the push, or read here), values included.
        const taken = new Set(rows.map(row => row.id))
        const fresh = colliding.map(row => reversioned(row as unknown as ClientLogRow, taken))
        await this.deleteRows(ops, colliding)
        await this.insertRows(ops, fresh)
        const gone = new Set<RowMeta>(colliding)
        return { rows: [...rows.filter(row => !gone.has(row)), ...fresh], relogged: colliding }
    }

    /**
     * The key through which `entries` are every unshared row one `getUnsharedEntries` read up to
     * there (its first n, in any order), or null. n distinct rows of one read whose greatest key is
     * the read's n-th are its first n.
     */
    private throughOfRead(entries: SyncLogEntry[]): number | null {
        const first = this.unsharedRows.get(entries[0])
        if (!first || new Set(entries).size !== entries.length) {
            return null
        }
        let greatest = -Infinity
        for (const entry of entries) {
            const held = this.unsharedRows.get(entry)
            if (!held || held.read !== first.read) {
                return null
            }
            greatest = Math.max(greatest, held.row.seq as number)
        }
        return first.read.seqs[entries.length - 1] === greatest ? greatest : null
    }

    /**
     * Every row of the entries' objects, as stored, reading only what is not held from
     * `getUnsharedEntries` or remembered (`pushedObjectRows`); null when the backend cannot list
     * keys or an entry did not come from `getUnsharedEntries`.
     */
    private rowsHeldOrRead(ops: AtomicOperations, entries: SyncLogEntry[]): Promise<RowMeta[] | null> {
        const heldRows: ClientLogRow[] = []
        for (const entry of entries) {
            const row = this.unsharedRows.get(entry)?.row
            if (!row) {
                return Promise.resolve(null)
            }
            heldRows.push(row)
        }
        return pushedObjectRows({ ops, entries, heldRows, recent: this.recentOwnRows })
    }

    /** Every row of the objects, as stored (own rows the watermark covers may still say `shared` 0). */
    private async readRows(ops: AtomicOperations | null, objectKeys: string[]): Promise<ClientLogRow[]> {
        const keys = Array.from(new Set(objectKeys))
        if (!keys.length) {
            return []
        }
        const find = ops ? ops.findObjects : this.adapter.findObjects.bind(this.adapter)
        return (await find(CLIENT_LOG_COLLECTIONS.entry, { objectKey: { $in: keys } })) as unknown as ClientLogRow[]
    }

    /** Every entry held for the given objects, with the held-back flag and `shared` as it stands. */
    async getRowsForObjects(objectKeys: string[], ops?: AtomicOperations): Promise<ClientLogRow[]> {
        const rows = await this.readRows(ops ?? null, objectKeys)
        // The watermark is read only when a row needs it, and no async step is added otherwise:
        // inside a Dexie 2 transaction, an await with no request in flight lets it commit early.
        return needsWatermark(rows) ? withSharedFlag(rows, await this.watermark(ops)) : rows
    }

    /** The push watermark, read in `ops`' transaction when given. */
    private watermark(ops?: AtomicOperations): Promise<number> {
        return readWatermark(ops ? ops.findObjects : this.adapter.findObjects.bind(this.adapter))
    }

    /** Every applied entry (own and received; held-back ones excluded), for full-state reconciliation. */
    async getAllEntries(): Promise<SyncLogEntry[]> {
        const rows = await this.adapter.findObjects(CLIENT_LOG_COLLECTIONS.entry, { needsIntegration: 0 })
        return rows.map(rowToEntry)
    }

    /** Received entries that were held back, oldest first. */
    async getHeldEntries(options: { limit: number }): Promise<SyncLogEntry[]> {
        // Every held row has a quarantine record under its id, naming its object, and the
        // quarantine is small: a read of it plus the rows of the objects it names costs nothing
        // when none is held (the usual case), where an index on the rows would cost every row written.
        const records = await quarantineRecords(this.adapter)
        if (!records.length) {
            return []
        }
        const ids = new Set(records.map(record => record.id))
        const rows = (await this.readRows(null, records.map(record => record.objectKey))).filter(row => ids.has(row.id))
        const held = rows.filter(row => row.needsIntegration).sort((a, b) => a.version - b.version || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        return held.slice(0, options.limit).map(rowToEntry)
    }

    /**
     * Marks held entries integrated. `rows`: the rows the caller read in this transaction (as
     * `getRowsForObjects` returns them); entries found there are updated by key, the rest by id.
     */
    async markIntegrated(ops: AtomicOperations, entries: SyncLogEntry[], rows: ClientLogRow[] = []): Promise<void> {
        if (!entries.length) {
            return
        }
        const seqById = new Map(rows.filter(row => typeof row.seq === 'number').map(row => [row.id, row.seq as number]))
        const seqs: number[] = []
        const unkeyed: Array<Pick<RowMeta, 'id' | 'objectKey'>> = []
        for (const entry of entries) {
            const id = entryId(entry)
            const seq = seqById.get(id)
            if (seq === undefined) {
                unkeyed.push({ id, objectKey: entryObjectKey(entry) })
            } else {
                seqs.push(seq)
            }
        }
        if (unkeyed.length) {
            seqs.push(...(await this.seqsOf(ops, unkeyed)))
        }
        if (seqs.length) {
            await ops.updateObjects(CLIENT_LOG_COLLECTIONS.entry, { seq: { $in: seqs } }, { needsIntegration: 0 })
        }
    }

    /** The keys of the rows with these entry ids, found through their objects (the rows have no index on entry ids). */
    private async seqsOf(ops: AtomicOperations, rows: Array<Pick<RowMeta, 'id' | 'objectKey'>>): Promise<number[]> {
        const ids = new Set(rows.map(row => row.id))
        return (await this.readRows(ops, rows.map(row => row.objectKey))).filter(row => ids.has(row.id)).map(row => row.seq as number)
    }

    /**
     * Drops entries that can no longer change any outcome: shared, integrated, and superseded by
     * a newer entry of the same object field or by a newer create/delete of the object. The
     * newer entry stays, so last-write-wins decides exactly as before.
     */
    async compactObjects(ops: AtomicOperations, objectKeys: string[]): Promise<number> {
        const obsolete = obsoleteRows(await this.getRowsForObjects(objectKeys, ops))
        await this.deleteRows(ops, obsolete)
        return obsolete.length
    }

    /**
     * Stores received rows (`entryToRow`: shared, integrated) and compacts their objects, in the
     * caller's transaction, which must include the sync state. `rows`: every stored row of those
     * objects as the transaction has them now. Ends as adding the rows and then compacting would,
     * with fewer requests (`planReceivedRows`): a row obsolete at once is not written, and a row
     * superseded by a received one is written over.
     */
    storeReceived(ops: AtomicOperations, fresh: ClientLogRow[], rows: ClientLogRow[]): Promise<void> {
        return storeReceivedRows(ops, fresh, rows)
    }

    /** Deletes rows by key where it is known (rows read from the store), else found by entry id. */
    private async deleteRows(ops: AtomicOperations, rows: RowMeta[]): Promise<void> {
        const seqs = rows.filter(row => typeof row.seq === 'number').map(row => row.seq as number)
        const unkeyed = rows.filter(row => typeof row.seq !== 'number')
        if (unkeyed.length) {
            seqs.push(...(await this.seqsOf(ops, unkeyed)))
        }
        if (seqs.length) {
            await ops.deleteObjects(CLIENT_LOG_COLLECTIONS.entry, { seq: { $in: seqs } })
        }
    }

    /** The newest version in the log, so a restarted clock continues past it (`newestVersion`). */
    async getMaxVersion(): Promise<number> {
        return newestVersion(this.adapter, await this.watermark())
    }

    /** How many own entries wait to be pushed (what an app shows as "pending changes"). */
    async countUnshared(): Promise<number> {
        const rows = await this.adapter.findObjects(CLIENT_LOG_COLLECTIONS.entry, { seq: { $gt: await this.watermark() } })
        return rows.filter(row => !row.shared).length
    }

    /** Rows in the log, optionally only those with the given flags (`shared` as it stands). */
    async countEntries(where: { shared?: number; needsIntegration?: number } = {}): Promise<number> {
        const { shared, ...flags } = where
        const rows = (await this.adapter.findObjects(CLIENT_LOG_COLLECTIONS.entry, flags)) as unknown as ClientLogRow[]
        if (shared === undefined) {
            return rows.length
        }
        const flagged = needsWatermark(rows) ? withSharedFlag(rows, await this.watermark()) : rows
        return flagged.filter(row => row.shared === shared).length
    }

    async getState<T>(key: string): Promise<T | null> {
        const rows = await this.adapter.findObjects(CLIENT_LOG_COLLECTIONS.state, { key })
        return rows.length ? (rows[0].value as T) : null
    }

    async setState(key: string, value: unknown, ops?: AtomicOperations): Promise<void> {
        const write = (o: AtomicOperations) => o.putObject(CLIENT_LOG_COLLECTIONS.state, { key, value })
        if (ops) {
            await write(ops)
        } else {
            await this.adapter.atomic([CLIENT_LOG_COLLECTIONS.state], write)
        }
    }

    /** Records held entries; `objectKey` (the entry's object) is how `getHeldEntries` finds the held row. */
    quarantine(ops: AtomicOperations, items: QuarantineRecord[]): Promise<void> {
        return putQuarantine(ops, items)
    }

    async releaseQuarantine(ops: AtomicOperations, ids: string[]): Promise<void> {
        if (ids.length) {
            await ops.deleteObjects(CLIENT_LOG_COLLECTIONS.quarantine, { id: { $in: ids } })
        }
    }

    async getQuarantine(): Promise<QuarantineItem[]> {
        const records = (await this.adapter.findObjects(CLIENT_LOG_COLLECTIONS.quarantine, {})) as unknown as QuarantineRecord[]
        return records.map(({ id, reason, code, at }) => ({ id, reason, code, at }))
    }
}
