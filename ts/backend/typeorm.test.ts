import StorageManager from '@worldbrain/storex'
import { TypeormBackendAdapter } from './typeorm'
import { createBackendAdapter } from './index'
import type { AtomicOperations, BackendAdapter, StoredObject } from './types'
import { CLIENT_LOG_COLLECTIONS, prepareClientLogCollections, registerClientLogCollections } from '../client-log/collections'
import { closeStorageManager, createSqliteStorageManager, dump, registerTestCollections, SYNCED } from '../integration/devices'
import type { TestDevice } from '../integration/devices'
import { MemorySharedSyncLog } from '../shared-log/memory'
import { setupSync } from '../setup'
import type { SetupSyncOptions } from '../setup'
import { UnsafeWhereError } from '../errors'
import { CustomAutoPkMiddleware } from '../middleware/auto-pk'

const opened: StorageManager[] = []

afterAll(async () => {
    for (const storageManager of opened) {
        await closeStorageManager(storageManager)
    }
})

/**
 * A SQLite storage manager set up as setupSync does it (client log registered, synced keys made
 * strings, tables created), without the middleware: the adapter on its own. `localCache` keeps
 * its auto-increment key.
 */
async function preparedAdapter(): Promise<{ storageManager: StorageManager; adapter: BackendAdapter }> {
    const storageManager = createSqliteStorageManager()
    opened.push(storageManager)
    registerClientLogCollections(storageManager.registry)
    new CustomAutoPkMiddleware({ collections: SYNCED }).setup({ registry: storageManager.registry })
    await storageManager.finishInitialization()
    const adapter = createBackendAdapter(storageManager)
    await adapter.prepare()
    return { storageManager, adapter }
}

async function device(options: Partial<SetupSyncOptions> = {}): Promise<TestDevice> {
    const storageManager = createSqliteStorageManager()
    opened.push(storageManager)
    const setup = await setupSync({ storageManager, collections: SYNCED, sharedLog: new MemorySharedSyncLog(), ...options })
    return { ...setup, storageManager }
}

const logEntries = (target: TestDevice) => target.adapter.findObjects(CLIENT_LOG_COLLECTIONS.entry, {})

/** Makes the log insert of the next transactions fail, as a full disk would. */
class FailingLogAdapter implements BackendAdapter {
    readonly name = 'failing-log'
    failLog = false

    constructor(private readonly inner: BackendAdapter) {}

    atomic<T>(collections: string[], body: (ops: AtomicOperations) => Promise<T>): Promise<T> {
        return this.inner.atomic(collections, ops =>
            body({
                ...ops,
                createObjects: async (collection, objects) => {
                    if (this.failLog && collection === CLIENT_LOG_COLLECTIONS.entry) {
                        throw new Error('log write failed')
                    }
                    await ops.createObjects(collection, objects)
                },
            }),
        )
    }

    findObjects(collection: string, where: StoredObject, options?: { limit?: number; order?: Array<[string, 'asc' | 'desc']> }): Promise<StoredObject[]> {
        return this.inner.findObjects(collection, where, options)
    }

    checkWhere(collection: string, where: StoredObject): void {
        this.inner.checkWhere(collection, where)
    }

    prepare(): Promise<void> {
        return this.inner.prepare()
    }
}

describe('TypeormBackendAdapter', () => {
    it('is picked for a storex-backend-typeorm backend', async () => {
        const { adapter } = await preparedAdapter()
        expect(adapter).toBeInstanceOf(TypeormBackendAdapter)
        expect(adapter.name).toBe('typeorm')
    })

    describe('operations', () => {
        it('createObject inserts, refuses an existing key, and returns the generated key', async () => {
            const { adapter } = await preparedAdapter()
            const created = await adapter.atomic(['localCache'], ops => ops.createObject('localCache', { text: 'a' }))
            expect(created).toEqual({ text: 'a', id: 1 })
            await adapter.atomic(['note'], ops => ops.createObject('note', { id: 'n7', title: 'first' }))
            await expect(adapter.atomic(['note'], ops => ops.createObject('note', { id: 'n7', title: 'second' }))).rejects.toThrow(/UNIQUE/)
            expect(await adapter.findObjects('note', {})).toEqual([{ id: 'n7', title: 'first' }])
        })

        it('createObject leaves the given object untouched (JSON and relationship fields are cleaned on a copy)', async () => {
            const { adapter } = await preparedAdapter()
            const note = { id: 'n1', title: 'tagged', tags: ['x', { deep: true }] }
            await adapter.atomic(['note'], ops => ops.createObject('note', note))
            expect(note).toEqual({ id: 'n1', title: 'tagged', tags: ['x', { deep: true }] })
            await adapter.atomic(['user'], ops => ops.createObject('user', { id: 'u1', name: 'joe' }))
            const email = { id: 'e1', address: 'joe@x', user: 'u1' }
            await adapter.atomic(['email'], ops => ops.createObject('email', email))
            expect(email).toEqual({ id: 'e1', address: 'joe@x', user: 'u1' })
            expect(await adapter.findObjects('email', { user: 'u1' })).toEqual([{ id: 'e1', address: 'joe@x', user: 'u1' }])
            expect((await adapter.findObjects('note', {}))[0].tags).toEqual(['x', { deep: true }])
        })

        it('createObjects inserts in bulk, over several statements when needed, and fails on an existing key', async () => {
            const { adapter } = await preparedAdapter()
            const objects = Array.from({ length: 3000 }, (_, index) => ({ key: `k${index}`, value: { index } }))
            await adapter.atomic([CLIENT_LOG_COLLECTIONS.state], ops => ops.createObjects(CLIENT_LOG_COLLECTIONS.state, objects))
            expect(await adapter.findObjects(CLIENT_LOG_COLLECTIONS.state, { key: 'k2999' })).toEqual([{ key: 'k2999', value: { index: 2999 } }])
            await expect(
                adapter.atomic([CLIENT_LOG_COLLECTIONS.state], ops => ops.createObjects(CLIENT_LOG_COLLECTIONS.state, [{ key: 'new', value: 1 }, { key: 'k5', value: 0 }])),
            ).rejects.toThrow(/UNIQUE/)
            expect(await adapter.findObjects(CLIENT_LOG_COLLECTIONS.state, { key: 'new' })).toEqual([])
            await adapter.atomic([CLIENT_LOG_COLLECTIONS.state], ops => ops.createObjects(CLIENT_LOG_COLLECTIONS.state, []))
        })

        it('putObject upserts and replaces the whole object', async () => {
            const { adapter } = await preparedAdapter()
            await adapter.atomic(['note'], ops => ops.putObject('note', { id: 'n1', title: 'one', body: 'text', rank: 3 }))
            await adapter.atomic(['note'], ops => ops.putObject('note', { id: 'n1', title: 'replaced' }))
            expect(await adapter.findObjects('note', {})).toEqual([{ id: 'n1', title: 'replaced' }])
            await adapter.atomic(['setting'], ops => ops.putObject('setting', { scope: 'ui', key: 'theme', value: 'dark' }))
            await adapter.atomic(['setting'], ops => ops.putObject('setting', { scope: 'ui', key: 'theme', value: 'light' }))
            await adapter.atomic(['setting'], ops => ops.putObject('setting', { scope: 'app', key: 'theme', value: 'x' }))
            expect(await adapter.findObjects('setting', { scope: 'ui' })).toEqual([{ scope: 'ui', key: 'theme', value: 'light' }])
        })

        it('putObjects upserts many rows in one statement, replacing whole objects, and rolls back with its transaction', async () => {
            const { adapter } = await preparedAdapter()
            await adapter.atomic(['note'], ops => ops.putObjects!('note', [{ id: 'n1', title: 'one', body: 'text', rank: 3 }, { id: 'n2', title: 'two' }]))
            await adapter.atomic(['note'], ops => ops.putObjects!('note', [{ id: 'n1', title: 'replaced' }, { id: 'n3', title: 'three', rank: 1 }]))
            expect(await adapter.findObjects('note', {}, { order: [['id', 'asc']] })).toEqual([{ id: 'n1', title: 'replaced' }, { id: 'n2', title: 'two' }, { id: 'n3', title: 'three', rank: 1 }])
            await expect(
                adapter.atomic(['note'], async ops => {
                    await ops.putObjects!('note', [{ id: 'n4', title: 'four' }])
                    throw new Error('after the write')
                }),
            ).rejects.toThrow('after the write')
            expect(await adapter.findObjects('note', { id: 'n4' })).toEqual([])
        })

        it('putObject replaces by delete and insert where the driver has no upsert', async () => {
            const { storageManager, adapter } = await preparedAdapter()
            const driver = (storageManager.backend as unknown as { connection: { driver: { supportedUpsertType?: string } } }).connection.driver
            driver.supportedUpsertType = undefined
            await adapter.atomic(['note'], ops => ops.putObject('note', { id: 'n1', title: 'one', body: 'text' }))
            await adapter.atomic(['note'], ops => ops.putObject('note', { id: 'n1', title: 'replaced' }))
            expect(await adapter.findObjects('note', {})).toEqual([{ id: 'n1', title: 'replaced' }])
        })

        it('findObjects supports operators, order and limit', async () => {
            const { adapter } = await preparedAdapter()
            await adapter.atomic(['note'], async ops => {
                for (const rank of [5, 1, 4, 2, 3]) {
                    await ops.createObject('note', { id: `n${rank}`, title: `t${rank}`, rank })
                }
            })
            const ids = (objects: StoredObject[]) => objects.map(object => object.id)
            expect(ids(await adapter.findObjects('note', { rank: { $gt: 2 } }, { order: [['rank', 'asc']] }))).toEqual(['n3', 'n4', 'n5'])
            expect(ids(await adapter.findObjects('note', { rank: { $lte: 2 } }, { order: [['rank', 'desc']] }))).toEqual(['n2', 'n1'])
            expect(ids(await adapter.findObjects('note', { id: { $in: ['n1', 'n5', 'nx'] } }, { order: [['rank', 'asc']] }))).toEqual(['n1', 'n5'])
            expect(ids(await adapter.findObjects('note', { title: { $ne: 't3' } }, { order: [['rank', 'asc']], limit: 2 }))).toEqual(['n1', 'n2'])
            expect(ids(await adapter.findObjects('note', {}, { order: [['rank', 'desc']], limit: 1 }))).toEqual(['n5'])
            expect(await adapter.findObjects('note', { id: { $in: [] } })).toEqual([])
        })

        it('updateObjects and deleteObjects work on camel-case collections and compound keys', async () => {
            const { adapter } = await preparedAdapter()
            await adapter.atomic(['localCache', 'setting'], async ops => {
                await ops.createObjects('localCache', [{ text: 'a' }, { text: 'b' }, { text: 'c' }])
                await ops.createObjects('setting', [{ scope: 'ui', key: 'a', value: 1 }, { scope: 'ui', key: 'b', value: 2 }])
            })
            await adapter.atomic(['localCache', 'setting'], async ops => {
                await ops.updateObjects('localCache', { text: { $in: ['a', 'b'] } }, { text: 'changed' })
                await ops.deleteObjects('localCache', { text: 'c' })
                await ops.updateObjects('setting', { scope: 'ui', key: 'b' }, { value: { nested: [1] } })
                await ops.deleteObjects('setting', { key: 'a' })
            })
            expect(await adapter.findObjects('localCache', {})).toEqual([{ id: 1, text: 'changed' }, { id: 2, text: 'changed' }])
            expect(await adapter.findObjects('setting', {})).toEqual([{ scope: 'ui', key: 'b', value: { nested: [1] } }])
            const updates = { value: { kept: true } }
            await adapter.atomic(['setting'], ops => ops.updateObjects('setting', {}, updates))
            expect(updates).toEqual({ value: { kept: true } })
            await adapter.atomic(['setting'], ops => ops.deleteObjects('setting', {}))
            expect(await adapter.findObjects('setting', {})).toEqual([])
        })

        it('reads inside the transaction see its own writes; a failed body leaves nothing', async () => {
            const { adapter } = await preparedAdapter()
            await expect(
                adapter.atomic(['note'], async ops => {
                    await ops.createObject('note', { id: 'n1', title: 'draft' })
                    expect(await ops.findObjects('note', { id: 'n1' })).toHaveLength(1)
                    await ops.updateObjects('note', { id: 'n1' }, { title: 'changed' })
                    throw new Error('abort')
                }),
            ).rejects.toThrow('abort')
            expect(await adapter.findObjects('note', {})).toEqual([])
        })

        it('runs concurrent transactions, reads and app writes one after another', async () => {
            const { storageManager, adapter } = await preparedAdapter()
            const bodies = Array.from({ length: 5 }, (_, index) =>
                adapter.atomic(['note'], async ops => {
                    await ops.createObject('note', { id: `n${index}`, title: 'a' })
                    await ops.updateObjects('note', { id: `n${index}` }, { title: 'b' })
                }),
            )
            const appWrites = Array.from({ length: 5 }, (_, index) => storageManager.collection('localCache').createObject({ text: `${index}` }))
            const reads = Array.from({ length: 5 }, () => adapter.findObjects('note', {}))
            await Promise.all([...bodies, ...appWrites, ...reads])
            for (const read of await Promise.all(reads)) {
                expect(read.every(note => note.title === 'b')).toBe(true)
            }
            expect(await adapter.findObjects('note', { title: 'b' })).toHaveLength(5)
            expect(await adapter.findObjects('localCache', {})).toHaveLength(5)
        })
        it("keeps the app's own writes and outside reads out of an open transaction", async () => {
            const { storageManager, adapter } = await preparedAdapter()
            let appWrite: Promise<unknown> | null = null
            let outsideRead: Promise<StoredObject[]> | null = null
            const failing = adapter.atomic(['note'], async ops => {
                await ops.createObject('note', { id: 'n1', title: 'rolled back' })
                // Issued while the transaction is open: on the shared connection the write would
                // join it, and the read would see its uncommitted row.
                appWrite = storageManager.collection('localCache').createObject({ text: 'kept' })
                outsideRead = adapter.findObjects('note', {})
                for (let read = 0; read < 10; read++) {
                    await ops.findObjects('note', {})
                }
                throw new Error('abort')
            })
            await expect(failing).rejects.toThrow('abort')
            await appWrite
            expect(await outsideRead).toEqual([])
            expect(await adapter.findObjects('note', {})).toEqual([])
            expect(await adapter.findObjects('localCache', {})).toEqual([{ id: 1, text: 'kept' }])
        })
    })

    describe('checkWhere', () => {
        it('refuses where clauses SQL would evaluate differently', async () => {
            const { adapter } = await preparedAdapter()
            const refused: StoredObject[] = [
                { title: null },
                { title: ['a'] },
                { title: { deep: 'x' } },
                { title: 5 },
                { rank: '5' },
                { rank: { $in: [1, '2'] } },
                { rank: { $gt: 1, $lt: 5 } },
                { rank: { $nin: [1] } },
                { tags: { $gt: 'a' } },
                { $or: [{ title: 'a' }] },
            ]
            for (const where of refused) {
                expect(() => adapter.checkWhere('note', where)).toThrow(UnsafeWhereError)
            }
            for (const where of [{ title: 'a' }, { rank: { $gte: 2 } }, { id: { $in: ['a', 'b'] } }, { title: { $ne: 'x' } }, { body: { $ne: 'x' } }, { tags: 'x' }]) {
                expect(() => adapter.checkWhere('note', where)).not.toThrow()
            }
            expect(() => adapter.checkWhere('email', { user: 'u1' })).not.toThrow()
            expect(() => adapter.checkWhere('localCache', { id: '1' })).toThrow(UnsafeWhereError)
        })
    })

    describe('prepare', () => {
        it('creates the tables once and lets a parent go before its children, as IndexedDB does', async () => {
            const { storageManager, adapter } = await preparedAdapter()
            await adapter.prepare()
            await createBackendAdapter(storageManager).prepare()
            await adapter.atomic(['user', 'email'], async ops => {
                await ops.createObject('user', { id: 'u1', name: 'joe' })
                await ops.createObject('email', { id: 'e1', address: 'joe@x', user: 'u1' })
                await ops.deleteObjects('user', { id: 'u1' })
                await ops.createObject('email', { id: 'e2', address: 'orphan@x', user: 'u2' })
            })
            expect(await adapter.findObjects('email', {})).toHaveLength(2)
        })
        it('keeps foreign keys enforced when asked to', async () => {
            const storageManager = createSqliteStorageManager()
            opened.push(storageManager)
            registerClientLogCollections(storageManager.registry)
            new CustomAutoPkMiddleware({ collections: SYNCED }).setup({ registry: storageManager.registry })
            await storageManager.finishInitialization()
            const adapter = new TypeormBackendAdapter({ storageManager, enforceForeignKeys: true })
            await adapter.prepare()
            await expect(adapter.atomic(['email'], ops => ops.createObject('email', { id: 'e1', address: 'orphan@x', user: 'u2' }))).rejects.toThrow(/FOREIGN KEY/)
        })
    })

    describe("the client log's key", () => {
        it('is an AUTOINCREMENT integer, gets the declared index (objectKey) and loses those of older layouts (id, version)', async () => {
            const { storageManager, adapter } = await preparedAdapter()
            await prepareClientLogCollections(adapter, storageManager.registry)
            const connection = (storageManager.backend as unknown as { connection: { query(sql: string): Promise<Array<{ sql: string; detail: string }>> } }).connection
            // A database from before the plain index existed gets it at its next start, and one
            // from a layout that indexed the entry id (unique before 2026-12-03, plain after) and
            // the version loses those; setupSync runs this at every start, so it is idempotent too.
            await connection.query('DROP INDEX "sync_log_objectKey_index"')
            await connection.query('CREATE UNIQUE INDEX "sync_log_id_unique" ON "sync_log" ("id")')
            await connection.query('CREATE INDEX "sync_log_id_index" ON "sync_log" ("id")')
            await connection.query('CREATE INDEX "sync_log_version_index" ON "sync_log" ("version")')
            await prepareClientLogCollections(adapter, storageManager.registry)
            await prepareClientLogCollections(adapter, storageManager.registry)
            const [table] = await connection.query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'sync_log'")
            expect(table.sql).toMatch(/"seq" integer PRIMARY KEY AUTOINCREMENT/)
            const indices = (await connection.query("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sync_log' AND sql IS NOT NULL")).map(index => index.sql)
            expect(indices).toEqual([expect.stringMatching(/CREATE INDEX "sync_log_objectKey_index" ON "sync_log" \("objectKey"\)/)])
            // The reconciliation's lookup uses its index instead of scanning the log.
            const plan = await connection.query(`EXPLAIN QUERY PLAN SELECT * FROM "sync_log" WHERE "objectKey" IN ('note/["a"]', 'note/["b"]')`)
            expect(plan.map(step => step.detail).join(' ')).toMatch(/USING INDEX "?sync_log_objectKey_index/)
        })

        it('setupSync refuses a backend whose generated keys are not increasing (UUIDs), naming the option', async () => {
            const { TypeORMStorageBackend } = require('@worldbrain/storex-backend-typeorm') as typeof import('@worldbrain/storex-backend-typeorm')
            const backend = new TypeORMStorageBackend({
                connectionOptions: { type: 'sqlite', database: ':memory:', name: 'uuid-keys' },
                autoPkOptions: { generated: 'uuid', type: 'text' },
            } as unknown as ConstructorParameters<typeof TypeORMStorageBackend>[0])
            const storageManager = new StorageManager({ backend })
            opened.push(storageManager)
            registerTestCollections(storageManager)
            await expect(setupSync({ storageManager, collections: SYNCED, sharedLog: new MemorySharedSyncLog() })).rejects.toMatchObject({ code: 'SYNC_CONFIGURATION', option: 'autoPkOptions' })
        })
    })
})

describe('sync on SQLite', () => {
    it('gives synced collections UUID keys in a text column', async () => {
        const a = await device()
        const { object } = await a.storageManager.collection('note').createObject({ title: 'hello' })
        expect(object.id).toMatch(/^[0-9a-f-]{36}$/)
        expect(await dump(a, 'note')).toEqual([{ id: object.id, title: 'hello' }])
        const entries = await logEntries(a)
        expect(entries.map(entry => [entry.collection, entry.pk, entry.operation])).toEqual([['note', object.id, 'create']])
    })

    it('logs auto-increment keys as the backend assigned them when auto-PK is off', async () => {
        const a = await device({ autoPk: false })
        const first = await a.storageManager.collection('note').createObject({ title: 'one' })
        const second = await a.storageManager.collection('user').createObject({ name: 'joe', emails: [{ address: 'joe@x' }] })
        expect(first.object.id).toBe(1)
        expect(second.object).toEqual({ id: 1, name: 'joe', emails: [{ id: 1, address: 'joe@x' }] })
        const creates = (await logEntries(a)).filter(entry => entry.operation === 'create')
        expect(creates.map(entry => [entry.collection, entry.pk])).toEqual([['note', 1], ['user', 1], ['email', 1]])
        const b = await device({ autoPk: false, sharedLog: a.sharedLog })
        await a.syncNow()
        await b.syncNow()
        expect(await dump(b, 'email')).toEqual(await dump(a, 'email'))
        expect(await dump(b, 'note')).toEqual([{ id: 1, title: 'one' }])
    })

    it('is atomic: a write that fails after its first step leaves nothing written and nothing logged', async () => {
        const a = await device()
        await a.storageManager.collection('note').createObject({ id: 'taken', title: 'first' })
        const before = await logEntries(a)
        await expect(
            a.storageManager.operation('executeBatch', [
                { operation: 'createObject', collection: 'note', args: { title: 'step one' } },
                { operation: 'updateObjects', collection: 'note', where: { id: 'taken' }, updates: { title: 'step two' } },
                // SQLite refuses a missing required field: the third step fails.
                { operation: 'createObject', collection: 'user', args: { name: null } },
            ]),
        ).rejects.toThrow(/NOT NULL constraint failed: user.name/)
        expect(await dump(a, 'note')).toEqual([{ id: 'taken', title: 'first' }])
        expect(await logEntries(a)).toEqual(before)
    })

    it('is atomic: a log write that fails rolls the write back', async () => {
        const storageManager = createSqliteStorageManager()
        opened.push(storageManager)
        const failing = new FailingLogAdapter(new TypeormBackendAdapter({ storageManager }))
        const setup = await setupSync({ storageManager, collections: SYNCED, sharedLog: new MemorySharedSyncLog(), backendAdapter: failing })
        const a: TestDevice = { ...setup, storageManager }
        await storageManager.collection('note').createObject({ id: 'kept', title: 'kept' })
        failing.failLog = true
        await expect(storageManager.collection('note').createObject({ title: 'lost' })).rejects.toThrow('log write failed')
        await expect(storageManager.operation('updateObject', 'note', { id: 'kept' }, { title: 'lost' })).rejects.toThrow('log write failed')
        await expect(storageManager.collection('note').deleteObjects({ id: 'kept' })).rejects.toThrow('log write failed')
        failing.failLog = false
        expect(await dump(a, 'note')).toEqual([{ id: 'kept', title: 'kept' }])
        expect((await logEntries(a)).map(entry => entry.pk)).toEqual(['kept'])
    })
})
