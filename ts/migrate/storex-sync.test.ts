import path from 'path'
import type StorageManager from '@worldbrain/storex'
import { DexieStorageBackend } from '@worldbrain/storex-backend-dexie'
import inMemory from '@worldbrain/storex-backend-dexie/lib/in-memory'
import { setupSync } from '../setup'
import type { SyncSetup } from '../setup'
import { MemorySharedSyncLog } from '../shared-log/memory'
import { createMemoryChannelPair } from '../initial-sync/channel'
import { sendInitialSync } from '../initial-sync/sender'
import { receiveInitialSync } from '../initial-sync/receiver'
import { ManualClock } from '../integration/scenario-helpers'
import { createMemexStorageManager, memexCollections, memexDump, memexSynced, typedJson, wordStemmer } from '../compat/memex'
import { loadPublished, StorageModuleBase } from '../compat/published'
import { migrateFromStorexSync, registerStorexSyncClientLog, STOREX_SYNC_CLIENT_LOG, STOREX_SYNC_CLIENT_LOG_DEFINITION, StorexSyncMigrationError } from './storex-sync'

/**
 * Migration from storex-sync, tested on databases written by the real @worldbrain/storex-sync
 * 0.1.1 logging middleware, running on its own Storex (0.3.7, nested in its package) with the
 * Dexie backend; then opened by this library on Storex 0.4.1, migrated, and synced.
 */

const STOREX_SYNC_DIR = path.dirname(require.resolve('@worldbrain/storex-sync/package.json'))
/** storex-sync 0.1.1's own Storex (0.3.7), as an app using it had installed. */
const LegacyStorageManager = (require(require.resolve('@worldbrain/storex', { paths: [STOREX_SYNC_DIR] })) as { default: new (options: { backend: unknown }) => LegacyManager }).default
const { SyncLoggingMiddleware: LegacySyncLoggingMiddleware } = require('@worldbrain/storex-sync/lib/logging-middleware') as {
    SyncLoggingMiddleware: new (options: { storageManager: LegacyManager; clientSyncLog: unknown; includeCollections: string[] }) => { _getNow: () => number }
}

interface LegacyManager {
    registry: { registerCollections(collections: unknown): void; collections: Record<string, unknown> }
    backend: { createObject(collection: string, object: object): Promise<unknown>; updateObjects(collection: string, where: object, updates: object): Promise<unknown>; findObjects(collection: string, where: object): Promise<Array<Record<string, unknown>>>; dexie: { close(): void } }
    finishInitialization(): Promise<void>
    setMiddleware(middleware: unknown[]): void
    collection(name: string): { createObject(object: object): Promise<unknown>; updateObject(where: object, updates: object): Promise<unknown>; updateObjects(where: object, updates: object): Promise<unknown> }
}

/** storex-sync 0.1.1's client log definition, as its ClientSyncLogStorage module declares it. */
function publishedClientLogCollections(): Record<string, unknown> {
    const { ClientSyncLogStorage } = loadPublished<{ ClientSyncLogStorage: new (options: unknown) => { getConfig(): { collections: Record<string, unknown> } } }>('client-sync-log/index.js', {
        '@worldbrain/storex-pattern-modules': { StorageModule: StorageModuleBase },
    })
    return new ClientSyncLogStorage({}).getConfig().collections
}

const T0 = Date.UTC(2026, 5, 1, 12)

/** A storex-sync 0.1.1 device: the Memex schema, its client log and its logging middleware, on Dexie. */
async function openLegacyDevice(idbImplementation: ReturnType<typeof inMemory>, dbName: string, options: { logging: boolean; now: () => number }): Promise<LegacyManager> {
    const storageManager = new LegacyStorageManager({ backend: new DexieStorageBackend({ idbImplementation, dbName, stemmer: wordStemmer }) })
    storageManager.registry.registerCollections(memexDefinitions())
    storageManager.registry.registerCollections(publishedClientLogCollections())
    await storageManager.finishInitialization()
    if (options.logging) {
        const middleware = new LegacySyncLoggingMiddleware({ storageManager, clientSyncLog: null, includeCollections: memexSynced() })
        middleware._getNow = options.now
        storageManager.setMiddleware([middleware])
    }
    return storageManager
}

function memexDefinitions(): Record<string, unknown> {
    // A fresh copy per registry (registries annotate what they are given).
    const manager = createMemexStorageManager('dexie')
    return Object.fromEntries(Object.keys(memexCollections()).map(name => [name, { ...manager.registry.collections[name], name: undefined }]))
}

/** What both devices had shared through storex-sync before the upgrade. */
async function writeSharedState(db: LegacyManager): Promise<void> {
    await db.collection('pages').createObject({ url: 'example.com/a', text: 'shared page about sync', domain: 'example.com', hostname: 'example.com', screenshot: new Uint8Array([1, 2, 3]) })
    await db.collection('pages').createObject({ url: 'example.com/b', text: 'another shared page', domain: 'example.com', hostname: 'example.com', screenshot: new Uint8Array([4, 5]) })
    await db.collection('tags').createObject({ name: 'work', url: 'example.com/a' })
    await db.collection('customLists').createObject({ id: 'inbox', name: 'Inbox', isDeletable: false, isNestable: false, createdAt: new Date(T0) })
}

/** Opens a storex-sync database with this library (the app's upgraded version), on the same IndexedDB. */
async function upgrade(idbImplementation: ReturnType<typeof inMemory>, dbName: string, options: { sharedLog: MemorySharedSyncLog; clock: ManualClock; name: string }): Promise<SyncSetup & { storageManager: StorageManager }> {
    const storageManager = createMemexStorageManager('dexie', { idbImplementation, dbName })
    registerStorexSyncClientLog(storageManager.registry)
    const sync = await setupSync({ storageManager, collections: memexSynced(), sharedLog: options.sharedLog, now: options.clock.now, generateDeviceId: () => options.name })
    return { ...sync, storageManager }
}

describe('migrateFromStorexSync on databases written by storex-sync 0.1.1', () => {
    it("declares storex-sync 0.1.1's own client log definition", () => {
        expect(typedJson(publishedClientLogCollections()[STOREX_SYNC_CLIENT_LOG])).toBe(typedJson(STOREX_SYNC_CLIENT_LOG_DEFINITION))
    })

    /**
     * Laptop and phone used storex-sync and had shared the same four objects. Then, offline,
     * each made changes storex-sync never uploaded. After the upgrade each device migrates, the
     * laptop sends an initial sync to the phone, and both sync continuously: every pending change
     * of both devices must be on both.
     */
    async function scenario(options: { migratePhone: boolean }) {
        const idb = inMemory()
        let legacyTime = T0
        const legacyNow = () => ++legacyTime

        const laptopLegacy = await openLegacyDevice(idb, 'laptop', { logging: true, now: legacyNow })
        await writeSharedState(laptopLegacy)
        // storex-sync's doSync uploaded these and stamped them (its updateSharedUntil).
        await laptopLegacy.backend.updateObjects(STOREX_SYNC_CLIENT_LOG, { createdOn: { $lte: legacyTime } }, { sharedOn: legacyTime + 1 })
        legacyTime += 10
        // Received from another device but not yet integrated when the app was upgraded.
        await laptopLegacy.backend.createObject(STOREX_SYNC_CLIENT_LOG, { createdOn: legacyTime, sharedOn: legacyTime + 1, needsIntegration: true, collection: 'tags', pk: ['remote', 'example.com/a'], operation: 'create', value: {} })
        // Pending: made offline, never uploaded.
        await laptopLegacy.collection('pages').updateObject({ url: 'example.com/a' }, { hostname: 'laptop.example.com', screenshot: new Uint8Array([9, 8, 7]) })
        await laptopLegacy.collection('pages').createObject({ url: 'example.com/new', text: 'written offline', domain: 'example.com', hostname: 'example.com', screenshot: new Uint8Array([0, 255]) })
        await laptopLegacy.collection('tags').createObject({ name: 'later', url: 'example.com/new' })
        await laptopLegacy.collection('pageListEntries').createObject({ listId: 'inbox', pageUrl: 'example.com/new', fullUrl: 'https://example.com/new', createdAt: new Date(T0 + 60_000) })
        const laptopEntries = (await laptopLegacy.backend.findObjects(STOREX_SYNC_CLIENT_LOG, {})).length
        laptopLegacy.backend.dexie.close()

        const phoneLegacy = await openLegacyDevice(idb, 'phone', { logging: false, now: legacyNow })
        // The phone got the shared state through storex-sync's reconciliation (which bypasses logging).
        await writeSharedState(phoneLegacy)
        const phoneLogging = await openLegacyDevice(idb, 'phone', { logging: true, now: legacyNow })
        phoneLegacy.backend.dexie.close()
        await phoneLogging.collection('pages').updateObject({ url: 'example.com/b' }, { text: 'edited on the phone' })
        phoneLogging.backend.dexie.close()

        const sharedLog = new MemorySharedSyncLog()
        const clock = new ManualClock(T0 + 3_600_000)
        const laptop = await upgrade(idb, 'laptop', { sharedLog, clock, name: 'laptop' })
        const phone = await upgrade(idb, 'phone', { sharedLog, clock, name: 'phone' })
        const laptopResult = await migrateFromStorexSync({ sync: laptop })
        const phoneResult = options.migratePhone ? await migrateFromStorexSync({ sync: phone }) : null

        const [toPhone, fromLaptop] = createMemoryChannelPair()
        await Promise.all([sendInitialSync({ sync: laptop, channel: toPhone }), receiveInitialSync({ sync: phone, channel: fromLaptop })])
        for (let round = 0; round < 2; round++) {
            clock.advance(1000)
            await laptop.syncNow()
            await phone.syncNow()
        }
        return { laptop, phone, laptopResult, phoneResult, laptopEntries }
    }

    it('brings every pending change into our log in order, and both devices end with all of them', async () => {
        const { laptop, phone, laptopResult, phoneResult, laptopEntries } = await scenario({ migratePhone: true })
        // 4 shared creates, 1 received and unintegrated, and the pending: 2 modified fields + 3 creates.
        expect(laptopEntries).toBe(10)
        expect(laptopResult).toMatchObject({ migrated: 5, alreadyMigrated: 0, shared: 4, unintegrated: 1 })
        expect(phoneResult).toMatchObject({ migrated: 1, shared: 0, unintegrated: 0 })

        const pages = (await phone.storageManager.collection('pages').findObjects({})) as Array<Record<string, unknown>>
        const byUrl = Object.fromEntries(pages.map(page => [page.url, page]))
        expect(byUrl['example.com/a'].hostname).toBe('laptop.example.com')
        expect(byUrl['example.com/new']).toBeDefined()
        expect(byUrl['example.com/b'].text).toBe('edited on the phone')
        const [laptopDump, phoneDump] = await Promise.all([memexDump(laptop.storageManager), memexDump(phone.storageManager)])
        expect(laptopDump.tags).toEqual([typedJson({ name: 'later', url: 'example.com/new' }), typedJson({ name: 'work', url: 'example.com/a' })])
        expect(laptopDump.pageListEntries).toHaveLength(1)
        // Exact values (invariant 8), screenshots and datetimes included, on both devices.
        const [entry] = (await phone.storageManager.collection('pageListEntries').findObjects({})) as Array<Record<string, unknown>>
        expect(Object.prototype.toString.call(entry.createdAt)).toBe('[object Date]')
        expect(Object.prototype.toString.call(byUrl['example.com/a'].screenshot)).toBe('[object Uint8Array]')
        expect(Array.from(byUrl['example.com/a'].screenshot as Uint8Array)).toEqual([9, 8, 7])
        expect(phoneDump).toEqual(laptopDump)
    })

    it('without migrating, the pending change of the device that receives the initial sync never reaches the other (what migration prevents)', async () => {
        const { laptop, phone } = await scenario({ migratePhone: false })
        const text = async (device: { storageManager: StorageManager }) => ((await device.storageManager.collection('pages').findObjects({ url: 'example.com/b' })) as Array<Record<string, unknown>>)[0].text
        expect(await phone.clientLog.countUnshared()).toBe(0)
        expect(await text(phone)).toBe('edited on the phone')
        expect(await text(laptop)).toBe('another shared page')
    })

    it('keeps the order of createdOn in versions, makes later local writes newer, and adds nothing when run twice', async () => {
        const idb = inMemory()
        let legacyTime = T0
        const legacy = await openLegacyDevice(idb, 'device', { logging: true, now: () => legacyTime })
        await legacy.collection('pages').createObject({ url: 'x.com/1', text: 'one', domain: 'x.com', hostname: 'x.com', screenshot: new Uint8Array([1]) })
        // Equal timestamps (storex-sync's clock only moves per instance) keep their log order.
        await legacy.collection('pages').updateObject({ url: 'x.com/1' }, { hostname: 'first' })
        legacyTime += 5
        await legacy.collection('pages').updateObject({ url: 'x.com/1' }, { hostname: 'second' })
        legacy.backend.dexie.close()

        // The new app's wall clock is behind storex-sync's timestamps: order must still hold.
        const clock = new ManualClock(T0 - 60_000)
        const device = await upgrade(idb, 'device', { sharedLog: new MemorySharedSyncLog(), clock, name: 'device' })
        const first = await migrateFromStorexSync({ sync: device })
        expect(first).toMatchObject({ migrated: 3, versions: { first: T0, last: T0 + 5 } })
        const entries = await device.clientLog.getUnsharedEntries({ limit: 100 })
        expect(entries.map(entry => [entry.operation, entry.field, entry.value, entry.version])).toEqual([
            ['create', null, { text: 'one', domain: 'x.com', hostname: 'x.com', screenshot: new Uint8Array([1]) }, T0],
            ['modify', 'hostname', 'first', T0 + 1],
            ['modify', 'hostname', 'second', T0 + 5],
        ])
        expect(await migrateFromStorexSync({ sync: device })).toMatchObject({ migrated: 0, alreadyMigrated: 3 })
        expect(await device.clientLog.countEntries()).toBe(3)

        await device.storageManager.collection('pages').updateObjects({ url: 'x.com/1' }, { hostname: 'after the upgrade' })
        const newest = (await device.clientLog.getUnsharedEntries({ limit: 100 })).find(entry => entry.value === 'after the upgrade')
        expect(newest!.version).toBeGreaterThan(T0 + 5)
    })

    it('refuses with typed errors and writes nothing: log not registered, a pending entry of an unsynced collection, a bad key', async () => {
        const idb = inMemory()
        const legacy = await openLegacyDevice(idb, 'device', { logging: true, now: () => T0 })
        await legacy.collection('tags').createObject({ name: 'a', url: 'x.com' })
        await legacy.backend.createObject(STOREX_SYNC_CLIENT_LOG, { createdOn: T0 + 1, sharedOn: null, needsIntegration: false, collection: 'tags', pk: 'not-compound', operation: 'create', value: {} })
        legacy.backend.dexie.close()

        const unregistered = createMemexStorageManager('dexie', { idbImplementation: inMemory(), dbName: 'other' })
        const plainSync = await setupSync({ storageManager: unregistered, collections: memexSynced(), sharedLog: new MemorySharedSyncLog() })
        await expect(migrateFromStorexSync({ sync: plainSync })).rejects.toMatchObject({ code: 'STOREX_SYNC_LOG_NOT_REGISTERED' })

        const clock = new ManualClock(T0)
        const device = await upgrade(idb, 'device', { sharedLog: new MemorySharedSyncLog(), clock, name: 'device' })
        const error = await migrateFromStorexSync({ sync: device }).catch(caught => caught)
        expect(error).toBeInstanceOf(StorexSyncMigrationError)
        expect(error).toMatchObject({ code: 'STOREX_SYNC_ENTRY_INVALID' })
        expect(await device.clientLog.countEntries()).toBe(0)


        // A pending change of a collection the upgraded app does not sync would be lost: refused.
        const otherIdb = inMemory()
        const other = await openLegacyDevice(otherIdb, 'device', { logging: true, now: () => T0 })
        await other.collection('tags').createObject({ name: 'b', url: 'y.com' })
        other.backend.dexie.close()
        const storageManager = createMemexStorageManager('dexie', { idbImplementation: otherIdb, dbName: 'device' })
        registerStorexSyncClientLog(storageManager.registry)
        const partial = await setupSync({ storageManager, collections: memexSynced().filter(name => name !== 'tags'), sharedLog: new MemorySharedSyncLog() })
        await expect(migrateFromStorexSync({ sync: partial })).rejects.toMatchObject({ code: 'STOREX_SYNC_UNSYNCED_COLLECTION' })
        expect(await partial.clientLog.countEntries()).toBe(0)
    })
})
