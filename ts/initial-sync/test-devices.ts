import type StorageManager from '@worldbrain/storex'
import { BACKENDS, REOPENABLE_BACKENDS, SYNCED, createDevice, dump } from '../integration/devices'
import type { TestDevice } from '../integration/devices'
import { idGenerator } from '../integration/scenario-helpers'
import type { SetupSyncOptions } from '../setup'
import type { SharedSyncLog } from '../shared-log/types'
import { MemorySharedSyncLog } from '../shared-log/memory'
import type { SyncChannel } from './channel'

/** The scenario schema plus a collection with datetime and json fields. */
export const INITIAL_SYNC_COLLECTIONS = [...SYNCED, 'event']

export function registerEventCollection(storageManager: StorageManager): void {
    storageManager.registry.registerCollections({
        event: {
            version: new Date('2026-01-01'),
            fields: { name: { type: 'string' }, at: { type: 'datetime' }, data: { type: 'json', optional: true } },
        },
    })
}

/** A storage manager of the given backend with the initial-sync schema, not yet set up. */
export function createStorage(backend = 'dexie'): StorageManager {
    const storageManager = BACKENDS[backend]()
    registerEventCollection(storageManager)
    return storageManager
}

export async function createSyncDevice(options: { sharedLog?: SharedSyncLog; storageManager?: StorageManager; backend?: string; name?: string } & Partial<SetupSyncOptions> = {}): Promise<TestDevice> {
    const { backend, name, ...rest } = options
    return createDevice({
        collections: INITIAL_SYNC_COLLECTIONS,
        generateId: idGenerator(name ?? 'obj'),
        ...rest,
        sharedLog: options.sharedLog ?? new MemorySharedSyncLog(),
        storageManager: options.storageManager ?? createStorage(backend),
    })
}

/** Every synced collection in canonical form (Dates as ISO strings through JSON). */
export async function dumpDevice(device: TestDevice): Promise<Record<string, unknown[]>> {
    const result: Record<string, unknown[]> = {}
    for (const collection of INITIAL_SYNC_COLLECTIONS) {
        result[collection] = await dump(device, collection)
    }
    return result
}

/**
 * A database made by the app before it used sync: plain Storex (auto-increment keys), written
 * and closed; `open()` opens it again with the same schema, as the app does once sync is on.
 */
export async function createExistingDexieDatabase(fill: (storageManager: StorageManager) => Promise<void>): Promise<{ open(): StorageManager }> {
    const database = REOPENABLE_BACKENDS.dexie()
    const open = () => {
        const storageManager = database.open()
        registerEventCollection(storageManager)
        return storageManager
    }
    const before = open()
    await before.finishInitialization()
    await fill(before)
    database.close?.(before)
    return { open }
}

/** Adds objects straight into a plain Dexie storage manager's table (fast seeding of big databases). */
export async function bulkAddDexie(storageManager: StorageManager, collection: string, objects: object[]): Promise<void> {
    const dexie = (storageManager.backend as unknown as { dexie: { table(name: string): { bulkAdd(objects: object[]): Promise<unknown> } } }).dexie
    await dexie.table(collection).bulkAdd(objects)
}

/**
 * A channel that passes every message the wrapped side sends through `transform` first: return
 * the message (changed or not), `null` to drop it, or 'cut' to close the channel instead.
 */
export function tapChannel(channel: SyncChannel, transform: (message: Record<string, unknown>) => Record<string, unknown> | null | 'cut'): SyncChannel {
    return {
        async send(message) {
            const result = transform(JSON.parse(JSON.stringify(message)) as Record<string, unknown>)
            if (result === 'cut') {
                await channel.close('cut by the test')
                return
            }
            if (result !== null) {
                await channel.send(result)
            }
        },
        messages: () => channel.messages(),
        close: reason => channel.close(reason),
    }
}
