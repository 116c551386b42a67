/**
 * The library end to end through the sync service: devices (Dexie on fake-indexeddb, set up with
 * setupSync) talk HTTP through HttpSharedSyncLog to a real service on a loopback port. Covers
 * convergence, a wiped client, a wiped or replaced server (seed 003) and multi-user isolation.
 */
import type StorageManager from '@worldbrain/storex'
import { createToken, SINGLE_USER_ID } from '../server/auth'
import { createSyncService } from '../server/service'
import type { SyncService } from '../server/service'
import { SqliteDocStore } from '../server/store/sqlite'
import type { DocStore } from '../server/store/types'
import { HttpSharedSyncLog } from '../shared-log/http'
import { createDevice, dump, syncAll, SYNCED } from './devices'
import type { TestDevice } from './devices'

const T0 = Date.UTC(2026, 2, 1, 12)
/** Loopback never drops requests; a couple of quick retries keep a hiccup from failing a test. */
const RETRY = { retries: 2, baseDelayMs: 10 }

const services: SyncService[] = []

afterEach(async () => {
    for (const service of services.splice(0)) {
        await service.close()
    }
})

interface Running {
    service: SyncService
    store: DocStore
    url: string
    port: number
}

async function startService(options: { store?: DocStore; port?: number; auth?: boolean } = {}): Promise<Running> {
    const store = options.store ?? new SqliteDocStore({ filename: ':memory:' })
    const service = await createSyncService({ store, port: options.port ?? 0, auth: options.auth })
    services.push(service)
    const { url } = await service.listen()
    return { service, store, url, port: Number(new URL(url).port) }
}

async function stopService(running: Running): Promise<void> {
    services.splice(services.indexOf(running.service), 1)
    await running.service.close()
}

function connect(url: string, options: { token?: string; now?: () => number; storageManager?: StorageManager } = {}): Promise<TestDevice> {
    return createDevice({ sharedLog: new HttpSharedSyncLog({ url, token: options.token, retry: RETRY }), now: options.now, storageManager: options.storageManager })
}

/** Every synced collection of a device, each sorted, so two devices compare with toEqual. */
async function snapshot(device: TestDevice): Promise<Record<string, unknown[]>> {
    const entries = await Promise.all(SYNCED.map(async collection => [collection, await dump(device, collection)] as const))
    return Object.fromEntries(entries)
}

async function expectConverged(devices: TestDevice[]): Promise<Record<string, unknown[]>> {
    const reference = await snapshot(devices[0])
    for (const device of devices.slice(1)) {
        expect(await snapshot(device)).toEqual(reference)
    }
    return reference
}

/** What the service holds for a user, read from its store (an inspector, not a client). */
async function serverDocs(store: DocStore, userId = SINGLE_USER_ID): Promise<Array<{ id: string; data: { deviceId: string } }>> {
    const result = await store.queryDocs({ userId, limit: 100_000 })
    return result.docs as Array<{ id: string; data: { deviceId: string } }>
}

const titles = async (device: TestDevice) => ((await dump(device, 'note')) as Array<{ title: string }>).map(note => note.title).sort()

/** Notes, a user with nested emails and a compound-key setting, written on `device`. */
async function writeSampleData(device: TestDevice, label: string): Promise<void> {
    for (let index = 0; index < 3; index++) {
        await device.storageManager.collection('note').createObject({ title: `${label} note ${index}`, rank: index })
    }
    await device.storageManager.collection('user').createObject({ name: `${label} user`, emails: [{ address: `${label}@one` }, { address: `${label}@two` }] })
    await device.storageManager.collection('setting').createObject({ scope: label, key: 'theme', value: { dark: true } })
}

describe('library devices through the service', () => {
    it('converge on creates, updates and deletes made on three devices', async () => {
        const { url } = await startService()
        const [a, b, c] = [await connect(url), await connect(url), await connect(url)]
        await writeSampleData(a, 'a')
        await writeSampleData(c, 'c')
        await syncAll([a, b, c])
        const first = await expectConverged([a, b, c])
        expect(first.note).toHaveLength(6)
        expect(first.email).toHaveLength(4)

        const notes = (await b.storageManager.collection('note').findObjects({})) as Array<{ id: string; title: string }>
        const target = notes.find(note => note.title === 'a note 0')!
        await b.storageManager.operation('updateObject', 'note', { id: target.id }, { title: 'edited on b', tags: ['x'] })
        await c.storageManager.collection('note').deleteObjects({ title: 'a note 1' })
        await a.storageManager.operation('updateObject', 'setting', { scope: 'c', key: 'theme' }, { value: { dark: false } })
        await c.storageManager.collection('email').deleteObjects({ address: 'a@two' })
        await syncAll([a, b, c])

        const final = await expectConverged([a, b, c])
        expect(await titles(a)).toEqual(['a note 2', 'c note 0', 'c note 1', 'c note 2', 'edited on b'])
        expect(final.setting).toContainEqual({ scope: 'c', key: 'theme', value: { dark: false } })
        expect((final.email as Array<{ address: string }>).map(email => email.address).sort()).toEqual(['a@one', 'c@one', 'c@two'])
    })

    it('converge on concurrent edits of the same field (the later version wins everywhere)', async () => {
        const { url } = await startService()
        // Fixed, distinct wall clocks: b's edit has the higher version whatever the order of syncs.
        const a = await connect(url, { now: () => T0 })
        const b = await connect(url, { now: () => T0 + 1000 })
        const c = await connect(url, { now: () => T0 + 2000 })
        const { object } = await a.storageManager.collection('note').createObject({ title: 'start', body: 'start' })
        await syncAll([a, b, c])

        await b.storageManager.operation('updateObject', 'note', { id: object.id }, { title: 'from b' })
        await a.storageManager.operation('updateObject', 'note', { id: object.id }, { title: 'from a' })
        await c.storageManager.operation('updateObject', 'note', { id: object.id }, { body: 'from c' })
        // Sync in an order where the losing edit arrives last at the service.
        await c.syncNow()
        await b.syncNow()
        await a.syncNow()
        await syncAll([c, b, a])

        const state = await expectConverged([a, b, c])
        expect(state.note).toHaveLength(1)
        expect(state.note[0]).toMatchObject({ id: object.id, title: 'from b', body: 'from c' })
    })

    it('give a wiped client (a new, empty database) everything back', async () => {
        const { url } = await startService()
        const a = await connect(url)
        const b = await connect(url)
        await writeSampleData(a, 'a')
        await writeSampleData(b, 'b')
        await syncAll([a, b])
        const before = await expectConverged([a, b])

        // b's database is gone: the app starts over with a fresh one on the same service.
        const wiped = await connect(url)
        expect(wiped.deviceId).not.toBe(b.deviceId)
        await wiped.syncNow()
        expect(await snapshot(wiped)).toEqual(before)

        // And it syncs on normally afterwards, both ways.
        await wiped.storageManager.collection('note').createObject({ title: 'after the wipe' })
        await a.storageManager.collection('note').deleteObjects({ title: 'b note 0' })
        await syncAll([a, wiped])
        await expectConverged([a, wiped])
        expect(await titles(wiped)).toContain('after the wipe')
        expect(await titles(wiped)).not.toContain('b note 0')
    })

    describe.each([
        ['reset in place (store.reset())', 'reset'],
        ['replaced by a new empty store behind a new service on the same port', 'replace'],
    ] as const)('with a wiped server: %s', (_, mode) => {
        it('is refilled from its clients\' full state, and every device converges', async () => {
            let server = await startService()
            const { url } = server
            const a = await connect(url)
            const b = await connect(url)
            await writeSampleData(a, 'a')
            await writeSampleData(b, 'b')
            await syncAll([a, b])
            const before = await expectConverged([a, b])
            const oldSyncId = await server.store.getSyncId()

            if (mode === 'reset') {
                await server.store.reset()
            } else {
                await stopService(server)
                server = await startService({ port: server.port })
                expect(server.url).toBe(url)
            }
            const newSyncId = await server.store.getSyncId()
            expect(newSyncId).not.toBe(oldSyncId)
            expect(await serverDocs(server.store)).toEqual([])

            // Changes made while the server was gone, on both devices.
            await a.storageManager.collection('note').createObject({ title: 'a after reset' })
            await b.storageManager.collection('note').deleteObjects({ title: 'a note 0' })

            // a's next sync meets a 409, reconciles (sending its full state), then pushes.
            await a.syncNow()
            expect(await a.clientLog.getState('sharedLog.syncId')).toBe(newSyncId)
            const refilled = new Set((await serverDocs(server.store)).map(doc => doc.data.deviceId))
            expect(refilled).toEqual(new Set([a.deviceId, b.deviceId]))

            // A device that never knew the old server gets the refilled state, including b's older writes.
            const fresh = await connect(url)
            await fresh.syncNow()
            expect(await snapshot(fresh)).toEqual(await snapshot(a))
            expect((await snapshot(fresh)).setting).toEqual(before.setting)

            await syncAll([a, b, fresh])
            await expectConverged([a, b, fresh])
            expect(await titles(b)).toEqual(['a after reset', 'a note 1', 'a note 2', 'b note 0', 'b note 1', 'b note 2'])
            expect(await b.clientLog.getState('sharedLog.syncId')).toBe(newSyncId)
        })
    })

    it('keep users apart in multi-user mode', async () => {
        const { url, store } = await startService({ auth: true })
        const alice = await createToken({ store, userId: 'alice' })
        const bob = await createToken({ store, userId: 'bob' })
        const [alice1, alice2, bob1] = [await connect(url, { token: alice }), await connect(url, { token: alice }), await connect(url, { token: bob })]

        await writeSampleData(alice1, 'alice')
        await writeSampleData(bob1, 'bob')
        // The same compound primary key for both users: two different objects.
        await alice2.storageManager.collection('setting').createObject({ scope: 'app', key: 'lang', value: 'de' })
        await bob1.storageManager.collection('setting').createObject({ scope: 'app', key: 'lang', value: 'fr' })
        await syncAll([alice1, alice2, bob1])

        const aliceState = await expectConverged([alice1, alice2])
        expect(await titles(alice1)).toEqual(['alice note 0', 'alice note 1', 'alice note 2'])
        expect(await titles(bob1)).toEqual(['bob note 0', 'bob note 1', 'bob note 2'])
        expect(aliceState.setting).toContainEqual({ scope: 'app', key: 'lang', value: 'de' })
        expect((await snapshot(bob1)).setting).toEqual([
            { scope: 'app', key: 'lang', value: 'fr' },
            { scope: 'bob', key: 'theme', value: { dark: true } },
        ])
        expect(JSON.stringify(await snapshot(bob1))).not.toContain('alice')

        // Naming another user's device gets nothing of theirs: device ids are per user.
        const bobLog = new HttpSharedSyncLog({ url, token: bob, retry: RETRY })
        const page = await bobLog.readEntries({ deviceId: alice1.deviceId, cursor: null, limit: 1000 })
        expect(page.entries.length).toBeGreaterThan(0)
        expect(new Set(page.entries.map(entry => entry.deviceId))).toEqual(new Set([bob1.deviceId]))
        expect(new Set((await serverDocs(store, 'alice')).map(doc => doc.data.deviceId))).toEqual(new Set([alice1.deviceId, alice2.deviceId]))

        // Without a valid token a device sets up (offline first) but its first sync is refused.
        const anonymous = await connect(url)
        await expect(anonymous.syncNow()).rejects.toMatchObject({ status: 401, code: 'UNAUTHORIZED' })
        const forged = await connect(url, { token: 'not-a-real-token' })
        await expect(forged.syncNow()).rejects.toMatchObject({ status: 401 })
    })
})
