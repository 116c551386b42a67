import fs from 'fs'
import os from 'os'
import path from 'path'
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

let sqliteCounter = 0

/**
 * A fresh SQLite storage manager (storex-backend-typeorm) with the test schema registered.
 * Default: an in-memory database. Each manager gets its own TypeORM connection name, so several
 * devices can live in one process.
 */
export function createSqliteStorageManager(options: { database?: string } = {}): StorageManager {
    // Loaded on first use: a devDependency, and heavy enough that Dexie-only suites should not pay for it.
    const { TypeORMStorageBackend } = require('@worldbrain/storex-backend-typeorm') as typeof import('@worldbrain/storex-backend-typeorm')
    const backend = new TypeORMStorageBackend({
        connectionOptions: { type: 'sqlite', database: options.database ?? ':memory:', name: `sqlite-device-${++sqliteCounter}` },
        // Unset optional fields read as missing, as they do on Dexie, instead of as null.
        legacyMemexCompatibility: true,
    })
    const storageManager = new StorageManager({ backend })
    registerTestCollections(storageManager)
    return storageManager
}

/** Closes the TypeORM connection of a SQLite storage manager (a no-op for other backends). */
export async function closeStorageManager(storageManager: StorageManager): Promise<void> {
    const connection = (storageManager.backend as { connection?: { isConnected: boolean; close(): Promise<void> } }).connection
    if (connection?.isConnected) {
        await connection.close()
    }
}

/**
 * Client backends the scenario suites run over. Each factory returns a storage manager with the
 * test schema registered and not yet initialized.
 */
export const BACKENDS: Record<string, () => StorageManager> = {
    dexie: () => createDexieStorageManager(),
    sqlite: () => createSqliteStorageManager(),
}

/**
 * Backends whose database can be opened again by a second storage manager (as an app does after
 * a restart or a schema upgrade). Each factory makes a new database and returns its opener; each
 * `open()` returns a storage manager on that same database with the test schema registered.
 */
export const REOPENABLE_BACKENDS: Record<string, () => { open(): StorageManager; close?(storageManager: StorageManager): void }> = {
    dexie: () => {
        // inMemory() makes a new fake IndexedDB per call; the reopened manager must share it.
        const idbImplementation = inMemory()
        const dbName = `reopenable-${++dbCounter}-${Date.now()}`
        return {
            open: () => {
                const storageManager = new StorageManager({ backend: new DexieStorageBackend({ idbImplementation, dbName }) })
                registerTestCollections(storageManager)
                return storageManager
            },
            // As an app closes its database before its updated version opens it.
            close: storageManager => (storageManager.backend as unknown as { dexie: { close(): void } }).dexie.close(),
        }
    },
    sqlite: () => {
        // A file, not :memory:, since every connection to :memory: gets its own empty database.
        const database = sqliteTempFile()
        return { open: () => createSqliteStorageManager({ database }) }
    },
}

let sqliteTempDir: string | null = null

/** A new SQLite file path in a temporary directory that is removed when the process exits. */
export function sqliteTempFile(): string {
    if (!sqliteTempDir) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'storex-synclog-'))
        sqliteTempDir = dir
        process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }))
    }
    return path.join(sqliteTempDir, `device-${++sqliteCounter}.sqlite`)
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

/**
 * All objects of a collection in a canonical form: keys sorted at every depth, objects sorted by
 * their JSON, and top-level null fields left out (an unset optional field reads as null on one
 * backend and as missing on another; to an app they are the same).
 */
export async function dump(device: TestDevice, collection: string): Promise<unknown[]> {
    const objects = (await device.storageManager.collection(collection).findObjects({})) as Array<Record<string, unknown>>
    return objects
        .map(object => canonicalJson(Object.fromEntries(Object.entries(object).filter(([, value]) => value !== null && value !== undefined))))
        .sort()
        .map(text => JSON.parse(text))
}

/** JSON with object keys sorted at every depth, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
    return JSON.stringify(value, (_key, inner: unknown) =>
        inner !== null && typeof inner === 'object' && !Array.isArray(inner)
            ? Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
            : inner,
    )
}
