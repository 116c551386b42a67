import type StorageManager from '@worldbrain/storex'
import type { SyncLogEntry } from '../entries/types'
import { getSchemaVersion } from '../middleware/registry-info'
import { BACKENDS, REOPENABLE_BACKENDS, SYNCED, backendPairs, createDevice, dump } from './devices'
import { ManualClock, createMemoryLog, createPairDevices, idGenerator } from './scenario-helpers'

const MINUTE = 60 * 1000

/**
 * The app's next schema version: settings gain an `origin` field. (Settings, not notes: the
 * auto-PK middleware rewrites only the newest definition of a collection's key, and Dexie refuses
 * the resulting key change between versions — reported as a bug.)
 */
function upgradeSchema(storageManager: StorageManager): void {
    storageManager.registry.registerCollections({
        setting: {
            // After the client log's newest collection (2026-12-02): Dexie numbers versions in date order.
            version: new Date('2026-12-03'),
            fields: { scope: { type: 'string' }, key: { type: 'string' }, value: { type: 'json', optional: true }, origin: { type: 'string', optional: true } },
            indices: [{ field: ['scope', 'key'], pk: true }],
        },
    })
}

/**
 * Dexie 2.0.4 reads `navigator.userAgent` when it opens an existing database, and Node 20 has no
 * `navigator`; a browser always has one. Defined only while the database opens, since
 * storex-backend-dexie changes its transaction handling when a `navigator` exists.
 */
async function withNavigator<T>(open: () => Promise<T>): Promise<T> {
    const global = globalThis as { navigator?: unknown }
    const had = 'navigator' in global
    if (!had) {
        global.navigator = { userAgent: 'node' }
    }
    try {
        return await open()
    } finally {
        if (!had) {
            delete global.navigator
        }
    }
}

type Held = Array<{ code: string; entry: SyncLogEntry }>

describe.each(backendPairs())('quarantine on %s + %s', (...pair) => {
    it('a version too far ahead is held, does not block others, and applies once the clock catches up', async () => {
        const clock = new ManualClock()
        const { devices } = await createPairDevices(pair, 3, {
            clock,
            perDevice: index => (index === 0 ? { now: () => clock.now() + 10 * MINUTE } : {}),
        })
        const [ahead, b, c] = devices
        const held: Held = []
        b.events.on('quarantined', ({ entries }) => held.push(...entries))
        await ahead.storageManager.collection('note').createObject({ id: 'future', title: 'from the future' })
        await c.storageManager.collection('note').createObject({ id: 'now', title: 'from now' })
        await ahead.syncNow()
        await c.syncNow()
        expect(await b.syncNow()).toMatchObject({ pulled: 2, applied: 1 })
        expect(held.map(item => [item.code, item.entry.pk])).toEqual([['CLOCK_DRIFT', 'future']])
        expect(await dump(b, 'note')).toEqual([{ id: 'now', title: 'from now' }])
        expect(await b.retryQuarantined()).toBe(0)
        clock.advance(6 * MINUTE)
        expect(await b.retryQuarantined()).toBe(1)
        expect(await b.clientLog.getQuarantine()).toEqual([])
        for (const device of [c, ahead, b, c]) {
            await device.syncNow()
        }
        for (const device of devices) {
            expect(await dump(device, 'note')).toEqual([{ id: 'future', title: 'from the future' }, { id: 'now', title: 'from now' }])
        }
    })
})

/**
 * The receiver changes its schema by opening a second storage manager on the same database with
 * the upgraded schema (as an app does after an update), so it needs a reopenable backend.
 */
describe.each(backendPairs().filter(([, receiver]) => REOPENABLE_BACKENDS[receiver]))('schema quarantine on %s -> %s', (sender, receiver) => {
    it('unknown collection, unknown field and newer-schema entries are held, and applied after the schema changes', async () => {
        const sharedLog = createMemoryLog()
        const database = REOPENABLE_BACKENDS[receiver]()
        const b = await createDevice({ sharedLog, storageManager: database.open(), generateId: idGenerator('b') })
        const oldSchemaVersion = getSchemaVersion(b.storageManager.registry, SYNCED)
        // A newer app version that syncs `localCache` too and has settings with an origin.
        const newerStorage = BACKENDS[sender]()
        upgradeSchema(newerStorage)
        const newer = await createDevice({ sharedLog, storageManager: newerStorage, collections: [...SYNCED, 'localCache'], generateId: idGenerator('n') })
        // An old-schema sender that writes a field this schema does not know (a misbehaving client).
        const writer = await sharedLog.registerDevice()
        const rogue: SyncLogEntry = { collection: 'setting', pk: ['ui', 'lang'], operation: 'modify', field: 'origin', value: 'rogue', version: 2, deviceId: writer.deviceId, schemaVersion: oldSchemaVersion }
        const plain: SyncLogEntry = { collection: 'setting', pk: ['ui', 'lang'], operation: 'create', field: null, value: { value: 'en' }, version: 1, deviceId: writer.deviceId, schemaVersion: oldSchemaVersion }
        // Held too, but superseded before the schema changes by a newer create (applied at once).
        const stale: SyncLogEntry = { ...rogue, pk: ['ui', 'stale'], value: 'stale' }
        const staleCreate: SyncLogEntry = { ...plain, pk: ['ui', 'stale'], value: { value: 'fresh' }, version: 3 }
        await sharedLog.writeEntries({ deviceId: writer.deviceId, entries: [rogue, plain, stale] })
        await newer.storageManager.collection('setting').createObject({ scope: 'ui', key: 'theme', value: 'dark', origin: 'newer' })
        await newer.storageManager.collection('localCache').createObject({ id: 'cache', text: 'cached' })
        await newer.syncNow()
        const followUp: SyncLogEntry = { ...plain, pk: ['ui', 'font'], value: { value: 'serif' }, version: 2 }
        await sharedLog.writeEntries({ deviceId: writer.deviceId, entries: [followUp, staleCreate] })

        const held: Held = []
        b.events.on('quarantined', ({ entries }) => held.push(...entries))
        expect(await b.syncNow()).toMatchObject({ pulled: 7, applied: 3 })
        expect(held.map(item => item.code).sort()).toEqual(['NEWER_SCHEMA', 'NEWER_SCHEMA', 'UNKNOWN_FIELD', 'UNKNOWN_FIELD'])
        expect(await dump(b, 'setting')).toEqual([
            { scope: 'ui', key: 'font', value: 'serif' },
            { scope: 'ui', key: 'lang', value: 'en' },
            { scope: 'ui', key: 'stale', value: 'fresh' },
        ])
        expect(await b.retryQuarantined()).toBe(0)
        expect(await b.clientLog.getQuarantine()).toHaveLength(4)

        // The app updates: same database, upgraded schema, `localCache` synced too.
        database.close?.(b.storageManager)
        const upgraded = database.open()
        upgradeSchema(upgraded)
        const b2 = await withNavigator(() => createDevice({ sharedLog, storageManager: upgraded, collections: [...SYNCED, 'localCache'], generateId: idGenerator('b2') }))
        expect(b2.deviceId).toBe(b.deviceId)
        expect(await b2.retryQuarantined()).toBe(3)
        expect(await b2.clientLog.getQuarantine()).toEqual([])
        expect(await dump(b2, 'setting')).toEqual([
            { scope: 'ui', key: 'font', value: 'serif' },
            { scope: 'ui', key: 'lang', value: 'en', origin: 'rogue' },
            { scope: 'ui', key: 'stale', value: 'fresh' },
            { scope: 'ui', key: 'theme', value: 'dark', origin: 'newer' },
        ])
        expect(await dump(b2, 'localCache')).toEqual([{ id: 'cache', text: 'cached' }])
        await b2.syncNow()
        await newer.syncNow()
        expect(await dump(newer, 'setting')).toEqual(await dump(b2, 'setting'))
    })

    it('an entry for a collection this device does not sync is held as UNKNOWN_COLLECTION', async () => {
        const sharedLog = createMemoryLog()
        const b = await createDevice({ sharedLog, storageManager: REOPENABLE_BACKENDS[receiver]().open() })
        const other = await createDevice({ sharedLog, storageManager: BACKENDS[sender](), collections: [...SYNCED, 'localCache'] })
        await other.storageManager.collection('localCache').createObject({ id: 'cache', text: 'cached' })
        await other.storageManager.collection('note').createObject({ id: 'n', title: 'note' })
        await other.syncNow()
        const held: Held = []
        b.events.on('quarantined', ({ entries }) => held.push(...entries))
        expect(await b.syncNow()).toMatchObject({ pulled: 2, applied: 1 })
        expect(held.map(item => item.code)).toEqual(['UNKNOWN_COLLECTION'])
        expect(await dump(b, 'localCache')).toEqual([])
    })
})
