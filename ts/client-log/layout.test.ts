import fs from 'fs'
import os from 'os'
import path from 'path'
import StorageManager from '@worldbrain/storex'
import type { StorageRegistry } from '@worldbrain/storex'
import { DexieStorageBackend } from '@worldbrain/storex-backend-dexie'
import inMemory from '@worldbrain/storex-backend-dexie/lib/in-memory'
import { createBackendAdapter } from '../backend'
import { finishInitializationWithUpgrade } from '../backend/dexie-upgrade'
import type { StoredObject } from '../backend/types'
import type { SyncLogEntry } from '../entries/types'
import { encodeEntry } from '../entries/values'
import { entryId, entryObjectKey } from '../entries/keys'
import { closeStorageManager, createSqliteStorageManager, registerTestCollections, SYNCED } from '../integration/devices'
import { MemorySharedSyncLog } from '../shared-log/memory'
import { setupSync } from '../setup'
import { CLIENT_LOG_COLLECTIONS, clientLogLayout1Collections } from './collections'
import { LAYOUT_STATE_KEY } from './layout'

/** An app's database as the library made it until 2026-12: the first layout alone. */
function registerLayout1(registry: StorageRegistry): void {
    registry.registerCollections(clientLogLayout1Collections())
}

const entry = (version: number, overrides: Partial<SyncLogEntry> = {}): SyncLogEntry => ({
    collection: 'note',
    pk: 'n1',
    operation: 'modify',
    field: `f${version}`,
    value: `v${version}`,
    version,
    deviceId: 'device-a',
    schemaVersion: 1,
    ...overrides,
})

/** A row as layout 1 wrote it: flags on the row, rewritten when pushed or integrated. */
function layout1Row(item: SyncLogEntry, state: 'pushed' | 'unpushed' | 'received' | 'held'): StoredObject {
    return {
        id: entryId(item),
        objectKey: entryObjectKey(item),
        ...encodeEntry(item),
        shared: state === 'unpushed' ? 0 : 1,
        needsIntegration: state === 'held' ? 1 : 0,
        pendingVersion: state === 'unpushed' ? item.version : 0,
        heldVersion: state === 'held' ? item.version : 0,
    }
}

interface Database {
    open(): StorageManager
    close(storageManager: StorageManager): Promise<void>
}

function dexieDatabase(): Database {
    const idbImplementation = inMemory()
    const dbName = `layout-${Math.random()}`
    return {
        open() {
            const storageManager = new StorageManager({ backend: new DexieStorageBackend({ idbImplementation, dbName }) })
            registerTestCollections(storageManager)
            return storageManager
        },
        async close(storageManager) {
            ;(storageManager.backend as unknown as { dexie: { close(): void } }).dexie.close()
        },
    }
}

function sqliteDatabase(): Database {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'synclog-layout-')), 'app.sqlite')
    return { open: () => createSqliteStorageManager({ database: file }), close: closeStorageManager }
}

describe.each([
    ['Dexie', dexieDatabase],
    ['SQLite', sqliteDatabase],
])('a client log written in layout 1 (%s)', (_name, makeDatabase) => {
    const pushed = entry(10)
    const unpushed = [entry(20), entry(30, { pk: 'n2' })]
    const received = entry(40, { deviceId: 'device-b' })
    const held = entry(50, { deviceId: 'device-b', field: 'later' })

    /** The database as a device left it under layout 1: one entry in each state. */
    async function layout1Database(): Promise<Database> {
        const database = makeDatabase()
        const storageManager = database.open()
        registerLayout1(storageManager.registry)
        await finishInitializationWithUpgrade(storageManager)
        const adapter = createBackendAdapter(storageManager)
        await adapter.prepare()
        const rows = [layout1Row(pushed, 'pushed'), ...unpushed.map(item => layout1Row(item, 'unpushed')), layout1Row(received, 'received'), layout1Row(held, 'held')]
        await adapter.atomic([CLIENT_LOG_COLLECTIONS.entry, CLIENT_LOG_COLLECTIONS.state, CLIENT_LOG_COLLECTIONS.quarantine], async ops => {
            await ops.createObjects(CLIENT_LOG_COLLECTIONS.entry, rows)
            await ops.putObject(CLIENT_LOG_COLLECTIONS.state, { key: 'deviceId', value: 'device-a' })
            await ops.putObject(CLIENT_LOG_COLLECTIONS.quarantine, { id: entryId(held), reason: 'newer schema', code: 'SCHEMA_VERSION', at: 1 })
        })
        await database.close(storageManager)
        return database
    }

    it('opens on the current layout and pushes exactly the entries that were not pushed, once', async () => {
        const database = await layout1Database()
        const sharedLog = new MemorySharedSyncLog()
        const storageManager = database.open()
        const sync = await setupSync({ storageManager, collections: SYNCED, sharedLog })
        try {
            expect(sync.deviceId).toBe('device-a')
            expect(await sync.clientLog.getState(LAYOUT_STATE_KEY)).toBe(2)
            expect(await sync.clientLog.countUnshared()).toBe(2)
            expect((await sync.clientLog.getUnsharedEntries({ limit: 10 })).map(item => item.version)).toEqual([20, 30])
            expect(await sync.clientLog.getHeldEntries({ limit: 10 })).toEqual([held])
            // The clock continues past every version the log holds, held ones included.
            expect(sync.clock.lastVersion).toBeGreaterThanOrEqual(50)

            expect(await sync.push()).toBe(2)
            expect((await sharedLog.readEntries({ deviceId: 'device-c', cursor: null, limit: 10 })).entries.map(item => item.version).sort()).toEqual([20, 30])
            expect(await sync.clientLog.countUnshared()).toBe(0)
            expect(await sync.clientLog.countEntries({ shared: 0 })).toBe(0)
            expect(await sync.push()).toBe(0)

            // A write after the upgrade is logged and pushed as usual.
            await storageManager.collection('note').createObject({ title: 'after the upgrade' })
            expect(await sync.push()).toBe(1)
        } finally {
            await database.close(storageManager)
        }

        // Opened again: the upgrade does not run twice, nothing is pending.
        const again = database.open()
        const reopened = await setupSync({ storageManager: again, collections: SYNCED, sharedLog })
        try {
            expect(await reopened.clientLog.upgradeLayout()).toBe(0)
            expect(await reopened.clientLog.countUnshared()).toBe(0)
            expect(await reopened.clientLog.countEntries()).toBe(6)
        } finally {
            await database.close(again)
        }
    })
})
