import type { OperationBatch } from '@worldbrain/storex'
import { createDevice, createDexieStorageManager, dump } from '../integration/devices'
import type { TestDevice } from '../integration/devices'
import type { SetupSyncOptions } from '../setup'
import { MemorySharedSyncLog } from '../shared-log/memory'
import type { AtomicOperations, BackendAdapter } from '../backend/types'
import { ClientSyncLog } from '../client-log/client-log'
import { CLIENT_LOG_COLLECTIONS } from '../client-log/collections'
import type { SyncLogEntry } from '../entries/types'
import { SyncConfigurationError, UnloggableOperationError, UnsafeWhereError } from '../errors'
import { HybridLogicalClock } from '../clock/hlc'
import { DuplicatePrimaryKeyError } from './logged-writes'
import { SyncLoggingMiddleware } from './sync-logging'

const DEVICE = 'device-a'
const START = 1_700_000_000_000

/** A device with a frozen wall clock and counting ids, so versions and keys are predictable. */
async function createTestDevice(options: Partial<SetupSyncOptions> = {}): Promise<TestDevice> {
    let nextId = 0
    return createDevice({
        sharedLog: new MemorySharedSyncLog(),
        generateDeviceId: () => DEVICE,
        now: () => START,
        generateId: () => `id-${++nextId}`,
        ...options,
    })
}

/** Logged entries without version/device/schema fields, in a stable order. */
async function logged(device: TestDevice): Promise<Array<Pick<SyncLogEntry, 'collection' | 'pk' | 'operation' | 'field' | 'value'>>> {
    const entries = await device.clientLog.getUnsharedEntries({ limit: 100_000 })
    return entries
        .map(({ collection, pk, operation, field, value }) => ({ collection, pk, operation, field, value }))
        .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1))
}

async function entryCount(device: TestDevice): Promise<number> {
    return device.clientLog.countEntries()
}

/** Everything the app can see, for "nothing changed" assertions. */
async function snapshot(device: TestDevice): Promise<Record<string, unknown[]>> {
    const result: Record<string, unknown[]> = {}
    for (const collection of ['note', 'user', 'email', 'setting', 'localCache']) {
        result[collection] = await dump(device, collection)
    }
    return result
}

function notes(device: TestDevice) {
    return device.storageManager.collection('note')
}

describe('SyncLoggingMiddleware on Dexie (fake-indexeddb)', () => {
    let device: TestDevice

    beforeEach(async () => {
        device = await createTestDevice()
    })

    describe('createObject', () => {
        it('assigns a UUID key and logs one create without the key in its value', async () => {
            const { object } = await notes(device).createObject({ title: 'hello', rank: 3 })
            expect(object.id).toBe('id-1')
            expect(await notes(device).findObject({ id: 'id-1' })).toMatchObject({ id: 'id-1', title: 'hello', rank: 3 })
            expect(await logged(device)).toEqual([{ collection: 'note', pk: 'id-1', operation: 'create', field: null, value: { title: 'hello', rank: 3 } }])
            const [entry] = await device.clientLog.getUnsharedEntries({ limit: 10 })
            expect(entry).toMatchObject({ version: START, deviceId: DEVICE })
            expect(entry.schemaVersion).toBe(new Date('2026-01-01').getTime())
        })

        it('keeps an explicitly given key', async () => {
            const { object } = await notes(device).createObject({ id: 'mine', title: 'explicit' })
            expect(object.id).toBe('mine')
            expect(await logged(device)).toEqual([{ collection: 'note', pk: 'mine', operation: 'create', field: null, value: { title: 'explicit' } }])
        })

        it('refuses an explicit key that exists, writing and logging nothing', async () => {
            await notes(device).createObject({ id: 'taken', title: 'first' })
            const before = await snapshot(device)
            const error = await notes(device).createObject({ id: 'taken', title: 'second' }).catch(e => e)
            expect(error).toBeInstanceOf(DuplicatePrimaryKeyError)
            expect(error).toMatchObject({ code: 'DUPLICATE_PK', collection: 'note', pk: 'taken' })
            expect(await snapshot(device)).toEqual(before)
            expect(await entryCount(device)).toBe(1)
        })

        it('logs each nested child with its resolved foreign key', async () => {
            const { object } = await device.storageManager.collection('user').createObject({
                name: 'joe',
                emails: [{ address: 'joe@home' }, { address: 'joe@work' }],
            })
            expect(object).toMatchObject({ id: 'id-1', name: 'joe', emails: [{ id: 'id-2', address: 'joe@home' }, { id: 'id-3', address: 'joe@work' }] })
            expect(await dump(device, 'email')).toEqual([
                { id: 'id-2', address: 'joe@home', user: 'id-1' },
                { id: 'id-3', address: 'joe@work', user: 'id-1' },
            ])
            expect(await logged(device)).toEqual([
                { collection: 'email', pk: 'id-2', operation: 'create', field: null, value: { address: 'joe@home', user: 'id-1' } },
                { collection: 'email', pk: 'id-3', operation: 'create', field: null, value: { address: 'joe@work', user: 'id-1' } },
                { collection: 'user', pk: 'id-1', operation: 'create', field: null, value: { name: 'joe' } },
            ])
            // One write, one version.
            const versions = new Set((await device.clientLog.getUnsharedEntries({ limit: 10 })).map(entry => entry.version))
            expect(versions.size).toBe(1)
        })

        it('returns Date fields as Dates, like plain Storex', async () => {
            const manager = createDexieStorageManager()
            manager.registry.registerCollection('event', { version: new Date('2026-01-01'), fields: { at: { type: 'datetime' } } })
            const withDates = await createTestDevice({ storageManager: manager, collections: ['note', 'event'] })
            const at = new Date('2026-05-01T10:00:00Z')
            const { object } = await withDates.storageManager.collection('event').createObject({ at })
            expect(object.at).toBeInstanceOf(Date)
            expect((object.at as Date).getTime()).toBe(at.getTime())
        })
    })

    describe('updateObject and updateObjects', () => {
        beforeEach(async () => {
            for (const [title, rank] of [['a', 1], ['b', 2], ['b', 3], ['c', 4]] as const) {
                await notes(device).createObject({ title, rank })
            }
        })

        const modifies = async () => (await logged(device)).filter(entry => entry.operation === 'modify')

        it('updateObject logs one modify per changed field', async () => {
            await device.storageManager.operation('updateObject', 'note', { id: 'id-1' }, { title: 'A', body: 'text' })
            expect(await notes(device).findObject({ id: 'id-1' })).toMatchObject({ title: 'A', body: 'text', rank: 1 })
            expect(await modifies()).toEqual([
                { collection: 'note', pk: 'id-1', operation: 'modify', field: 'body', value: 'text' },
                { collection: 'note', pk: 'id-1', operation: 'modify', field: 'title', value: 'A' },
            ])
        })

        it('updateObject on a missing object changes and logs nothing', async () => {
            await device.storageManager.operation('updateObject', 'note', { id: 'nope' }, { title: 'x' })
            expect(await modifies()).toEqual([])
            expect(await notes(device).countObjects({})).toBe(4)
        })

        it.each([
            ['no object', { title: 'zzz' }, []],
            ['one object', { title: 'a' }, ['id-1']],
            ['many objects', { title: 'b' }, ['id-2', 'id-3']],
            ['an operator matching many', { rank: { $gte: 2 } }, ['id-2', 'id-3', 'id-4']],
        ])('updateObjects where touching %s logs one entry per object and field', async (_name, where, ids) => {
            await notes(device).updateObjects(where, { body: 'changed', tags: ['t'] })
            const expected = ids.flatMap(id => [
                { collection: 'note', pk: id, operation: 'modify', field: 'body', value: 'changed' },
                { collection: 'note', pk: id, operation: 'modify', field: 'tags', value: ['t'] },
            ])
            expect(await modifies()).toEqual(expected)
            const changed = (await notes(device).findObjects<{ id: string }>({ body: 'changed' })).map(object => object.id).sort()
            expect(changed).toEqual(ids)
        })

        it('logs update operators as the values they produce', async () => {
            await notes(device).createObject({ id: 'n', title: 'ops' })
            await device.storageManager.operation('updateObject', 'note', { id: 'n' }, { $inc: { rank: 5 } })
            await device.storageManager.operation('updateObject', 'note', { id: 'n' }, { $mul: { rank: 3 } })
            await device.storageManager.operation('updateObject', 'note', { id: 'n' }, { $set: { body: 'set' }, $unset: { tags: '' } })
            const entries = (await device.clientLog.getUnsharedEntries({ limit: 100 })).filter(entry => entry.pk === 'n' && entry.operation === 'modify')
            expect(entries.map(({ field, value }) => ({ field, value }))).toEqual([
                // $inc on a missing (null) number counts from 0: a number, never NaN.
                { field: 'rank', value: 5 },
                { field: 'rank', value: 15 },
                expect.objectContaining({ field: expect.stringMatching(/^(body|tags)$/) }),
                expect.objectContaining({ field: expect.stringMatching(/^(body|tags)$/) }),
            ])
            expect(entries.slice(2).map(({ field, value }) => ({ field, value })).sort((a, b) => a.field!.localeCompare(b.field!))).toEqual([
                { field: 'body', value: 'set' },
                { field: 'tags', value: null },
            ])
            const stored = await notes(device).findObject({ id: 'n' })
            expect(stored).toMatchObject({ rank: 15, body: 'set', tags: null })
        })

        it('resolves operators per object for a where touching many', async () => {
            await notes(device).updateObjects({ title: 'b' }, { $inc: { rank: 10 } })
            expect(await modifies()).toEqual([
                { collection: 'note', pk: 'id-2', operation: 'modify', field: 'rank', value: 12 },
                { collection: 'note', pk: 'id-3', operation: 'modify', field: 'rank', value: 13 },
            ])
            expect((await notes(device).findObjects<{ rank: number }>({ title: 'b' })).map(object => object.rank).sort()).toEqual([12, 13])
        })

        it('refuses an unsupported operator', async () => {
            const before = await snapshot(device)
            const error = await notes(device).updateObjects({ title: 'a' }, { $push: { tags: 'x' } }).catch(e => e)
            expect(error).toBeInstanceOf(UnloggableOperationError)
            expect(error.code).toBe('UNLOGGABLE_OPERATION')
            expect(await snapshot(device)).toEqual(before)
            expect(await modifies()).toEqual([])
        })

        it('refuses changing a primary key field', async () => {
            const before = await snapshot(device)
            await expect(device.storageManager.operation('updateObject', 'note', { id: 'id-1' }, { id: 'other' })).rejects.toThrow(UnloggableOperationError)
            await expect(notes(device).updateObjects({ title: 'a' }, { $set: { id: 'other' } })).rejects.toThrow(UnloggableOperationError)
            expect(await snapshot(device)).toEqual(before)
            expect(await modifies()).toEqual([])
        })
    })

    describe('deleteObject and deleteObjects', () => {
        beforeEach(async () => {
            for (const title of ['a', 'b', 'b', 'c']) {
                await notes(device).createObject({ title })
            }
        })

        const deletes = async () => (await logged(device)).filter(entry => entry.operation === 'delete')

        it('deleteObject logs a tombstone', async () => {
            await device.storageManager.operation('deleteObject', 'note', { id: 'id-4' })
            expect(await notes(device).findObject({ id: 'id-4' })).toBeNull()
            expect(await deletes()).toEqual([{ collection: 'note', pk: 'id-4', operation: 'delete', field: null, value: null }])
        })

        it.each([
            ['no object', { title: 'zzz' }, []],
            ['one object', { title: 'a' }, ['id-1']],
            ['many objects', { title: 'b' }, ['id-2', 'id-3']],
        ])('deleteObjects where touching %s logs one tombstone per object', async (_name, where, ids) => {
            await notes(device).deleteObjects(where)
            expect(await deletes()).toEqual(ids.map(id => ({ collection: 'note', pk: id, operation: 'delete', field: null, value: null })))
            const left = (await notes(device).findObjects<{ id: string }>({})).map(object => object.id).sort()
            expect(left).toEqual(['id-1', 'id-2', 'id-3', 'id-4'].filter(id => !ids.includes(id)))
        })
    })

    describe('unsafe where clauses', () => {
        beforeEach(async () => {
            await notes(device).createObject({ title: 'a', tags: ['x'] })
            await notes(device).createObject({ title: 'b' })
        })

        it.each([
            ['an array', { tags: ['x'] }],
            ['a Date', { title: new Date(0) }],
            ['an object without operator', { title: { nested: 1 } }],
            ['null', { body: null }],
            ['$or', { $or: [{ title: 'a' }] }],
        ])('%s is refused for updates and deletes, changing nothing', async (_name, where) => {
            const before = await snapshot(device)
            const entriesBefore = await entryCount(device)
            for (const write of [
                () => notes(device).updateObjects(where, { body: 'everything' }),
                () => notes(device).deleteObjects(where),
            ]) {
                const error = await write().catch(e => e)
                expect(error).toBeInstanceOf(UnsafeWhereError)
                expect(error.code).toBe('UNSAFE_WHERE')
            }
            expect(await snapshot(device)).toEqual(before)
            expect(await entryCount(device)).toBe(entriesBefore)
        })
    })

    describe('executeBatch', () => {
        it('resolves placeholders across collections and logs the resolved foreign key', async () => {
            const batch: OperationBatch = [
                { placeholder: 'joe', operation: 'createObject', collection: 'user', args: { name: 'joe' } },
                { placeholder: 'mail', operation: 'createObject', collection: 'email', args: { address: 'joe@x' }, replace: [{ path: 'user', placeholder: 'joe' }] },
            ]
            const result = await device.storageManager.operation('executeBatch', batch)
            expect(result.info.joe.object.id).toBe('id-1')
            expect(result.info.mail.object).toMatchObject({ id: 'id-2', user: 'id-1' })
            expect(await dump(device, 'email')).toEqual([{ id: 'id-2', address: 'joe@x', user: 'id-1' }])
            expect(await logged(device)).toEqual([
                { collection: 'email', pk: 'id-2', operation: 'create', field: null, value: { address: 'joe@x', user: 'id-1' } },
                { collection: 'user', pk: 'id-1', operation: 'create', field: null, value: { name: 'joe' } },
            ])
        })

        it('logs synced steps and passes unsynced steps through unlogged', async () => {
            await notes(device).createObject({ id: 'n1', title: 'one' })
            await notes(device).createObject({ id: 'n2', title: 'two' })
            const batch: OperationBatch = [
                { operation: 'createObject', collection: 'localCache', args: { text: 'cached' } },
                { operation: 'updateObjects', collection: 'note', where: { id: 'n1' }, updates: { title: 'ONE' } },
                { operation: 'deleteObjects', collection: 'note', where: { id: 'n2' } },
                { operation: 'updateObjects', collection: 'localCache', where: { text: 'cached' }, updates: { text: 'changed' } },
                { operation: 'createObject', collection: 'note', args: { id: 'n3', title: 'three' } },
            ]
            await device.storageManager.operation('executeBatch', batch)
            expect(await dump(device, 'localCache')).toEqual([expect.objectContaining({ text: 'changed' })])
            expect((await dump(device, 'note')).map(note => (note as { id: string }).id)).toEqual(['n1', 'n3'])
            const batchEntries = (await device.clientLog.getUnsharedEntries({ limit: 100 })).slice(2)
            expect(new Set(batchEntries.map(entry => entry.version)).size).toBe(1)
            expect(batchEntries.map(({ collection, pk, operation }) => `${operation} ${collection} ${pk}`).sort()).toEqual([
                'create note n3',
                'delete note n2',
                'modify note n1',
            ])
        })

        it('passes a batch that touches only unsynced collections through', async () => {
            await device.storageManager.operation('executeBatch', [{ operation: 'createObject', collection: 'localCache', args: { text: 'x' } }])
            expect(await dump(device, 'localCache')).toHaveLength(1)
            expect(await entryCount(device)).toBe(0)
        })
    })

    describe('pass-through', () => {
        it('does not log writes to excluded collections', async () => {
            const cache = device.storageManager.collection('localCache')
            const { object } = await cache.createObject({ text: 'a' })
            // Not synced, so no UUID either: the backend's auto-increment key.
            expect(typeof object.id).toBe('number')
            await cache.updateObjects({ text: 'a' }, { text: 'b' })
            await device.storageManager.operation('updateObject', 'localCache', { id: object.id }, { text: 'c' })
            await cache.createObject({ text: 'd' })
            await cache.deleteObjects({ text: 'd' })
            await device.storageManager.operation('deleteObject', 'localCache', { id: object.id })
            await device.storageManager.operation('rawCreateObjects', 'localCache', [{ id: 100, text: 'raw' }], {})
            expect(await dump(device, 'localCache')).toEqual([{ id: 100, text: 'raw' }])
            expect(await entryCount(device)).toBe(0)
        })

        it('passes reads through without logging', async () => {
            await notes(device).createObject({ title: 'a', rank: 1 })
            await notes(device).createObject({ title: 'b', rank: 2 })
            const count = await entryCount(device)
            expect(await notes(device).findObjects({ rank: { $gt: 1 } })).toEqual([expect.objectContaining({ title: 'b' })])
            expect(await notes(device).findOneObject({ title: 'a' })).toMatchObject({ rank: 1 })
            expect(await notes(device).countObjects({})).toBe(2)
            expect(await device.storageManager.operation('findObjects', 'note', {}, { limit: 1 })).toHaveLength(1)
            expect(await entryCount(device)).toBe(count)
        })

        it('refuses other write operations on synced collections', async () => {
            const error = await device.storageManager.operation('rawCreateObjects', 'note', [{ id: 'raw', title: 'raw' }], {}).catch(e => e)
            expect(error).toBeInstanceOf(UnloggableOperationError)
            expect(error).toMatchObject({ code: 'UNLOGGABLE_OPERATION', operation: 'rawCreateObjects', collection: 'note' })
            expect(await dump(device, 'note')).toEqual([])
            expect(await entryCount(device)).toBe(0)
        })

        it('passes writes through unlogged while disabled, and logs again once enabled', async () => {
            device.loggingMiddleware.disable()
            expect(device.loggingMiddleware.isEnabled).toBe(false)
            await notes(device).createObject({ id: 'quiet', title: 'unlogged' })
            await notes(device).updateObjects({ id: 'quiet' }, { title: 'still unlogged' })
            expect(await notes(device).findObject({ id: 'quiet' })).toMatchObject({ title: 'still unlogged' })
            expect(await entryCount(device)).toBe(0)
            device.loggingMiddleware.enable()
            await notes(device).createObject({ id: 'loud', title: 'logged' })
            expect(await logged(device)).toEqual([{ collection: 'note', pk: 'loud', operation: 'create', field: null, value: { title: 'logged' } }])
        })

        it('refuses a logged write before a device id is known', async () => {
            const manager = createDexieStorageManager()
            const setup = await createDevice({ sharedLog: new MemorySharedSyncLog(), storageManager: manager })
            const middleware = new SyncLoggingMiddleware({
                registry: manager.registry,
                adapter: setup.adapter,
                clientLog: setup.clientLog,
                clock: new HybridLogicalClock(),
                collections: ['note'],
            })
            manager.setMiddleware([middleware])
            await expect(manager.collection('note').createObject({ id: 'x', title: 'x' })).rejects.toThrow(SyncConfigurationError)
            expect(await manager.collection('note').findObjects({})).toEqual([])
            middleware.enable('late-device')
            await manager.collection('note').createObject({ id: 'x', title: 'x' })
            expect((await setup.clientLog.getUnsharedEntries({ limit: 10 }))[0]).toMatchObject({ deviceId: 'late-device', pk: 'x' })
        })
    })

    describe('compound primary keys', () => {
        it('logs create, update and delete of a compound-key object with an array pk', async () => {
            const settings = device.storageManager.collection('setting')
            await settings.createObject({ scope: 'ui', key: 'theme', value: 'dark' })
            await settings.createObject({ scope: 'ui', key: 'font', value: 12 })
            await settings.createObject({ scope: 'sync', key: 'interval', value: 60 })
            await settings.updateObjects({ scope: 'ui' }, { value: 'reset' })
            await device.storageManager.operation('updateObject', 'setting', { scope: 'sync', key: 'interval' }, { value: 30 })
            await device.storageManager.operation('deleteObject', 'setting', { scope: 'ui', key: 'font' })
            expect(await logged(device)).toEqual([
                { collection: 'setting', pk: ['sync', 'interval'], operation: 'create', field: null, value: { value: 60 } },
                { collection: 'setting', pk: ['sync', 'interval'], operation: 'modify', field: 'value', value: 30 },
                { collection: 'setting', pk: ['ui', 'font'], operation: 'create', field: null, value: { value: 12 } },
                { collection: 'setting', pk: ['ui', 'font'], operation: 'delete', field: null, value: null },
                { collection: 'setting', pk: ['ui', 'font'], operation: 'modify', field: 'value', value: 'reset' },
                { collection: 'setting', pk: ['ui', 'theme'], operation: 'create', field: null, value: { value: 'dark' } },
                { collection: 'setting', pk: ['ui', 'theme'], operation: 'modify', field: 'value', value: 'reset' },
            ])
            expect(await dump(device, 'setting')).toEqual([
                { scope: 'sync', key: 'interval', value: 30 },
                { scope: 'ui', key: 'theme', value: 'reset' },
            ])
        })

        it('refuses an existing compound key', async () => {
            const settings = device.storageManager.collection('setting')
            await settings.createObject({ scope: 'ui', key: 'theme', value: 'dark' })
            await expect(settings.createObject({ scope: 'ui', key: 'theme', value: 'light' })).rejects.toThrow(DuplicatePrimaryKeyError)
            expect(await dump(device, 'setting')).toEqual([{ scope: 'ui', key: 'theme', value: 'dark' }])
            expect(await entryCount(device)).toBe(1)
        })
    })

    it('logs the key the backend assigned when auto-PK is off', async () => {
        const plain = await createTestDevice({ autoPk: false })
        expect(plain.autoPkMiddleware).toBeNull()
        const { object } = await plain.storageManager.collection('user').createObject({ name: 'ann', emails: [{ address: 'ann@x' }] })
        expect(typeof object.id).toBe('number')
        expect(typeof (object.emails as Array<{ id: unknown }>)[0].id).toBe('number')
        expect(await logged(plain)).toEqual([
            { collection: 'email', pk: (object.emails as Array<{ id: number }>)[0].id, operation: 'create', field: null, value: { address: 'ann@x', user: object.id } },
            { collection: 'user', pk: object.id, operation: 'create', field: null, value: { name: 'ann' } },
        ])
    })
})

describe('atomicity on Node 20 (no global navigator)', () => {
    it('runs without a global navigator, the case where storex-backend-dexie skips its transaction', () => {
        expect(typeof navigator).toBe('undefined')
    })

    it('leaves no app change and no entry when a batch step fails after an earlier one succeeded', async () => {
        const device = await createTestDevice()
        await notes(device).createObject({ id: 'taken', title: 'exists' })
        const before = await snapshot(device)
        const batch: OperationBatch = [
            { operation: 'createObject', collection: 'note', args: { id: 'fresh', title: 'first step' } },
            { operation: 'updateObjects', collection: 'note', where: { id: 'taken' }, updates: { title: 'second step' } },
            { operation: 'createObject', collection: 'localCache', args: { text: 'unsynced step' } },
            { operation: 'createObject', collection: 'note', args: { id: 'taken', title: 'duplicate' } },
        ]
        await expect(device.storageManager.operation('executeBatch', batch)).rejects.toThrow(DuplicatePrimaryKeyError)
        expect(await snapshot(device)).toEqual(before)
        expect(await entryCount(device)).toBe(1)
    })

    it('leaves no app change and no entry when the backend itself fails mid-write', async () => {
        const failing = failAfter(await createTestDevice(), 'updateObjects', 1)
        await notes(failing.device).createObject({ id: 'a', title: 'a' })
        await notes(failing.device).createObject({ id: 'b', title: 'b' })
        const before = await snapshot(failing.device)
        failing.arm()
        // The first object is updated, then the backend fails on the second.
        await expect(notes(failing.device).updateObjects({ title: { $in: ['a', 'b'] } }, { $inc: { rank: 1 } })).rejects.toThrow('injected')
        expect(failing.calls()).toBe(2)
        expect(await snapshot(failing.device)).toEqual(before)
        expect(await entryCount(failing.device)).toBe(2)
    })

    it('rolls the app write back when the backend refuses its entry', async () => {
        const device = await createTestDevice()
        const original = device.adapter.atomic.bind(device.adapter)
        let refuse = true
        device.adapter.atomic = <T>(collections: string[], body: (ops: AtomicOperations) => Promise<T>) =>
            original(collections, ops =>
                body({
                    ...ops,
                    createObjects: async (collection, objects) => {
                        if (refuse && collection === CLIENT_LOG_COLLECTIONS.entry) {
                            throw new Error('injected: the log refuses the row')
                        }
                        return ops.createObjects(collection, objects)
                    },
                }),
            )
        await expect(notes(device).createObject({ title: 'doomed', rank: 1 })).rejects.toThrow('injected')
        expect(await dump(device, 'note')).toEqual([])
        expect(await entryCount(device)).toBe(0)
        refuse = false
        const { object } = await notes(device).createObject({ title: 'fine' })
        expect(await dump(device, 'note')).toEqual([expect.objectContaining({ id: object.id, title: 'fine' })])
        expect(await entryCount(device)).toBe(1)
    })

    it('keeps concurrent writes apart: a failing one rolls back alone', async () => {
        const device = await createTestDevice()
        await notes(device).createObject({ id: 'taken', title: 'exists' })
        const writes = Array.from({ length: 20 }, (_, index) =>
            index % 5 === 4
                ? device.storageManager.operation('executeBatch', [
                      { operation: 'createObject', collection: 'note', args: { id: `doomed-${index}`, title: 'doomed' } },
                      { operation: 'createObject', collection: 'note', args: { id: 'taken', title: 'duplicate' } },
                  ])
                : notes(device).createObject({ id: `ok-${index}`, title: 'ok' }),
        )
        const results = await Promise.allSettled(writes)
        expect(results.filter(result => result.status === 'rejected')).toHaveLength(4)
        const ids = (await dump(device, 'note')).map(note => (note as { id: string }).id)
        expect(ids.filter(id => id.startsWith('doomed'))).toEqual([])
        expect(ids).toHaveLength(17)
        const entries = await device.clientLog.getUnsharedEntries({ limit: 100 })
        expect(entries.map(entry => entry.pk).sort()).toEqual([...ids].sort())
        expect(new Set(entries.map(entry => entry.version)).size).toBe(17)
    })

    it('rolls a multi-collection batch back when logging throws inside the transaction', async () => {
        const manager = createDexieStorageManager()
        const device = await createTestDevice({ storageManager: manager })
        await device.storageManager.collection('user').createObject({ id: 'u', name: 'old' })
        const before = await snapshot(device)
        const insertEntries = jest.spyOn(ClientSyncLog.prototype, 'insertEntries').mockImplementation(async (ops: AtomicOperations, entries: SyncLogEntry[]) => {
            // Some entries reach the log before logging fails: they must go too.
            await ops.createObjects(CLIENT_LOG_COLLECTIONS.entry, entries.slice(0, 1).map(entry => ({ ...entry, id: 'partial', objectKey: 'x', shared: 0, needsIntegration: 0 })))
            throw new Error('log is full')
        })
        try {
            const batch: OperationBatch = [
                { operation: 'updateObjects', collection: 'user', where: { id: 'u' }, updates: { name: 'new' } },
                { placeholder: 'e', operation: 'createObject', collection: 'email', args: { address: 'u@x', user: 'u' } },
                { operation: 'createObject', collection: 'localCache', args: { text: 'unsynced' } },
            ]
            await expect(device.storageManager.operation('executeBatch', batch)).rejects.toThrow('log is full')
        } finally {
            insertEntries.mockRestore()
        }
        expect(await snapshot(device)).toEqual(before)
        expect(await entryCount(device)).toBe(1)
    })
})

/** Makes the adapter's `op` throw on its `failOn`-th call (0-based) once armed, inside the transaction. */
function failAfter(device: TestDevice, op: keyof AtomicOperations, failOn: number): { device: TestDevice; arm(): void; calls(): number } {
    const adapter: BackendAdapter = device.adapter
    const original = adapter.atomic.bind(adapter)
    let armed = false
    let calls = 0
    adapter.atomic = <T>(collections: string[], body: (ops: AtomicOperations) => Promise<T>) =>
        original(collections, ops => {
            if (!armed) {
                return body(ops)
            }
            const wrapped: AtomicOperations = {
                ...ops,
                [op]: async (...args: unknown[]) => {
                    if (calls++ === failOn) {
                        throw new Error('injected backend failure')
                    }
                    return (ops[op] as (...a: unknown[]) => Promise<unknown>)(...args)
                },
            }
            return body(wrapped)
        })
    return { device, arm: () => (armed = true), calls: () => calls }
}

