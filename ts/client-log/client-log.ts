import { putAll } from '../backend/types'
import type { AtomicOperations, BackendAdapter, StoredObject } from '../backend/types'
import type { SyncLogEntry } from '../entries/types'
import { entryId, entryObjectKey, fieldKeyOf } from '../entries/keys'
import { compareEntryVersions } from '../entries/order'
import { CLIENT_LOG_COLLECTIONS } from './collections'
import { NOT_MARKED, entryToRow, rowToEntry } from './rows'
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
     * need not read those rows again: an own unshared row changes only by being marked shared
     * (idempotent) or compacted away once shared, which the marking transaction sees by its key.
     */
    private readonly unsharedRows = new WeakMap<SyncLogEntry, ClientLogRow>()

    constructor(options: ClientSyncLogOptions) {
        this.adapter = options.adapter
    }

    /** Adds entries inside the caller's transaction (own writes: unshared; received: shared). */
    async insertEntries(ops: AtomicOperations, entries: SyncLogEntry[], flags: { shared: boolean; needsIntegration: boolean }): Promise<void> {
        await this.insertRows(ops, entries.map(entry => entryToRow(entry, flags)))
    }

    /** `insertEntries` for a caller that made the rows already (`entryToRow`). */
    async insertRows(ops: AtomicOperations, rows: ClientLogRow[]): Promise<void> {
        await ops.createObjects(CLIENT_LOG_COLLECTIONS.entry, rows as unknown as StoredObject[])
    }

    /**
     * Up to `limit` unshared own entries, sorted by version. Not ordered by the backend: an order
     * on another field than the where makes Dexie read every unshared row before it applies the
     * limit, so a push of n entries read O(n²) rows. Push order does not matter to last-write-wins,
     * and on IndexedDB the `shared` index lists rows by id, which for own entries is version order.
     */
    async getUnsharedEntries(options: { limit: number }): Promise<SyncLogEntry[]> {
        const rows = await this.adapter.findObjects(CLIENT_LOG_COLLECTIONS.entry, { pendingVersion: { $gt: 0 } }, { order: [['pendingVersion', 'asc']], limit: options.limit })
        return rows.map(stored => {
            const entry = rowToEntry(stored)
            this.unsharedRows.set(entry, stored as unknown as ClientLogRow)
            return entry
        })
    }

    /**
     * Marks pushed entries shared and compacts their objects, in one transaction: one read of the
     * objects' rows, one bulk put of the changed rows, one bulk delete of the obsolete ones.
     */
    async markAsShared(entries: SyncLogEntry[]): Promise<void> {
        if (!entries.length) {
            return
        }
        const ids = new Set(entries.map(entry => entryId(entry)))
        await this.adapter.atomic([CLIENT_LOG_COLLECTIONS.entry], async ops => {
            const rows = (await this.rowsHeldOrRead(ops, entries)) ?? (await this.getRowsForObjects(entries.map(entryObjectKey), ops))
            const changed: ClientLogRow[] = []
            const after = rows.map(row => {
                if (!ids.has(row.id) || (row.shared && !row.pendingVersion)) {
                    return row
                }
                const marked = { ...row, shared: 1, pendingVersion: NOT_MARKED, heldVersion: row.heldVersion ?? NOT_MARKED }
                changed.push(marked)
                return marked
            })
            const obsolete = new Set(obsoleteRows(after).map(row => row.id))
            // A row that is about to be deleted need not be rewritten first.
            await putAll(ops, CLIENT_LOG_COLLECTIONS.entry, changed.filter(row => !obsolete.has(row.id)) as unknown as StoredObject[])
            if (obsolete.size) {
                await ops.deleteObjects(CLIENT_LOG_COLLECTIONS.entry, { id: { $in: [...obsolete] } })
            }
        })
    }

    /**
     * Every row of the entries' objects, reading only the rows not already held from
     * `getUnsharedEntries` (found by key through the objectKey index); null when the backend
     * cannot list keys or an entry did not come from `getUnsharedEntries`.
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
        const toLookUp = objectsWithOtherRows(entries)
        const keys = !toLookUp.length ? [] : ops.findKeys && (await ops.findKeys(CLIENT_LOG_COLLECTIONS.entry, { objectKey: { $in: toLookUp } }))
        if (!keys) {
            return null
        }
        const rows: ClientLogRow[] = []
        const others: Array<string | number> = []
        const lookedUp = new Set(toLookUp)
        const created = [...held.values()].filter(row => !lookedUp.has(row.objectKey)).map(row => row.id)
        if (created.length) {
            // An object whose one entry here is its create has that row only. Whether it is still
            // there (another pass may have pushed and compacted it) is a key check: the rows of
            // one push are a device's consecutive versions, so one probe of their key range.
            const existing = ops.findKeys && (await ops.findKeys(CLIENT_LOG_COLLECTIONS.entry, { id: { $in: created } }))
            if (existing) {
                rows.push(...existing.map(id => held.get(id as string)!))
            } else {
                others.push(...created)
            }
        }
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

    /** Every entry held for the given objects, with the held-back flag. */
    async getRowsForObjects(objectKeys: string[], ops?: AtomicOperations): Promise<ClientLogRow[]> {
        const keys = Array.from(new Set(objectKeys))
        if (!keys.length) {
            return []
        }
        const find = ops ? ops.findObjects : this.adapter.findObjects.bind(this.adapter)
        const rows = await find(CLIENT_LOG_COLLECTIONS.entry, { objectKey: { $in: keys } })
        return rows as unknown as ClientLogRow[]
    }

    /** Every applied entry (own and received; held-back ones excluded), for full-state reconciliation. */
    async getAllEntries(): Promise<SyncLogEntry[]> {
        const rows = await this.adapter.findObjects(CLIENT_LOG_COLLECTIONS.entry, { needsIntegration: 0 })
        return rows.map(rowToEntry)
    }

    /** Received entries that were held back, oldest first. */
    async getHeldEntries(options: { limit: number }): Promise<SyncLogEntry[]> {
        const rows = await this.adapter.findObjects(CLIENT_LOG_COLLECTIONS.entry, { heldVersion: { $gt: 0 } }, { order: [['heldVersion', 'asc']], limit: options.limit })
        return rows.map(rowToEntry)
    }

    async markIntegrated(ops: AtomicOperations, entries: SyncLogEntry[]): Promise<void> {
        if (!entries.length) {
            return
        }
        const ids = entries.map(entry => entryId(entry))
        await ops.updateObjects(CLIENT_LOG_COLLECTIONS.entry, { id: { $in: ids } }, { needsIntegration: 0, heldVersion: NOT_MARKED })
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
     * they are now, inside its transaction): no second read.
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
        return (await this.adapter.findObjects(CLIENT_LOG_COLLECTIONS.entry, { pendingVersion: { $gt: 0 } })).length
    }

    async countEntries(where: { shared?: number; needsIntegration?: number } = {}): Promise<number> {
        return (await this.adapter.findObjects(CLIENT_LOG_COLLECTIONS.entry, where)).length
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
 * The objects of pushed entries that may have rows besides those entries, i.e. all but those
 * whose only entry in the batch is their create. An object's create is its first entry unless
 * its key is used again after a delete (or collides with another device's); what such an older
 * life left behind is compacted the next time the object is (a later push of a change to it, or
 * a pull that touches it), so compaction drops exactly as much, only later, and a batch of new
 * objects costs no lookup per object.
 */
function objectsWithOtherRows(entries: SyncLogEntry[]): string[] {
    const onlyCreate = new Map<string, boolean>()
    for (const entry of entries) {
        const key = entryObjectKey(entry)
        onlyCreate.set(key, !onlyCreate.has(key) && entry.operation === 'create')
    }
    return [...onlyCreate].filter(([, created]) => !created).map(([key]) => key)
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
        const fieldKey = fieldKeyOf(row.objectKey, row)
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
        if (newestByField.get(fieldKeyOf(row.objectKey, row)) !== row) {
            return true
        }
        const lifecycle = newestLifecycle.get(row.objectKey)
        return row.operation === 'modify' && !!lifecycle && compareEntryVersions(row, lifecycle) < 0
    })
}
