import type { SyncSetup } from '../setup'
import type { StoredObject } from '../backend/types'
import { CLIENT_LOG_COLLECTIONS } from '../client-log/collections'
import { rowToEntry } from '../client-log/rows'
import type { ClientLogRow } from '../client-log/rows'
import type { PrimaryKey, SyncLogEntry } from '../entries/types'
import { entryId, objectKey } from '../entries/keys'
import { getPkFields, getSchemaVersion, withoutFields } from '../middleware/registry-info'
import { toWireEntry, utf8Bytes } from './codec'
import type { WireEntry } from './codec'
import { createObjectPager } from './object-pages'
import type { ObjectPager } from './object-pages'

/**
 * The sender's side of what travels: every object of the synced collections with the entries
 * last-write-wins needs, read page by page. An object the client log knows travels as its log
 * entries (the compacted state: the newest entry per field); one made before sync was switched
 * on has none, and travels as a create at version 0, which any real change beats. Then the
 * entries that have no object: tombstones, and entries held back on the sender.
 */

/** Where the sender is in its snapshot; JSON, kept in the resume state. */
export type SnapshotPosition =
    | { phase: 'objects'; collection: number; after: PrimaryKey | null }
    | { phase: 'log'; index: number }
    | { phase: 'end' }

export const START_POSITION: SnapshotPosition = { phase: 'objects', collection: 0, after: null }

export interface SnapshotBatch {
    entries: WireEntry[]
    /** Objects (not tombstones) the batch carries. */
    objects: number
    /** UTF-8 bytes of the batch's entries as JSON. */
    bytes: number
    next: SnapshotPosition
}

export interface SnapshotLimits {
    maxObjects: number
    maxBytes: number
}

/** Version of the creates that stand for objects made before sync: older than any real write. */
export const BASELINE_VERSION = 0

/** The create that stands for an object without log entries. */
export function baselineEntry(options: { collection: string; pk: PrimaryKey; object: StoredObject; pkFields: string[]; deviceId: string; schemaVersion: number }): SyncLogEntry {
    const fields = withoutFields(options.object, options.pkFields)
    for (const [field, value] of Object.entries(fields)) {
        // An unset optional field reads as null on SQLite and as missing on IndexedDB.
        if (value === null) {
            delete fields[field]
        }
    }
    return {
        collection: options.collection,
        pk: options.pk,
        operation: 'create',
        field: null,
        value: fields,
        version: BASELINE_VERSION,
        deviceId: options.deviceId,
        schemaVersion: options.schemaVersion,
    }
}

export class SnapshotReader {
    private readonly pager: ObjectPager
    private readonly schemaVersion: number
    private logOnly: WireEntry[] | null = null

    /**
     * The client log was empty when the snapshot started: the objects then existing have no
     * entries, so their pages skip reading the log.
     */
    logWasEmpty = false

    constructor(private readonly sync: SyncSetup) {
        this.pager = createObjectPager(sync.storageManager, sync.adapter)
        this.schemaVersion = getSchemaVersion(sync.storageManager.registry, sync.collections)
    }

    async counts(): Promise<Array<{ name: string; objects: number }>> {
        const result: Array<{ name: string; objects: number }> = []
        for (const name of this.sync.collections) {
            result.push({ name, objects: await this.pager.count(name) })
        }
        return result
    }

    /** A rough size of the whole transfer, from a sample page of each collection. */
    async estimateBytes(counts: Array<{ name: string; objects: number }>): Promise<number> {
        let total = 0
        for (const { name, objects } of counts) {
            if (!objects) {
                continue
            }
            const sample = await this.readObjects(name, null, 20)
            const bytes = sample.reduce((sum, item) => sum + item.bytes, 0)
            total += sample.length ? Math.round((bytes / sample.length) * objects) : 0
        }
        return total
    }

    /** The batch at `position`, or null when the snapshot is complete. */
    async read(position: SnapshotPosition, limits: SnapshotLimits): Promise<SnapshotBatch | null> {
        let current = position
        for (;;) {
            if (current.phase === 'end') {
                return null
            }
            if (current.phase === 'log') {
                const all = await this.logOnlyEntries()
                if (current.index >= all.length) {
                    return null
                }
                const entries: WireEntry[] = []
                let bytes = 0
                let index = current.index
                while (index < all.length && entries.length < limits.maxObjects) {
                    const size = utf8Bytes(JSON.stringify(all[index]))
                    if (entries.length && bytes + size > limits.maxBytes) {
                        break
                    }
                    entries.push(all[index])
                    bytes += size
                    index++
                }
                return { entries, objects: 0, bytes, next: index >= all.length ? { phase: 'end' } : { phase: 'log', index } }
            }
            const collection = this.sync.collections[current.collection]
            if (collection === undefined) {
                current = { phase: 'log', index: 0 }
                continue
            }
            const items = await this.readObjects(collection, current.after, limits.maxObjects, true)
            if (!items.length) {
                current = { phase: 'objects', collection: current.collection + 1, after: null }
                continue
            }
            const entries: WireEntry[] = []
            let bytes = 0
            let taken = 0
            for (const item of items) {
                if (taken && bytes + item.bytes > limits.maxBytes) {
                    break
                }
                entries.push(...item.entries)
                bytes += item.bytes
                taken++
            }
            const next: SnapshotPosition =
                taken === items.length && items.length < limits.maxObjects
                    ? { phase: 'objects', collection: current.collection + 1, after: null }
                    : { phase: 'objects', collection: current.collection, after: items[taken - 1].pk }
            return { entries, objects: taken, bytes, next }
        }
    }

    /**
     * With `record`, the version-0 creates made up for objects without log entries are also
     * written to this device's log (as shared entries: nothing to push), so that from now on
     * this device, too, sees those objects as existing when another device's edit of one arrives.
     */
    private async readObjects(collection: string, after: PrimaryKey | null, limit: number, record = false): Promise<Array<{ pk: PrimaryKey; entries: WireEntry[]; bytes: number }>> {
        const page = await this.pager.page(collection, after, limit)
        if (!page.length) {
            return []
        }
        const pkFields = getPkFields(this.sync.storageManager.registry, collection)
        const keys = page.map(item => objectKey(collection, item.pk))
        // Objects created after the snapshot started are logged, but their entries are pushed after
        // the handed-over cursor, so the receiver pulls them: a version-0 create is enough here.
        const rows = this.logWasEmpty ? [] : await this.sync.clientLog.getRowsForObjects(keys)
        const byObject = new Map<string, ClientLogRow[]>()
        for (const row of rows) {
            if (row.needsIntegration) {
                continue
            }
            const list = byObject.get(row.objectKey)
            if (list) {
                list.push(row)
            } else {
                byObject.set(row.objectKey, [row])
            }
        }
        const baselines: SyncLogEntry[] = []
        const result = page.map((item, index) => {
            const known = byObject.get(keys[index]) ?? []
            const entries = known.map(rowToEntry)
            if (!entries.some(entry => entry.operation !== 'modify')) {
                const baseline = baselineEntry({ collection, pk: item.pk, object: item.object, pkFields, deviceId: this.sync.deviceId, schemaVersion: this.schemaVersion })
                baselines.push(baseline)
                entries.unshift(baseline)
            }
            const wire = entries.map(toWireEntry)
            return { pk: item.pk, entries: wire, bytes: utf8Bytes(JSON.stringify(wire)) }
        })
        if (record && baselines.length) {
            await this.sync.adapter.atomic([CLIENT_LOG_COLLECTIONS.entry, CLIENT_LOG_COLLECTIONS.state], ops => this.sync.clientLog.insertEntries(ops, baselines, { shared: true, needsIntegration: false }))
        }
        return result
    }

    /**
     * Tombstones and held-back entries of synced collections, in entry-id order. Both are small
     * next to the objects (a delete carries no value), so they are read once, not paged.
     */
    private async logOnlyEntries(): Promise<WireEntry[]> {
        if (!this.logOnly) {
            const synced = new Set(this.sync.collections)
            const deletes = await this.sync.adapter.findObjects(CLIENT_LOG_COLLECTIONS.entry, { operation: 'delete' })
            const held = await this.sync.clientLog.getHeldEntries({ limit: 1_000_000_000 })
            const unique = new Map<string, SyncLogEntry>()
            for (const entry of [...deletes.map(rowToEntry), ...held]) {
                if (synced.has(entry.collection)) {
                    unique.set(entryId(entry), entry)
                }
            }
            this.logOnly = [...unique.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, entry]) => toWireEntry(entry))
        }
        return this.logOnly
    }
}
