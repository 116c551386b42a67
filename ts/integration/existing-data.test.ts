import type StorageManager from '@worldbrain/storex'
import { CLIENT_LOG_COLLECTIONS } from '../client-log/collections'
import { MemorySharedSyncLog } from '../shared-log/memory'
import { setupSync } from '../setup'
import { SYNCED, canonicalJson, closeStorageManager, createSqliteStorageManager, dump, sqliteTempFile } from './devices'
import type { TestDevice } from './devices'

const opened: StorageManager[] = []

afterAll(async () => {
    for (const storageManager of opened) {
        await closeStorageManager(storageManager)
    }
})

/** Expected objects in the order `dump` lists them. */
function rows(...objects: object[]): unknown[] {
    return objects.map(canonicalJson).sort().map(text => JSON.parse(text))
}

function open(database: string): StorageManager {
    const storageManager = createSqliteStorageManager({ database })
    opened.push(storageManager)
    return storageManager
}

/** The app before sync: plain Storex on SQLite, auto-increment keys, then closed. */
async function createExistingDatabase(): Promise<string> {
    const database = sqliteTempFile()
    const storageManager = open(database)
    await storageManager.finishInitialization()
    await (storageManager.backend as unknown as { migrate(): Promise<void> }).migrate()
    await storageManager.collection('note').createObject({ title: 'old one', rank: 1, tags: ['a'] })
    await storageManager.collection('note').createObject({ title: 'old two' })
    const { object: user } = await storageManager.collection('user').createObject({ name: 'joe' })
    await storageManager.collection('email').createObject({ address: 'joe@x', user: user.id })
    await storageManager.collection('setting').createObject({ scope: 'ui', key: 'theme', value: 'dark' })
    await closeStorageManager(storageManager)
    return database
}

async function entries(device: TestDevice): Promise<Array<[unknown, unknown, unknown, unknown]>> {
    const rows = await device.adapter.findObjects(CLIENT_LOG_COLLECTIONS.entry, {}, { order: [['version', 'asc']] })
    return rows.map(row => [row.collection, row.pk, row.operation, row.field ?? null])
}

describe('an existing SQLite database, sync switched on later', () => {
    it('keeps existing objects readable and writable, and logs new writes', async () => {
        const database = await createExistingDatabase()
        const storageManager = open(database)
        const setup = await setupSync({ storageManager, collections: SYNCED, sharedLog: new MemorySharedSyncLog() })
        const device: TestDevice = { ...setup, storageManager }

        // Readable. The auto-PK middleware turned the key columns into text: old keys read as strings.
        expect(await dump(device, 'note')).toEqual(rows({ id: '1', title: 'old one', rank: 1, tags: ['a'] }, { id: '2', title: 'old two' }))
        expect(await dump(device, 'email')).toEqual([{ id: '1', address: 'joe@x', user: '1' }])
        expect(await dump(device, 'setting')).toEqual([{ scope: 'ui', key: 'theme', value: 'dark' }])
        expect(await entries(device)).toEqual([])

        // Writable, and each write is logged under the object's key.
        await storageManager.operation('updateObject', 'note', { id: '1' }, { title: 'changed', $inc: { rank: 1 } })
        await storageManager.operation('updateObjects', 'setting', { scope: 'ui', key: 'theme' }, { value: 'light' })
        await storageManager.collection('note').deleteObjects({ title: 'old two' })
        const { object: created } = await storageManager.collection('note').createObject({ title: 'new' })
        const { object: email } = await storageManager.collection('email').createObject({ address: 'joe@y', user: '1' })

        expect(created.id).toMatch(/^[0-9a-f-]{36}$/)
        expect(await dump(device, 'note')).toEqual(rows({ id: '1', title: 'changed', rank: 2, tags: ['a'] }, { id: created.id, title: 'new' }))
        expect(await dump(device, 'email')).toHaveLength(2)
        expect((await entries(device)).sort()).toEqual(
            [
                ['note', '1', 'modify', 'title'],
                ['note', '1', 'modify', 'rank'],
                ['setting', ['ui', 'theme'], 'modify', 'value'],
                ['note', '2', 'delete', null],
                ['note', created.id, 'create', null],
                ['email', email.id, 'create', null],
            ].sort(),
        )
        expect((await device.syncNow()).pushed).toBe(6)
    })

    it('keeps working after a restart with sync on', async () => {
        const database = await createExistingDatabase()
        const first = open(database)
        const before = await setupSync({ storageManager: first, collections: SYNCED, sharedLog: new MemorySharedSyncLog() })
        await first.collection('note').createObject({ title: 'made with sync on' })
        await closeStorageManager(first)

        const storageManager = open(database)
        const after = await setupSync({ storageManager, collections: SYNCED, sharedLog: before.sharedLog })
        expect(after.deviceId).toBe(before.deviceId)
        expect((await dump({ ...after, storageManager }, 'note')).map(note => (note as { title: string }).title).sort()).toEqual(['made with sync on', 'old one', 'old two'])
        await storageManager.operation('updateObject', 'note', { id: '2' }, { body: 'edited after restart' })
        expect(await after.clientLog.countEntries()).toBe(2)
    })
})
