import type StorageManager from '@worldbrain/storex'
import { createBackendAdapter } from '../backend'
import { putAll } from '../backend/types'
import type { AtomicOperations, BackendAdapter, StoredObject } from '../backend/types'
import { CLIENT_LOG_COLLECTIONS } from '../client-log/collections'
import type { SyncLogEntry } from '../entries/types'
import type { SetupSyncOptions } from '../setup'
import { MemorySharedSyncLog } from '../shared-log/memory'
import type { SharedLogCursor, SharedLogReadResult, SharedSyncLog } from '../shared-log/types'
import { BACKENDS, SYNCED, createDevice, dump } from './devices'
import type { TestDevice } from './devices'

/** A wall clock the test moves by hand, so versions (and ties) are exactly what the test says. */
export class ManualClock {
    constructor(public time = Date.UTC(2026, 10, 23, 12)) {}
    readonly now = (): number => this.time
    advance(ms: number): void {
        this.time += ms
    }
}

/** Device ids in creation order, so tie-breaks by device id are predictable: device-a < device-b < ... */
export function sequentialDeviceIds(): () => string {
    let next = 0
    return () => `device-${String.fromCharCode(97 + next++)}`
}

/** A memory shared log that names devices device-a, device-b, ... */
export function createMemoryLog(options: { compact?: boolean } = {}): MemorySharedSyncLog {
    return new MemorySharedSyncLog({ compact: options.compact, generateDeviceId: sequentialDeviceIds() })
}

/** Deterministic UUID stand-ins per device, distinct across devices. */
export function idGenerator(prefix: string): () => string {
    let next = 0
    return () => `${prefix}-${String(++next).padStart(4, '0')}`
}

/**
 * Devices for one backend pair: device i runs on `pair[0]` when i is even and `pair[1]` when odd,
 * so every pair exercises both directions. `perDevice` adds options for one device (e.g. its clock).
 */
export async function createPairDevices(
    pair: [string, string],
    count: number,
    options: { sharedLog?: SharedSyncLog; clock?: ManualClock; perDevice?: (index: number, storageManager: StorageManager) => Partial<SetupSyncOptions> } = {},
): Promise<{ devices: TestDevice[]; sharedLog: SharedSyncLog }> {
    const sharedLog = options.sharedLog ?? createMemoryLog()
    const devices: TestDevice[] = []
    for (let index = 0; index < count; index++) {
        const storageManager = BACKENDS[pair[index % 2]]()
        devices.push(
            await createDevice({
                sharedLog,
                storageManager,
                generateId: idGenerator(`obj${index}`),
                generateDeviceId: () => `device-${String.fromCharCode(97 + index)}`,
                ...(options.clock ? { now: options.clock.now } : {}),
                ...options.perDevice?.(index, storageManager),
            }),
        )
    }
    return { devices, sharedLog }
}

/** Every synced collection of a device, for whole-database comparisons. */
export async function dumpAll(device: TestDevice, collections: string[] = SYNCED): Promise<Record<string, unknown[]>> {
    const result: Record<string, unknown[]> = {}
    for (const collection of collections) {
        result[collection] = await dump(device, collection)
    }
    return result
}

/** The client log rows of a device (own and received entries). */
export async function logRows(device: TestDevice): Promise<StoredObject[]> {
    return device.adapter.findObjects(CLIENT_LOG_COLLECTIONS.entry, {})
}

/**
 * A shared log that fails on demand, to interrupt a sync pass at a chosen point: after a write
 * was stored (the reply is lost), on a given read call, or delivering each page twice.
 */
export class FaultySharedLog implements SharedSyncLog {
    /** Store the next N writes, then throw as if the reply were lost. */
    failAfterWrites = 0
    /** Throw on the read calls whose (1-based) number is listed. */
    failReads = new Set<number>()
    /** Deliver every page's entries twice in one page. */
    duplicatePages = false
    reads = 0

    constructor(readonly inner: SharedSyncLog) {}

    async registerDevice(options?: { deviceId?: string }): Promise<{ deviceId: string }> {
        return this.inner.registerDevice ? this.inner.registerDevice(options) : { deviceId: options?.deviceId ?? '' }
    }

    async writeEntries(options: { deviceId: string; entries: SyncLogEntry[] }): Promise<void> {
        await this.inner.writeEntries(options)
        if (this.failAfterWrites > 0) {
            this.failAfterWrites--
            throw new Error('connection lost after the write was stored')
        }
    }

    async readEntries(options: { deviceId: string; cursor?: SharedLogCursor | null; limit?: number }): Promise<SharedLogReadResult> {
        this.reads++
        if (this.failReads.has(this.reads)) {
            throw new Error(`connection lost on read ${this.reads}`)
        }
        const page = await this.inner.readEntries(options)
        return this.duplicatePages ? { ...page, entries: [...page.entries, ...page.entries] } : page
    }

    acknowledge(options: { deviceId: string; cursor: SharedLogCursor }): Promise<void> {
        return this.inner.acknowledge(options)
    }
}

/**
 * Wraps a storage manager's backend adapter so writes to app collections inside a transaction
 * can be made to fail, as a full disk or a crashing backend would.
 */
export class FaultyAdapter implements BackendAdapter {
    readonly name: string
    /** Fail this many app-collection writes (each failure aborts its transaction). */
    failWrites = 0
    /** Fail every write to the sync state (the pull cursor) while set: the last write of an apply. */
    failStateWrites = false
    private adapter: BackendAdapter | null = null

    constructor(private readonly storageManager: StorageManager, private readonly appCollections: string[] = SYNCED) {
        this.name = 'faulty'
    }

    /** Made on first use: the backend is ready only after `finishInitialization`. */
    private get inner(): BackendAdapter {
        this.adapter ??= createBackendAdapter(this.storageManager)
        return this.adapter
    }

    atomic<T>(collections: string[], body: (ops: AtomicOperations) => Promise<T>): Promise<T> {
        return this.inner.atomic(collections, ops => body(this.wrap(ops)))
    }

    findObjects(collection: string, where: StoredObject, options?: { limit?: number; order?: Array<[string, 'asc' | 'desc']> }): Promise<StoredObject[]> {
        return this.inner.findObjects(collection, where, options)
    }

    checkWhere(collection: string, where: StoredObject): void {
        this.inner.checkWhere(collection, where)
    }

    prepare(): Promise<void> {
        return this.inner.prepare()
    }

    private check(collection: string): void {
        if (this.failStateWrites && collection === CLIENT_LOG_COLLECTIONS.state) {
            throw new Error('backend failure writing sync state')
        }
        if (this.failWrites > 0 && this.appCollections.includes(collection)) {
            this.failWrites--
            throw new Error(`backend failure writing '${collection}'`)
        }
    }

    private wrap(ops: AtomicOperations): AtomicOperations {
        return {
            createObject: async (collection, object) => (this.check(collection), ops.createObject(collection, object)),
            createObjects: async (collection, objects) => (this.check(collection), ops.createObjects(collection, objects)),
            putObject: async (collection, object) => (this.check(collection), ops.putObject(collection, object)),
            findObjects: (collection, where, options) => ops.findObjects(collection, where, options),
            updateObjects: async (collection, where, updates) => (this.check(collection), ops.updateObjects(collection, where, updates)),
            deleteObjects: async (collection, where) => (this.check(collection), ops.deleteObjects(collection, where)),
            // The bulk and keyed operations too, so faults reach the paths the adapters really take.
            putObjects: async (collection, objects) => (this.check(collection), putAll(ops, collection, objects)),
            insertObject: ops.insertObject && (async (collection, object) => (this.check(collection), ops.insertObject!(collection, object))),
            updateObjectByPk: ops.updateObjectByPk && (async (collection, where, values) => (this.check(collection), ops.updateObjectByPk!(collection, where, values))),
        }
    }
}

/** Runs `syncNow` and returns the error it threw (failing the test if it did not throw). */
export async function syncFails(device: TestDevice): Promise<Error> {
    try {
        await device.syncNow()
    } catch (error) {
        return error as Error
    }
    throw new Error('expected syncNow to fail')
}
