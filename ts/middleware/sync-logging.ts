import type { StorageRegistry, OperationBatch } from '@worldbrain/storex'
import type { StorageMiddleware, StorageMiddlewareContext } from '@worldbrain/storex/lib/types/middleware'
import type { BackendAdapter, StoredObject } from '../backend/types'
import type { HybridLogicalClock } from '../clock/hlc'
import type { ClientSyncLog } from '../client-log/client-log'
import type { SyncLogEntry } from '../entries/types'
import { CLIENT_LOG_COLLECTIONS } from '../client-log/collections'
import { SyncConfigurationError, UnloggableOperationError } from '../errors'
import { collectCollectionTree, getPkFields, getSchemaVersion, pkWhere, requireObjectPk } from './registry-info'
import { createLogged, deleteLogged, updateLogged } from './logged-writes'
import { WriteEntries } from './write-entries'
import { checkBatchShape, checkOperationShape, isRecord } from './write-checks'
import type { WriteContext } from './logged-writes'

export interface SyncLoggingMiddlewareOptions {
    /** The app's registry (collections must be registered; the middleware reads pks and relationships). */
    registry: StorageRegistry
    /** Backend adapter that provides the transaction (see `createBackendAdapter`). */
    adapter: BackendAdapter
    clientLog: ClientSyncLog
    clock: HybridLogicalClock
    /** Collections whose writes are logged; every other collection passes through unlogged. */
    collections: string[]
    /** This device's id, stamped on every entry. Required before the first logged write. */
    deviceId?: string
    /** Called after a logged write committed, with its entries (e.g. to schedule a sync). Default: none. */
    onLogged?: (entries: SyncLogEntry[]) => void
}

const READ_OPERATIONS = new Set(['findObject', 'findObjects', 'countObjects', 'streamObjects', 'findOneObject', 'findAllObjects'])

/**
 * Executes every write to a synced collection and writes its log entries in one transaction
 * (invariant 1): if the write fails nothing is logged, if logging fails the write is undone.
 * It executes synced writes itself through the backend adapter, so it must be the innermost
 * middleware (the auto-PK middleware goes before it).
 */
export class SyncLoggingMiddleware implements StorageMiddleware {
    private readonly options: SyncLoggingMiddlewareOptions
    private readonly synced: Set<string>
    private enabled = true
    private deviceId: string | null
    /** Computed at the first write: the registry is complete by then. */
    private schemaVersion: number | null = null

    constructor(options: SyncLoggingMiddlewareOptions) {
        this.options = options
        this.synced = new Set(options.collections)
        this.deviceId = options.deviceId ?? null
    }

    /** Switches logging on (optionally for a device id) or off; off means writes pass through unlogged. */
    enable(deviceId?: string): void {
        this.enabled = true
        if (deviceId) {
            this.deviceId = deviceId
        }
    }

    disable(): void {
        this.enabled = false
    }

    get isEnabled(): boolean {
        return this.enabled
    }

    async process(context: StorageMiddlewareContext): Promise<unknown> {
        const [name, ...args] = context.operation as [string, ...unknown[]]
        const passThrough = () => context.next.process({ operation: context.operation })
        if (!this.enabled) {
            return passThrough()
        }
        if (name === 'executeBatch') {
            const batch = args[0] as OperationBatch
            // A malformed step cannot be told apart from a synced one: it is refused (INVALID_OPERATION) too.
            const ours = (step: unknown) => !isRecord(step) || typeof step.collection !== 'string' || this.synced.has(step.collection)
            if (!Array.isArray(batch) || !batch.some(ours)) {
                return passThrough()
            }
            return this.executeBatch(batch)
        }
        const collection = args[0]
        if (typeof collection !== 'string' || !this.synced.has(collection) || READ_OPERATIONS.has(name)) {
            return passThrough()
        }
        const pkFields = () => getPkFields(this.options.registry, collection)
        checkOperationShape(name, collection, args.slice(1))
        switch (name) {
            case 'createObject':
                return this.logged(collectCollectionTree(this.options.registry, collection), async ctx => ({
                    object: await createLogged(ctx, collection, args[1] as StoredObject),
                }))
            case 'updateObject': {
                const where = pkWhere(requireObjectPk(name, collection, args[1] as StoredObject, pkFields()), pkFields())
                return this.logged([collection], ctx => updateLogged(ctx, collection, where, args[2] as StoredObject))
            }
            case 'updateObjects':
                return this.logged([collection], ctx => updateLogged(ctx, collection, args[1] as StoredObject, args[2] as StoredObject))
            case 'deleteObject': {
                const where = pkWhere(requireObjectPk(name, collection, args[1] as StoredObject, pkFields()), pkFields())
                return this.logged([collection], ctx => deleteLogged(ctx, collection, where))
            }
            case 'deleteObjects':
                return this.logged([collection], ctx => deleteLogged(ctx, collection, args[1] as StoredObject))
            default:
                throw new UnloggableOperationError(name, collection, 'only createObject, updateObject(s), deleteObject(s) and executeBatch can be logged')
        }
    }

    private executeBatch(batch: OperationBatch): Promise<{ info: Record<string, { object: StoredObject }> }> {
        checkBatchShape(batch)
        const collections = new Set<string>()
        for (const step of batch) {
            collectCollectionTree(this.options.registry, step.collection, collections)
        }
        return this.logged(collections, async ctx => {
            const info: Record<string, { object: StoredObject }> = {}
            const placeholderCollection = new Map<string, string>()
            for (const step of batch) {
                if (step.operation === 'createObject') {
                    const args: StoredObject = { ...(step.args as StoredObject) }
                    for (const { path, placeholder } of step.replace ?? []) {
                        const source = info[placeholder]
                        const sourceCollection = placeholderCollection.get(placeholder)
                        if (!source || !sourceCollection) {
                            throw new UnloggableOperationError('executeBatch', step.collection, `unknown placeholder '${placeholder}'`)
                        }
                        args[path] = source.object[getPkFields(this.options.registry, sourceCollection)[0]]
                    }
                    const object = await createLogged(ctx, step.collection, args)
                    if (step.placeholder) {
                        info[step.placeholder] = { object }
                        placeholderCollection.set(step.placeholder, step.collection)
                    }
                } else if (step.operation === 'updateObjects') {
                    await updateLogged(ctx, step.collection, step.where, step.updates)
                } else if (step.operation === 'deleteObjects') {
                    await deleteLogged(ctx, step.collection, step.where)
                } else {
                    throw new UnloggableOperationError('executeBatch', (step as { collection: string }).collection, `unknown batch step '${(step as { operation: string }).operation}'`)
                }
            }
            return { info }
        })
    }

    /** Runs `body` and appends the entries it logged, all in one transaction. */
    private async logged<T>(collections: Iterable<string>, body: (ctx: WriteContext) => Promise<T>): Promise<T> {
        const deviceId = this.deviceId
        if (!deviceId) {
            throw new SyncConfigurationError('SyncLoggingMiddleware has no deviceId; call setupSync() or enable(deviceId) first')
        }
        const { registry, adapter, clientLog, clock } = this.options
        const version = clock.tick()
        const schemaVersion = (this.schemaVersion ??= getSchemaVersion(registry, Array.from(this.synced)))
        let logged: SyncLogEntry[] = []
        const result = await adapter.atomic([...collections, CLIENT_LOG_COLLECTIONS.entry], async ops => {
            const entries = new WriteEntries()
            const ctx: WriteContext = {
                ops,
                adapter,
                registry,
                isSynced: collection => this.synced.has(collection),
                log: entry => entries.add({ ...entry, version, deviceId, schemaVersion }),
            }
            const result = await body(ctx)
            logged = entries.list()
            await clientLog.insertEntries(ops, logged, { shared: false, needsIntegration: false })
            return result
        })
        if (logged.length) {
            this.options.onLogged?.(logged)
        }
        return result
    }
}
