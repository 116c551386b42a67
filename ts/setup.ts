import type StorageManager from '@worldbrain/storex'
import type { StorageRegistry } from '@worldbrain/storex'
import type { StorageMiddleware } from '@worldbrain/storex/lib/types/middleware'
import { createBackendAdapter } from './backend'
import { openDexieDatabase } from './backend/dexie-upgrade'
import type { BackendAdapter } from './backend/types'
import { HybridLogicalClock } from './clock/hlc'
import { ClientSyncLog } from './client-log/client-log'
import { CLIENT_LOG_COLLECTIONS, prepareClientLogCollections, registerClientLogCollections } from './client-log/collections'
import { moveLegacyClientLogRows } from './client-log/legacy-move'
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
import { SetupGuardMiddleware } from './middleware/setup-guard'
import { checkNotInitialized, validateSetupOptions } from './setup-options'
import { v4 as uuidv4 } from 'uuid'

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
    /** Generates this device's id on its first start (kept in the sync state after). Default: uuid v4. */
    generateDeviceId?: () => string
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
    /** Most entries per push request (a whole number ≥ 1). Default: 500. */
    uploadBatchSize?: number
    /** Most JSON bytes per push request (≥ 1024). Default: 1 MiB. */
    uploadBatchBytes?: number
    /** Most entries per pull request (a whole number ≥ 1). Default: 500. */
    downloadBatchSize?: number
    /** Transform or drop (null) own entries before they are sent. */
    preSend?: EntryProcessor
    /** Transform or drop (null) received entries before they are applied. */
    postReceive?: EntryProcessor
}

export interface SyncSetup {
    /** This device's id: created locally on its first start, kept in the sync state. */
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
    storageManager: StorageManager
    /** The synced collections, as given. */
    collections: string[]
    reconciler: Reconciler
}

const DEVICE_ID_KEY = 'deviceId'

/** What setupSync knows of each storage manager it was called on. */
interface SetupRecord {
    status: 'running' | 'ready' | 'failed'
    /** Log collections and auto-PK registered. */
    registered: boolean
    /** Storex's initialization finished (it must not run twice). */
    initialized: boolean
    collections: string[]
    autoPkMiddleware: CustomAutoPkMiddleware | null
}

const setups = new WeakMap<StorageManager, SetupRecord>()

/**
 * The one call an app makes: registers the log collections, finishes initialization, prepares
 * the backend, restores or creates the device id, installs auto-PK and logging middleware.
 * It needs no network: the shared log learns the device on the first sync pass that reaches it.
 */
export async function setupSync(options: SetupSyncOptions): Promise<SyncSetup> {
    validateSetupOptions(options)
    const { storageManager } = options
    const collections = [...options.collections]
    const previous = setups.get(storageManager)
    if (previous && previous.status !== 'failed') {
        throw new SyncConfigurationError(
            `setupSync: option 'storageManager' already has sync ${previous.status === 'ready' ? 'set up' : 'being set up'}; call setupSync once per storage manager`,
            { option: 'storageManager' },
        )
    }
    if (previous && previous.collections.join('\n') !== collections.join('\n')) {
        throw new SyncConfigurationError(`setupSync: option 'collections' differs from the failed setup's; a retry must sync the same collections`, { option: 'collections' })
    }
    if (!previous) {
        checkNotInitialized(storageManager)
    }
    const record: SetupRecord = previous ?? { status: 'running', registered: false, initialized: false, collections, autoPkMiddleware: null }
    record.status = 'running'
    setups.set(storageManager, record)

    const appMiddleware = options.middleware ?? []
    const guard = new SetupGuardMiddleware({ collections })
    storageManager.setMiddleware([...appMiddleware, guard])
    try {
        const setup = await install(options, collections, record)
        storageManager.setMiddleware([...appMiddleware, ...(setup.autoPkMiddleware ? [setup.autoPkMiddleware] : []), setup.loggingMiddleware])
        record.status = 'ready'
        return setup
    } catch (error) {
        guard.failed(error)
        record.status = 'failed'
        throw error
    }
}

async function install(options: SetupSyncOptions, collections: string[], record: SetupRecord): Promise<SyncSetup> {
    const { storageManager, sharedLog } = options
    const registry = storageManager.registry
    // Each step is recorded, so a retry after a failure (e.g. the database would not open) redoes
    // only what did not happen: Storex's initialization runs once per manager.
    if (!record.registered) {
        registerClientLogCollections(registry)
        record.autoPkMiddleware = options.autoPk === false ? null : new CustomAutoPkMiddleware({ collections, generateId: options.generateId })
        record.autoPkMiddleware?.setup({ registry })
        record.registered = true
    }
    if (!record.initialized) {
        await storageManager.finishInitialization()
        record.initialized = true
        refuseLateCollections(registry)
    }
    // Opened here rather than at the first write: on Node, an upgrade of an existing Dexie
    // database (adding the log) needs a stand-in `navigator` while it opens.
    await openDexieDatabase(storageManager)
    const autoPkMiddleware = record.autoPkMiddleware

    const adapter = options.backendAdapter ?? createBackendAdapter(storageManager)
    await adapter.prepare()
    await prepareClientLogCollections(adapter, registry)
    const clientLog = new ClientSyncLog({ adapter })
    await moveLegacyClientLogRows(adapter, clientLog)
    const clock =
        options.clock ??
        new HybridLogicalClock({ now: options.now, maxDriftMs: options.maxDriftMs, lastVersion: await clientLog.getMaxVersion() })

    sharedLog.attachClient?.({
        getFullState: () => clientLog.getAllEntries(),
        getState: key => clientLog.getState(`sharedLog.${key}`),
        setState: (key, value) => clientLog.setState(`sharedLog.${key}`, value),
    })
    let deviceId = await clientLog.getState<string>(DEVICE_ID_KEY)
    if (!deviceId) {
        deviceId = (options.generateDeviceId ?? uuidv4)()
        if (typeof deviceId !== 'string' || deviceId === '') {
            throw new SyncConfigurationError(`setupSync: option 'generateDeviceId' returned ${JSON.stringify(deviceId)}, not a non-empty string`, { option: 'generateDeviceId' })
        }
        await clientLog.setState(DEVICE_ID_KEY, deviceId)
    }

    const events = new SyncEvents()
    const loggingMiddleware = new SyncLoggingMiddleware({
        registry,
        adapter,
        clientLog,
        clock,
        collections,
        deviceId,
        onLogged: entries => events.emit('logged', { entries }),
    })
    const reconciler = options.reconciler ?? reconcileLww
    const pass = new SyncPass({
        registry,
        adapter,
        clientLog,
        sharedLog,
        clock,
        reconciler,
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
        storageManager,
        collections,
        reconciler,
    }
}

/**
 * The backend's schema is fixed once initialization finished, so a collection registered later
 * would fail inside the backend at its first write; refuse the registration itself instead.
 */
function refuseLateCollections(registry: StorageRegistry): void {
    registry.on('registered-collection', ({ collection }: { collection: { name?: string } }) => {
        throw new SyncConfigurationError(
            `Collection '${collection.name}' was registered after setupSync; register every collection before calling setupSync`,
        )
    })
}
