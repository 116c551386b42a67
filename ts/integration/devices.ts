import StorageManager from '@worldbrain/storex'
import { DexieStorageBackend } from '@worldbrain/storex-backend-dexie'
import inMemory from '@worldbrain/storex-backend-dexie/lib/in-memory'
import { setupSync } from '../setup'
import type { SetupSyncOptions, SyncSetup } from '../setup'
import type { SharedSyncLog } from '../shared-log/types'
import { MemorySharedSyncLog } from '../shared-log/memory'

/** The app schema the scenario tests use: notes, and users with nested emails. */
export function registerTestCollections(storageManager: StorageManager): void {
    storageManager.registry.registerCollections({
        note: {
            version: new Date('2026-01-01'),
            fields: {
                title: { type: 'string' },
                body: { type: 'string', optional: true },
                rank: { type: 'int', optional: true },
                tags: { type: 'json', optional: true },
            },
        },
        user: { version: new Date('2026-01-01'), fields: { name: { type: 'string' } } },
        email: { version: new Date('2026-01-01'), fields: { address: { type: 'string' } }, relationships: [{ childOf: 'user' }] },
        setting: {
            version: new Date('2026-01-01'),
            fields: { scope: { type: 'string' }, key: { type: 'string' }, value: { type: 'json', optional: true } },
            indices: [{ field: ['scope', 'key'], pk: true }],
        },
        localCache: { version: new Date('2026-01-01'), fields: { text: { type: 'string' } } },
    })
}

export const SYNCED = ['note', 'user', 'email', 'setting']

let dbCounter = 0

/** A fresh Dexie (fake-indexeddb) storage manager with the test schema registered. */
export function createDexieStorageManager(options: { dbName?: string } = {}): StorageManager {
    const backend = new DexieStorageBackend({ idbImplementation: inMemory(), dbName: options.dbName ?? `device-${++dbCounter}-${Date.now()}` })
    const storageManager = new StorageManager({ backend })
    registerTestCollections(storageManager)
    return storageManager
}

/**
 * Client backends the scenario suites run over. Each factory returns a storage manager with the
 * test schema registered and not yet initialized.
 */
export const BACKENDS: Record<string, () => StorageManager> = {
    dexie: () => createDexieStorageManager(),
}

/** Device pairs for `describe.each`: same-backend pairs plus cross-backend ones. */
export function backendPairs(): Array<[string, string]> {
    const names = Object.keys(BACKENDS)
    const pairs: Array<[string, string]> = names.map(name => [name, name])
    for (let i = 0; i < names.length; i++) {
        for (let j = i + 1; j < names.length; j++) {
            pairs.push([names[i], names[j]])
        }
    }
    return pairs
}

export interface TestDevice extends SyncSetup {
    storageManager: StorageManager
}

export async function createDevice(options: { sharedLog: SharedSyncLog } & Partial<SetupSyncOptions>): Promise<TestDevice> {
    const storageManager = options.storageManager ?? createDexieStorageManager()
    const setup = await setupSync({ collections: SYNCED, ...options, storageManager })
    return { ...setup, storageManager }
}

/** Several devices sharing one memory log. */
export async function createDevices(count: number, options: Partial<SetupSyncOptions> = {}): Promise<{ devices: TestDevice[]; sharedLog: SharedSyncLog }> {
    const sharedLog = options.sharedLog ?? new MemorySharedSyncLog()
    const devices: TestDevice[] = []
    for (let index = 0; index < count; index++) {
        devices.push(await createDevice({ ...options, sharedLog }))
    }
    return { devices, sharedLog }
}

/** Runs syncNow on each device in order, twice, so every device has seen every change. */
export async function syncAll(devices: TestDevice[]): Promise<void> {
    for (let round = 0; round < 2; round++) {
        for (const device of devices) {
            await device.syncNow()
        }
    }
}

/** All objects of a collection, sorted by JSON, without the library's collections. */
export async function dump(device: TestDevice, collection: string): Promise<unknown[]> {
    const objects = (await device.storageManager.collection(collection).findObjects({})) as unknown[]
    return objects.map(object => JSON.stringify(object, Object.keys(object as object).sort())).sort().map(text => JSON.parse(text))
}
