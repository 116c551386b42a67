import type { AtomicOperations, BackendAdapter, StoredObject } from '../backend/types'
import type { SyncLogEntry } from '../entries/types'
import { entryFieldKey, entryId, entryObjectKey } from '../entries/keys'
import { compareEntryVersions } from '../entries/order'
import { CLIENT_LOG_COLLECTIONS, CLIENT_LOG_WRITE_COLLECTIONS } from './collections'
import { upgradeClientLogLayout } from './layout'
import { entryIdOfPendingKey, pendingKeyOf, pendingRowOf, versionOfPendingKey } from './pending'
import { entryToRow, rowToEntry } from './rows'
import type { ClientLogRow } from './rows'

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
     * The row each entry returned by `getUnsharedEntries` was read from, so that `markAsShared`
     * need not read those rows again: an own row is never rewritten, only compacted away once
     * shared, which the marking transaction sees by its key being gone from the objectKey index.
     */
    private readonly unsharedRows = new WeakMap<SyncLogEntry, ClientLogRow>()

    constructor(options: ClientSyncLogOptions) {
        this.adapter = options.adapter
    }

    /**
     * Brings a database written by an earlier version of the library to the current client-log
     * layout (once; see ./layout.ts). `setupSync` calls it before the first write.
     */
    async upgradeLayout(): Promise<number> {
        return upgradeClientLogLayout(this.adapter)
    }

    /**
     * Adds entries inside the caller's transaction (own writes: unshared, each with its pending
     * key; received: shared). The transaction must cover `CLIENT_LOG_WRITE_COLLECTIONS`.
     */
    async insertEntries(ops: AtomicOperations, entries: SyncLogEntry[], flags: { shared: boolean; needsIntegration: boolean }): Promise<void> {
        if (!entries.length) {
            return
        }
        const rows = entries.map(entry => entryToRow(entry, flags))
        await ops.createObjects(CLIENT_LOG_COLLECTIONS.entry, rows as unknown as StoredObject[])
        if (!flags.shared) {
            await ops.createObjects(CLIENT_LOG_COLLECTIONS.pending, rows.map(pendingRowOf))
        }
    }

    /**
     * Up to `limit` unshared own entries, oldest version first: the first keys of the pending
     * store (its key order is version order), then their rows by primary key, in one transaction
     * so that keys and rows agree. Push order does not matter to last-write-wins; oldest first
     * keeps a device's history in order on the way.
     */
    async getUnsharedEntries(options: { limit: number }): Promise<SyncLogEntry[]> {
        for (;;) {
            const { entries, dangling } = await this.adapter.atomic(CLIENT_LOG_WRITE_COLLECTIONS, ops => this.readUnshared(ops, options.limit))
            // Keys without rows must not fill the page and stall the push: they are gone now.
            if (entries.length || !dangling) {
                return entries
            }
        }
    }

    private async readUnshared(ops: AtomicOperations, limit: number): Promise<{ entries: SyncLogEntry[]; dangling: number }> {
        const keys = (await ops.findObjects(CLIENT_LOG_COLLECTIONS.pending, {}, { order: [['key', 'asc']], limit })).map(row => row.key as string)
        if (!keys.length) {
            return { entries: [], dangling: 0 }
        }
        const found = (await ops.findObjects(CLIENT_LOG_COLLECTIONS.entry, { id: { $in: keys.map(entryIdOfPendingKey) } })) as unknown as ClientLogRow[]
        const rows = new Map(found.map(row => [row.id, row]))
        const entries: SyncLogEntry[] = []
        const dangling: string[] = []
        for (const key of keys) {
            const row = rows.get(entryIdOfPendingKey(key))
            if (!row) {
                dangling.push(key)
                continue
            }
            const entry = rowToEntry(row)
            this.unsharedRows.set(entry, row)
            entries.push(entry)
        }
        if (dangling.length) {
            // The app deleted log rows under the library: nothing is there to push.
            await ops.deleteObjects(CLIENT_LOG_COLLECTIONS.pending, { key: { $in: dangling } })
        }
        return { entries, dangling: dangling.length }
    }

    /**
     * Marks pushed entries shared and compacts their objects, in one transaction: one bulk delete
     * of their pending keys, one read of the objects' other rows, one bulk delete of the obsolete
     * ones. The entry rows themselves are not rewritten.
     */
    async markAsShared(entries: SyncLogEntry[]): Promise<void> {
        if (!entries.length) {
            return
        }
        const ids = new Set(entries.map(entry => entryId(entry)))
        await this.adapter.atomic(CLIENT_LOG_WRITE_COLLECTIONS, async ops => {
            await ops.deleteObjects(CLIENT_LOG_COLLECTIONS.pending, { key: { $in: entries.map(entry => pendingKeyOf(entry)) } })
            const rows = (await this.rowsHeldOrRead(ops, entries)) ?? ((await ops.findObjects(CLIENT_LOG_COLLECTIONS.entry, { objectKey: { $in: Array.from(new Set(entries.map(entryObjectKey))) } })) as unknown as ClientLogRow[])
            const resolved = await this.resolveShared(ops, rows, ids)
            await this.compactRows(ops, resolved)
        })
    }

    /**
     * Every row of the entries' objects, reading only the rows not already held from
     * `getUnsharedEntries` (found by key through the objectKey index); null when the backend
     * cannot list keys or an entry did not come from `getUnsharedEntries`. Flags as stored.
     */
    private async rowsHeldOrRead(ops: AtomicOperations, entries: SyncLogEntry[]): Promise<ClientLogRow[] | null> {
        const held = new Map<string, ClientLogRow>()
        for (const entry of entries) {
            const row = this.unsharedRows.get(entry)
            if (!row) {
                return null
            }
            held.set(row.id, row)
        }
        const keys = ops.findKeys && (await ops.findKeys(CLIENT_LOG_COLLECTIONS.entry, { objectKey: { $in: Array.from(new Set(entries.map(entryObjectKey))) } }))
        if (!keys) {
            return null
        }
        const rows: ClientLogRow[] = []
        const others: Array<string | number> = []
        for (const key of new Set(keys)) {
            const row = held.get(key as string)
            if (row) {
                rows.push(row)
            } else {
                others.push(key)
            }
        }
        if (others.length) {
            rows.push(...((await ops.findObjects(CLIENT_LOG_COLLECTIONS.entry, { id: { $in: others } })) as unknown as ClientLogRow[]))
        }
        return rows
    }

    /**
     * The rows with their `shared` flag resolved (copies where it changes): an own row stored as
     * 0 is shared once its pending key is gone, and `sharedIds` are shared whatever is stored.
     * Costs nothing when no row is own and stored 0; otherwise one read of the first pending key
     * (rows older than it cannot be pending, which settles the rows of earlier pushes) and one
     * bulk read of the keys of the rest. Inside a transaction, pass its `ops`.
     */
    private async resolveShared(ops: AtomicOperations | null, rows: ClientLogRow[], sharedIds?: Set<string>): Promise<ClientLogRow[]> {
        const find = ops ? ops.findObjects : this.adapter.findObjects.bind(this.adapter)
        const open = rows.filter(row => !row.shared && !sharedIds?.has(row.id))
        let pending = new Set<string>()
        if (open.length) {
            const [first] = await find(CLIENT_LOG_COLLECTIONS.pending, {}, { order: [['key', 'asc']], limit: 1 })
            const floor = first ? versionOfPendingKey(first.key as string) : Infinity
            const candidates = open.filter(row => row.version >= floor)
            if (candidates.length) {
                const found = await find(CLIENT_LOG_COLLECTIONS.pending, { key: { $in: candidates.map(row => pendingKeyOf(row, row.id)) } })
                pending = new Set(found.map(row => entryIdOfPendingKey(row.key as string)))
            }
        } else if (!sharedIds) {
            return rows
        }
        return rows.map(row => (row.shared || pending.has(row.id) ? row : { ...row, shared: 1 }))
    }

    /** Every entry held for the given objects, with the held-back flag and the resolved shared flag. */
    async getRowsForObjects(objectKeys: string[], ops?: AtomicOperations): Promise<ClientLogRow[]> {
        const keys = Array.from(new Set(objectKeys))
        if (!keys.length) {
            return []
        }
        const find = ops ? ops.findObjects : this.adapter.findObjects.bind(this.adapter)
        const rows = (await find(CLIENT_LOG_COLLECTIONS.entry, { objectKey: { $in: keys } })) as unknown as ClientLogRow[]
        return this.resolveShared(ops ?? null, rows)
    }

    /** Every applied entry (own and received; held-back ones excluded), for full-state reconciliation. */
    async getAllEntries(): Promise<SyncLogEntry[]> {
        const rows = await this.adapter.findObjects(CLIENT_LOG_COLLECTIONS.entry, { needsIntegration: 0 })
        return rows.map(rowToEntry)
    }

    /**
     * Received entries that were held back, oldest first. Each has a quarantine record (written
     * in the same transaction), so the quarantine store lists them without an index on the log.
     */
    async getHeldEntries(options: { limit: number }): Promise<SyncLogEntry[]> {
        const ids = (await this.adapter.findObjects(CLIENT_LOG_COLLECTIONS.quarantine, {})).map(row => row.id as string)
        if (!ids.length) {
            return []
        }
        const rows = await this.adapter.findObjects(CLIENT_LOG_COLLECTIONS.entry, { id: { $in: ids } })
        return rows
            .filter(row => row.needsIntegration)
            .map(rowToEntry)
            .sort(compareEntryVersions)
            .slice(0, options.limit)
    }

    async markIntegrated(ops: AtomicOperations, entries: SyncLogEntry[]): Promise<void> {
        if (!entries.length) {
            return
        }
        const ids = entries.map(entry => entryId(entry))
        await ops.updateObjects(CLIENT_LOG_COLLECTIONS.entry, { id: { $in: ids } }, { needsIntegration: 0 })
    }

    /**
     * Drops entries that can no longer change any outcome: shared, integrated, and superseded by
     * a newer entry of the same object field or by a newer create/delete of the object. The
     * newer entry stays, so last-write-wins decides exactly as before.
     */
    async compactObjects(ops: AtomicOperations, objectKeys: string[]): Promise<number> {
        return this.compactRows(ops, await this.getRowsForObjects(objectKeys, ops))
    }

    /**
     * `compactObjects` for a caller that already holds every row of the objects concerned (as
     * they are now, inside its transaction, with resolved shared flags, as `getRowsForObjects`
     * gives them): no second read.
     */
    async compactRows(ops: AtomicOperations, rows: ClientLogRow[]): Promise<number> {
        const obsolete = obsoleteRows(rows)
        if (obsolete.length) {
            await ops.deleteObjects(CLIENT_LOG_COLLECTIONS.entry, { id: { $in: obsolete.map(row => row.id) } })
        }
        return obsolete.length
    }

    /** The newest version in the log, so a restarted clock continues past it. */
    async getMaxVersion(): Promise<number> {
        const rows = await this.adapter.findObjects(CLIENT_LOG_COLLECTIONS.entry, {}, { order: [['version', 'desc']], limit: 1 })
        return rows.length ? (rows[0].version as number) : 0
    }

    /** How many own entries wait to be pushed (what an app shows as "pending changes"). */
    async countUnshared(): Promise<number> {
        return (await this.adapter.findObjects(CLIENT_LOG_COLLECTIONS.pending, {})).length
    }

    /** How many rows the log holds, optionally only those with the given (resolved) flags. */
    async countEntries(where: { shared?: number; needsIntegration?: number } = {}): Promise<number> {
        const { shared, ...stored } = where
        const rows = (await this.adapter.findObjects(CLIENT_LOG_COLLECTIONS.entry, stored)) as unknown as ClientLogRow[]
        if (shared === undefined) {
            return rows.length
        }
        return (await this.resolveShared(null, rows)).filter(row => row.shared === shared).length
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

    async quarantine(ops: AtomicOperations, items: Array<{ id: string; reason: string; code: string; at: number }>): Promise<void> {
        for (const item of items) {
            await ops.putObject(CLIENT_LOG_COLLECTIONS.quarantine, item)
        }
    }

    async releaseQuarantine(ops: AtomicOperations, ids: string[]): Promise<void> {
        if (ids.length) {
            await ops.deleteObjects(CLIENT_LOG_COLLECTIONS.quarantine, { id: { $in: ids } })
        }
    }

    async getQuarantine(): Promise<Array<{ id: string; reason: string; code: string; at: number }>> {
        const rows = await this.adapter.findObjects(CLIENT_LOG_COLLECTIONS.quarantine, {})
        return rows as unknown as Array<{ id: string; reason: string; code: string; at: number }>
    }
}

/**
 * The rows (of whole objects) that compaction drops: shared, integrated, and superseded by a
 * newer entry of the same object field or by a newer create/delete of the object.
 */
export function obsoleteRows(rows: ClientLogRow[]): ClientLogRow[] {
    const newestByField = new Map<string, ClientLogRow>()
    const newestLifecycle = new Map<string, ClientLogRow>()
    for (const row of rows) {
        if (row.needsIntegration) {
            continue
        }
        const fieldKey = entryFieldKey(row)
        const current = newestByField.get(fieldKey)
        if (!current || compareEntryVersions(row, current) > 0) {
            newestByField.set(fieldKey, row)
        }
        if (row.operation !== 'modify') {
            const lifecycle = newestLifecycle.get(row.objectKey)
            if (!lifecycle || compareEntryVersions(row, lifecycle) > 0) {
                newestLifecycle.set(row.objectKey, row)
            }
        }
    }
    return rows.filter(row => {
        if (!row.shared || row.needsIntegration) {
            return false
        }
        if (newestByField.get(entryFieldKey(row)) !== row) {
            return true
        }
        const lifecycle = newestLifecycle.get(row.objectKey)
        return row.operation === 'modify' && !!lifecycle && compareEntryVersions(row, lifecycle) < 0
    })
}
