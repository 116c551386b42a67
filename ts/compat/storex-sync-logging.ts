import type StorageManager from '@worldbrain/storex'
import type { StorageMiddlewareContext } from '@worldbrain/storex/lib/types/middleware'
import { setupSync } from '../setup'
import type { SyncSetup } from '../setup'
import type { SharedSyncLog } from '../shared-log/types'
import type { PrimaryKey } from '../entries/types'

/**
 * Thin adapters that put our logging where storex-sync 0.1.1's logging-middleware tests expect
 * theirs: `ClientSyncLogStorage` (set up by `finishInitialization`, read with
 * `getEntriesCreatedAfter`) and `SyncLoggingMiddleware` (with its overridable `_getNow`).
 * Behind them is a real `setupSync` on the test's own storage manager.
 */

interface Device {
    setup?: SyncSetup
    /** storex-sync's `_getNow`, assigned after setup; our clock reads it on every write. */
    now: () => number
    /** storex-sync's CustomAutoPk `pkGenerator`, assigned after setup. */
    generateId?: () => string
}

const devices = new WeakMap<StorageManager, Device>()
/** Registry -> its storage manager (storex-sync's CustomAutoPk is set up with the registry only). */
const managers = new WeakMap<object, StorageManager>()

function device(storageManager: StorageManager): Device {
    let found = devices.get(storageManager)
    if (!found) {
        found = { now: Date.now }
        devices.set(storageManager, found)
    }
    return found
}

/** storex-sync 0.1.1's client log entry, as its tests read it back. */
export interface StorexSyncClientEntry {
    id: string
    createdOn: number
    sharedOn: number | null
    needsIntegration: boolean
    collection: string
    pk: PrimaryKey
    operation: string
    field?: string
    value?: unknown
}

/** How the adapters set up sync when the test calls `finishInitialization`. */
export interface AdapterConfig {
    /** setupSync's `autoPk`: the logging tests give explicit numeric ids; the integration tests use storex-sync's CustomAutoPk. */
    autoPk: boolean
    /** The shared log the device syncs through. */
    sharedLog: () => SharedSyncLog
}

/** A `ClientSyncLogStorage` stand-in class bound to one configuration. */
export function clientSyncLogStorageAdapter(config: AdapterConfig) {
    return class ClientSyncLogStorageAdapter {
        readonly storageManager: StorageManager

        constructor(options: { storageManager: StorageManager }) {
            const storageManager = options.storageManager
            this.storageManager = storageManager
            managers.set(storageManager.registry, storageManager)
            const state = device(storageManager)
            // The tests call finishInitialization next; setupSync does it (and registers our log).
            const manager = storageManager as unknown as { finishInitialization: () => Promise<void> }
            manager.finishInitialization = async () => {
                delete (manager as { finishInitialization?: unknown }).finishInitialization
                state.setup = await setupSync({
                    storageManager,
                    collections: Object.keys(storageManager.registry.collections),
                    sharedLog: config.sharedLog(),
                    autoPk: config.autoPk,
                    generateId: () => (state.generateId ?? defaultId)(),
                    now: () => state.now(),
                })
            }
        }

        /** Our client log in storex-sync's shape, oldest first (`createdOn` is our version). */
        async getEntriesCreatedAfter(timestamp: number): Promise<StorexSyncClientEntry[]> {
            const entries = await requireSetup(this.storageManager).clientLog.getAllEntries()
            return entries
                .filter(entry => entry.version >= timestamp)
                .map((entry, index) => ({ entry, index }))
                .sort((a, b) => a.entry.version - b.entry.version || a.index - b.index)
                .map(({ entry }) => ({
                    id: `${entry.deviceId}:${entry.version}:${entry.collection}:${JSON.stringify(entry.pk)}:${entry.field ?? ''}`,
                    createdOn: entry.version,
                    sharedOn: null,
                    needsIntegration: false,
                    collection: entry.collection,
                    pk: entry.pk,
                    operation: entry.operation,
                    ...(entry.operation === 'modify' ? { field: entry.field as string, value: entry.value } : {}),
                    ...(entry.operation === 'create' ? { value: entry.value } : {}),
                }))
        }
    }
}

let ids = 0
const defaultId = () => `id-${++ids}`

function requireSetup(storageManager: StorageManager): SyncSetup {
    const setup = device(storageManager).setup
    if (!setup) {
        throw new Error('storex-sync adapter: the storage manager has no sync set up (finishInitialization was not called)')
    }
    return setup
}

/** storex-sync's `CustomAutoPkMiddleware`: its key generator feeds setupSync's auto-PK. */
export class CustomAutoPkMiddlewareAdapter {
    private storageManager: StorageManager | null = null

    constructor(private readonly options: { pkGenerator: () => string }) {}

    /** storex-sync configures it with the registry; setupSync already set auto-PK up on every synced collection. */
    setup(options: { storageRegistry: unknown; collections: string[] }): void {
        const storageManager = managers.get(options.storageRegistry as object)
        if (!storageManager) {
            throw new Error('CustomAutoPkMiddlewareAdapter: unknown registry (make the ClientSyncLogStorage first)')
        }
        this.storageManager = storageManager
        device(storageManager).generateId = this.options.pkGenerator
    }

    /** Runs our auto-PK middleware in this middleware's place. */
    process(context: StorageMiddlewareContext): Promise<unknown> {
        if (!this.storageManager) {
            throw new Error('CustomAutoPkMiddlewareAdapter: setup() was not called')
        }
        const autoPk = requireSetup(this.storageManager).autoPkMiddleware
        return (autoPk ? autoPk.process(context) : context.next.process({ operation: context.operation })) as Promise<unknown>
    }
}

/** storex-sync's `doSync`: one pass of the device's own sync. */
export async function doSyncAdapter(options: { storageManager: StorageManager }): Promise<void> {
    await requireSetup(options.storageManager).syncNow()
}

export class SyncLoggingMiddlewareAdapter {
    private readonly storageManager: StorageManager

    constructor(options: { storageManager: StorageManager; includeCollections: string[] }) {
        this.storageManager = options.storageManager
    }

    set _getNow(now: () => number) {
        device(this.storageManager).now = now
    }

    get _getNow(): () => number {
        return device(this.storageManager).now
    }

    process(context: StorageMiddlewareContext): Promise<unknown> {
        return requireSetup(this.storageManager).loggingMiddleware.process(context)
    }
}
