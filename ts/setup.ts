import type StorageManager from '@worldbrain/storex'
import type { StorageMiddleware } from '@worldbrain/storex/lib/types/middleware'
import { createBackendAdapter } from './backend'
import type { BackendAdapter } from './backend/types'
import { HybridLogicalClock } from './clock/hlc'
import { ClientSyncLog } from './client-log/client-log'
import { registerClientLogCollections } from './client-log/collections'
import { CustomAutoPkMiddleware } from './middleware/auto-pk'
import { SyncLoggingMiddleware } from './middleware/sync-logging'
import { getSchemaVersion } from './middleware/registry-info'
import { reconcileLww } from './reconcile/lww'
import type { Reconciler } from './reconcile/types'
import type { SharedSyncLog } from './shared-log/types'
import { SyncPass } from './sync/sync-pass'
import type { EntryProcessor, SyncPassResult } from './sync/sync-pass'
import { SyncEvents } from './sync/events'
import { SyncConfigurationError } from './errors'

export interface SetupSyncOptions {
    /** The app's storage manager: collections registered, `finishInitialization` not yet called. */
    storageManager: StorageManager
    /** Collections to sync. Their writes are logged; other collections are left alone. */
    collections: string[]
    /** Where devices meet: memory, Storex, HTTP (the sync service) or your own backend. */
    sharedLog: SharedSyncLog
    /** Give auto-generated primary keys of synced collections UUIDs. Default: true. */
    autoPk?: boolean
    /** Generates UUID keys. Default: uuid v4. */
    generateId?: () => string
    /** Wall clock in ms. Default: `Date.now`. */
    now?: () => number
    /** A ready clock (overrides `now`/`maxDriftMs`). Default: a HybridLogicalClock restored from the log. */
    clock?: HybridLogicalClock
    /** Received versions further ahead of the wall clock are held back. Default: 5 minutes. */
    maxDriftMs?: number
    /** Merge strategy. Default: `reconcileLww` (field-level last-write-wins). */
    reconciler?: Reconciler
    /** Backend capabilities. Default: picked from the backend (Dexie, or SQLite through TypeORM). */
    backendAdapter?: BackendAdapter
    /** App middleware that runs before the library's (outermost first). Default: none. */
    middleware?: StorageMiddleware[]
    /** Most entries per push request. Default: 500. */
    uploadBatchSize?: number
    /** Most JSON bytes per push request. Default: 1 MiB. */
    uploadBatchBytes?: number
    /** Most entries per pull request. Default: 500. */
    downloadBatchSize?: number
    /** Transform or drop (null) own entries before they are sent. */
    preSend?: EntryProcessor
    /** Transform or drop (null) received entries before they are applied. */
    postReceive?: EntryProcessor
}

export interface SyncSetup {
    deviceId: string
    /** One pass: push local changes, pull and apply other devices' changes. */
    syncNow(): Promise<SyncPassResult>
    /** Only the push half of a pass (e.g. before going offline); serialized with other passes. */
    push(): Promise<number>
    /** Only the pull half of a pass (receive and apply); serialized with other passes. */
    pull(): Promise<{ pulled: number; applied: number }>
    /** Re-applies held-back entries (call after a schema change). Returns how many were applied. */
    retryQuarantined(): Promise<number>
    events: SyncEvents
    clientLog: ClientSyncLog
    clock: HybridLogicalClock
    loggingMiddleware: SyncLoggingMiddleware
    autoPkMiddleware: CustomAutoPkMiddleware | null
    adapter: BackendAdapter
    sharedLog: SharedSyncLog
}

const DEVICE_ID_KEY = 'deviceId'

/**
 * The one call an app makes: registers the log collections, finishes initialization, prepares
 * the backend, restores or registers the device, installs auto-PK and logging middleware.
 */
export async function setupSync(options: SetupSyncOptions): Promise<SyncSetup> {
    const { storageManager, collections, sharedLog } = options
    const registry = storageManager.registry
    for (const collection of collections) {
        if (!registry.collections[collection]) {
            throw new SyncConfigurationError(`setupSync: collection '${collection}' is not registered`)
        }
    }
    registerClientLogCollections(registry)
    const autoPkMiddleware = options.autoPk === false ? null : new CustomAutoPkMiddleware({ collections, generateId: options.generateId })
    autoPkMiddleware?.setup({ registry })
    await storageManager.finishInitialization()

    const adapter = options.backendAdapter ?? createBackendAdapter(storageManager)
    await adapter.prepare()
    const clientLog = new ClientSyncLog({ adapter })
    const clock =
        options.clock ??
        new HybridLogicalClock({ now: options.now, maxDriftMs: options.maxDriftMs, lastVersion: await clientLog.getMaxVersion() })

    sharedLog.attachClient?.({
        getFullState: () => clientLog.getAllEntries(),
        getState: key => clientLog.getState(`sharedLog.${key}`),
        setState: (key, value) => clientLog.setState(`sharedLog.${key}`, value),
    })
    let deviceId = await clientLog.getState<string>(DEVICE_ID_KEY)
    if (deviceId) {
        await sharedLog.registerDevice({ deviceId })
    } else {
        deviceId = (await sharedLog.registerDevice()).deviceId
        await clientLog.setState(DEVICE_ID_KEY, deviceId)
    }

    const loggingMiddleware = new SyncLoggingMiddleware({ registry, adapter, clientLog, clock, collections, deviceId })
    storageManager.setMiddleware([...(options.middleware ?? []), ...(autoPkMiddleware ? [autoPkMiddleware] : []), loggingMiddleware])

    const events = new SyncEvents()
    const pass = new SyncPass({
        registry,
        adapter,
        clientLog,
        sharedLog,
        clock,
        reconciler: options.reconciler ?? reconcileLww,
        deviceId,
        collections,
        localSchemaVersion: getSchemaVersion(registry, collections),
        now: options.now ?? Date.now,
        events,
        uploadBatchSize: options.uploadBatchSize,
        uploadBatchBytes: options.uploadBatchBytes,
        downloadBatchSize: options.downloadBatchSize,
        preSend: options.preSend,
        postReceive: options.postReceive,
    })
    // Passes never overlap: a second call waits for the running one, then runs its own.
    let running: Promise<unknown> = Promise.resolve()
    const serialized = <T>(task: () => Promise<T>): Promise<T> => {
        const result = running.then(task, task)
        running = result.catch(() => undefined)
        return result
    }
    return {
        deviceId,
        syncNow: () => serialized(() => pass.run()),
        push: () => serialized(() => pass.push()),
        pull: () => serialized(() => pass.pull()),
        retryQuarantined: () => serialized(() => pass.retryHeld()),
        events,
        clientLog,
        clock,
        loggingMiddleware,
        autoPkMiddleware,
        adapter,
        sharedLog,
    }
}
