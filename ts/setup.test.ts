import net from 'net'
import StorageManager from '@worldbrain/storex'
import { DexieStorageBackend } from '@worldbrain/storex-backend-dexie'
import inMemory from '@worldbrain/storex-backend-dexie/lib/in-memory'
import { createBackendAdapter } from './backend'
import type { BackendAdapter } from './backend/types'
import { SyncConfigurationError, SyncNotReadyError } from './errors'
import { createDexieStorageManager, SYNCED } from './integration/devices'
import { createSyncService } from './server/service'
import type { SyncService } from './server/service'
import { SqliteDocStore } from './server/store/sqlite'
import { HttpSharedSyncLog } from './shared-log/http'
import { MemorySharedSyncLog } from './shared-log/memory'
import { setupSync } from './setup'
import type { SetupSyncOptions } from './setup'

const services: SyncService[] = []
afterEach(async () => {
    for (const service of services.splice(0)) {
        await service.close()
    }
})

/** A port nothing listens on (taken from the OS, then released). */
async function deadPort(): Promise<number> {
    const server = net.createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as net.AddressInfo).port
    await new Promise<void>((resolve) => server.close(() => resolve()))
    return port
}

async function startService(port = 0) {
    const service = await createSyncService({ store: new SqliteDocStore({ filename: ':memory:' }), port })
    services.push(service)
    return (await service.listen()).url
}

const notes = (storageManager: StorageManager) => storageManager.collection('note')

async function expectUsable(storageManager: StorageManager, sync: { clientLog: { countUnshared(): Promise<number> } }) {
    const before = await sync.clientLog.countUnshared()
    const { object } = await notes(storageManager).createObject({ title: 'still usable' })
    expect(await notes(storageManager).findObject({ id: object.id })).toMatchObject({ title: 'still usable' })
    expect(await sync.clientLog.countUnshared()).toBe(before + 1)
}

describe('setupSync offline', () => {
    it('starts, reads and writes with the service down, and delivers everything once it is up', async () => {
        const port = await deadPort()
        const url = `http://127.0.0.1:${port}`
        const laptopStorage = createDexieStorageManager()
        const laptop = await setupSync({
            storageManager: laptopStorage,
            collections: SYNCED,
            sharedLog: new HttpSharedSyncLog({ url, retry: { retries: 0 } }),
        })
        for (let index = 0; index < 100; index++) {
            await notes(laptopStorage).createObject({ title: `offline note ${index}` })
        }
        expect(await notes(laptopStorage).countObjects({})).toBe(100)
        expect(await laptop.clientLog.countUnshared()).toBe(100)
        await expect(laptop.syncNow()).rejects.toMatchObject({ code: 'SERVICE_UNREACHABLE' })
        expect(await laptop.clientLog.countUnshared()).toBe(100)

        await startService(port)
        expect(await laptop.syncNow()).toMatchObject({ pushed: 100 })
        const phoneStorage = createDexieStorageManager()
        const phone = await setupSync({ storageManager: phoneStorage, collections: SYNCED, sharedLog: new HttpSharedSyncLog({ url }) })
        expect(await phone.syncNow()).toMatchObject({ pulled: 100, applied: 100 })
        const titles = (await notes(phoneStorage).findObjects<{ title: string }>({})).map((note) => note.title).sort()
        expect(titles).toEqual(Array.from({ length: 100 }, (_, index) => `offline note ${index}`).sort())
    })

    it('keeps the device id it made on its first start', async () => {
        const dbName = `restart-${Date.now()}`
        const open = () => {
            const storageManager = new StorageManager({ backend: new DexieStorageBackend({ idbImplementation: inMemorySingleton(), dbName }) })
            storageManager.registry.registerCollections({ note: { version: new Date('2026-01-01'), fields: { title: { type: 'string' } } } })
            return storageManager
        }
        const first = await setupSync({ storageManager: open(), collections: ['note'], sharedLog: new MemorySharedSyncLog() })
        const again = await setupSync({ storageManager: open(), collections: ['note'], sharedLog: new MemorySharedSyncLog() })
        expect(again.deviceId).toBe(first.deviceId)
    })
})

let sharedIdb: ReturnType<typeof inMemory> | null = null
/** One in-memory IndexedDB for the whole file, so a database survives a "restart". */
function inMemorySingleton() {
    sharedIdb ??= inMemory()
    return sharedIdb
}

describe('setupSync refuses misuse with typed errors and leaves the storage manager usable', () => {
    const base = (storageManager: StorageManager): SetupSyncOptions => ({ storageManager, collections: ['note'], sharedLog: new MemorySharedSyncLog() })

    async function expectOptionError(options: unknown, option: string | undefined, message?: RegExp) {
        const attempt = setupSync(options as SetupSyncOptions)
        await expect(attempt).rejects.toBeInstanceOf(SyncConfigurationError)
        await expect(attempt).rejects.toMatchObject({ code: 'SYNC_CONFIGURATION', option })
        if (message) {
            await expect(attempt).rejects.toThrow(message)
        }
    }

    it.each([
        ['collections as a string', { collections: 'note' }, 'collections', /did you mean \['note'\]/],
        ['an empty collections array', { collections: [] }, 'collections', /non-empty/],
        ['an unregistered collection', { collections: ['nope'] }, 'collections', /'nope', which is not registered/],
        ['a collection twice', { collections: ['note', 'note'] }, 'collections', /twice/],
        ['a negative uploadBatchSize', { uploadBatchSize: -1 }, 'uploadBatchSize', /at least 1/],
        ['a zero uploadBatchSize', { uploadBatchSize: 0 }, 'uploadBatchSize', /at least 1/],
        ['a NaN downloadBatchSize', { downloadBatchSize: NaN }, 'downloadBatchSize', /NaN/],
        ['a fractional uploadBatchSize', { uploadBatchSize: 1.5 }, 'uploadBatchSize', /whole number/],
        ['a tiny uploadBatchBytes', { uploadBatchBytes: 10 }, 'uploadBatchBytes', /1024/],
        ['an unknown option', { uploadBatchSzie: 10 }, 'uploadBatchSzie', /not an option/],
        ['a sharedLog that is not one', { sharedLog: {} }, 'sharedLog', /missing writeEntries/],
        ['a non-boolean autoPk', { autoPk: 'yes' }, 'autoPk', /true or false/],
        ['a clock that is not a HybridLogicalClock', { clock: { tick: () => 1 } }, 'clock', /HybridLogicalClock/],
        ['middleware that is not a list', { middleware: {} }, 'middleware', /array/],
    ])('%s', async (_name, override, option, message) => {
        const storageManager = createDexieStorageManager()
        await expectOptionError({ ...base(storageManager), ...override }, option, message)
        // Nothing was touched: a correct call still works and the manager is usable.
        const sync = await setupSync({ ...base(storageManager), collections: SYNCED })
        await expectUsable(storageManager, sync)
    })

    it('refuses a missing options object and a storage manager that is not one', async () => {
        await expectOptionError(undefined, undefined, /options object/)
        await expectOptionError({ storageManager: {}, collections: ['note'], sharedLog: new MemorySharedSyncLog() }, 'storageManager')
    })

    it('refuses a second call on the same storage manager, and the first setup keeps working', async () => {
        const storageManager = createDexieStorageManager()
        const sync = await setupSync({ ...base(storageManager), collections: SYNCED })
        await expectOptionError({ ...base(storageManager), collections: SYNCED }, 'storageManager', /already has sync set up/)
        await expectUsable(storageManager, sync)
    })

    it('refuses a second call while the first is still running', async () => {
        const storageManager = createDexieStorageManager()
        const first = setupSync({ ...base(storageManager), collections: SYNCED })
        await expectOptionError({ ...base(storageManager), collections: SYNCED }, 'storageManager', /being set up/)
        await expectUsable(storageManager, await first)
    })

    it('refuses a storage manager the app already initialized', async () => {
        const storageManager = createDexieStorageManager()
        await storageManager.finishInitialization()
        await expectOptionError({ ...base(storageManager), collections: SYNCED }, 'storageManager', /already initialized/)
    })

    it('refuses writes to synced collections while setupSync runs, with a typed error', async () => {
        const storageManager = createDexieStorageManager()
        const setup = setupSync({ ...base(storageManager), collections: SYNCED })
        const early = notes(storageManager).createObject({ title: 'too early' })
        await expect(early).rejects.toBeInstanceOf(SyncNotReadyError)
        await expect(early).rejects.toMatchObject({ code: 'SYNC_NOT_READY', collection: 'note', setupFailed: false })
        const sync = await setup
        expect(await notes(storageManager).countObjects({})).toBe(0)
        await expectUsable(storageManager, sync)
    })

    it('after a failed setup refuses synced writes with the cause, keeps other collections working, and can be retried', async () => {
        const storageManager = createDexieStorageManager()
        let adapter: BackendAdapter | null = null
        const failing: BackendAdapter = {
            name: 'failing',
            atomic: (collections, body) => adapter!.atomic(collections, body),
            findObjects: (collection, where, options) => adapter!.findObjects(collection, where, options),
            checkWhere: (collection, where) => adapter!.checkWhere(collection, where),
            prepare: async () => {
                adapter = createBackendAdapter(storageManager)
                throw new Error('disk full')
            },
        }
        await expect(setupSync({ ...base(storageManager), collections: SYNCED, backendAdapter: failing })).rejects.toThrow('disk full')
        const refused = notes(storageManager).createObject({ title: 'after failure' })
        await expect(refused).rejects.toMatchObject({ code: 'SYNC_NOT_READY', setupFailed: true })
        await expect(refused).rejects.toThrow(/disk full/)
        // Unsynced collections and reads still work.
        await storageManager.collection('localCache').createObject({ text: 'kept' })
        expect(await storageManager.collection('localCache').countObjects({})).toBe(1)

        const sync = await setupSync({ ...base(storageManager), collections: SYNCED })
        await expectUsable(storageManager, sync)
    })

    it('refuses a collection registered after setupSync', async () => {
        const storageManager = createDexieStorageManager()
        const sync = await setupSync({ ...base(storageManager), collections: SYNCED })
        expect(() => storageManager.registry.registerCollections({ late: { version: new Date('2026-01-01'), fields: { text: { type: 'string' } } } })).toThrow(
            expect.objectContaining({ code: 'SYNC_CONFIGURATION', message: expect.stringMatching(/'late' was registered after setupSync/) }),
        )
        await expectUsable(storageManager, sync)
    })
})

describe('setupSync leaves the app schema objects alone', () => {
    it('one schema constant serves several managers, with and without sync', async () => {
        const schema = {
            note: { version: new Date('2026-01-01'), fields: { title: { type: 'string' as const } } },
            tag: { version: new Date('2026-01-01'), fields: { name: { type: 'string' as const } } },
        }
        const managers: StorageManager[] = []
        const make = () => {
            const storageManager = new StorageManager({ backend: new DexieStorageBackend({ idbImplementation: inMemory(), dbName: `shared-schema-${managers.length}` }) })
            storageManager.registry.registerCollections(schema)
            managers.push(storageManager)
            return storageManager
        }
        const synced = make()
        const sharedLog = new MemorySharedSyncLog()
        await setupSync({ storageManager: synced, collections: ['note', 'tag'], sharedLog })
        const before = JSON.stringify(schema, (key, value) => (key === 'fieldObject' ? undefined : value))

        const plain = make()
        await plain.finishInitialization()
        const { object: plainNote } = await plain.collection('note').createObject({ title: 'plain' })
        expect(typeof plainNote.id).toBe('number')

        const syncedAgain = make()
        await setupSync({ storageManager: syncedAgain, collections: ['note'], sharedLog })
        const { object: syncedNote } = await syncedAgain.collection('note').createObject({ title: 'synced' })
        expect(typeof syncedNote.id).toBe('string')
        const { object: plainTag } = await syncedAgain.collection('tag').createObject({ name: 'not synced here' })
        expect(typeof plainTag.id).toBe('number')
        const { object: syncedTag } = await synced.collection('tag').createObject({ name: 'synced' })
        expect(typeof syncedTag.id).toBe('string')

        expect(JSON.stringify(schema, (key, value) => (key === 'fieldObject' ? undefined : value))).toBe(before)
        expect((schema.note.fields as Record<string, { type: string }>).id.type).toBe('auto-pk')
    })
})

describe('first contact with the service', () => {
    it('uploads each entry once: the reconciliation carries them, the push does not repeat them', async () => {
        const url = await startService()
        let uploadedDocs = 0
        let uploadedBytes = 0
        const counting: typeof fetch = async (input, init) => {
            const path = new URL(String(input)).pathname
            if ((path === '/Docs' || path === '/Reconcile') && typeof init?.body === 'string') {
                uploadedDocs += (JSON.parse(init.body) as { docs: unknown[] }).docs.length
                uploadedBytes += new TextEncoder().encode(init.body).byteLength
            }
            return fetch(input, init)
        }
        const storageManager = createDexieStorageManager()
        const sync = await setupSync({ storageManager, collections: SYNCED, sharedLog: new HttpSharedSyncLog({ url, fetch: counting }) })
        for (let index = 0; index < 200; index++) {
            await notes(storageManager).createObject({ title: `note ${index}`, body: 'x'.repeat(100) })
        }
        expect(await sync.syncNow()).toMatchObject({ pushed: 200 })
        console.log(`first contact: ${uploadedDocs} documents, ${uploadedBytes} bytes uploaded for 200 notes`)
        expect(uploadedDocs).toBe(200)

        const phoneStorage = createDexieStorageManager()
        const phone = await setupSync({ storageManager: phoneStorage, collections: SYNCED, sharedLog: new HttpSharedSyncLog({ url }) })
        expect(await phone.syncNow()).toMatchObject({ applied: 200 })
    })
})
