import StorageManager from '@worldbrain/storex'
import { DexieStorageBackend } from '@worldbrain/storex-backend-dexie'
import inMemory from '@worldbrain/storex-backend-dexie/lib/in-memory'
import { entryId } from '../entries'
import { SyncConfigurationError } from '../errors'
import { makeEntries, makeEntry, runSharedSyncLogContractTests } from '../testing'
import { InvalidSharedLogArgumentError } from './arguments'
import { SHARED_LOG_COLLECTIONS, StorexSharedSyncLog } from './storex'

let databases = 0

async function createStorageManager(options: { withApp?: boolean } = {}): Promise<StorageManager> {
    const backend = new DexieStorageBackend({ idbImplementation: inMemory(), dbName: `shared-log-${++databases}` })
    const storageManager = new StorageManager({ backend })
    if (options.withApp) {
        storageManager.registry.registerCollections({
            note: {
                version: new Date('2026-06-01'),
                fields: { id: { type: 'string' }, title: { type: 'string' } },
                indices: [{ field: 'id', pk: true }],
            },
        })
    }
    StorexSharedSyncLog.registerCollections(storageManager.registry)
    await storageManager.finishInitialization()
    return storageManager
}

runSharedSyncLogContractTests('StorexSharedSyncLog (Dexie)', async () => ({
    log: new StorexSharedSyncLog({ storageManager: await createStorageManager() }),
}), { cursorPassesOwnEntries: true })

describe('StorexSharedSyncLog', () => {
    it('refuses a storage manager without its collections', async () => {
        const storageManager = new StorageManager({
            backend: new DexieStorageBackend({ idbImplementation: inMemory(), dbName: `shared-log-${++databases}` }),
        })
        expect(() => new StorexSharedSyncLog({ storageManager })).toThrow(SyncConfigurationError)
    })

    it('stores one row per entry, keyed by entryId, numbered by the counter', async () => {
        const storageManager = await createStorageManager()
        const log = new StorexSharedSyncLog({ storageManager })
        const entries = makeEntries(3, { deviceId: 'a' })
        await log.writeEntries({ deviceId: 'a', entries })
        await log.writeEntries({ deviceId: 'a', entries: [entries[1], makeEntry({ deviceId: 'a' })] })
        const rows = await storageManager.collection(SHARED_LOG_COLLECTIONS.entry).findObjects<{ id: string; seq: number }>(
            { seq: { $gt: 0 } },
            { order: [['seq', 'asc']] },
        )
        expect(rows.map((row) => row.seq)).toEqual([1, 2, 3, 4])
        expect(rows.slice(0, 3).map((row) => row.id)).toEqual(entries.map(entryId))
        expect(await storageManager.collection(SHARED_LOG_COLLECTIONS.meta).findObject({ id: 'sequence' })).toEqual({ id: 'sequence', value: 4 })
    })

    it('applies the backend limit after ordering by seq (not by primary key or insertion)', async () => {
        const storageManager = await createStorageManager()
        const log = new StorexSharedSyncLog({ storageManager })
        // Primary keys sort opposite to the write order, so a limit applied before sorting would show.
        const entries = Array.from({ length: 6 }, (_, index) => makeEntry({ deviceId: `z-${9 - index}` }))
        for (const entry of entries) {
            await log.writeEntries({ deviceId: entry.deviceId, entries: [entry] })
        }
        const rows = await storageManager.collection(SHARED_LOG_COLLECTIONS.entry).findObjects<{ seq: number }>(
            { seq: { $gt: 1 } },
            { order: [['seq', 'asc']], limit: 3 },
        )
        expect(rows.map((row) => row.seq)).toEqual([2, 3, 4])
        expect((await log.readEntries({ deviceId: 'reader', cursor: '1', limit: 3 })).entries).toEqual(entries.slice(1, 4))
    })

    it('numbers concurrent writes of one process without interleaving them', async () => {
        const storageManager = await createStorageManager()
        const log = new StorexSharedSyncLog({ storageManager })
        const other = new StorexSharedSyncLog({ storageManager })
        const batches = ['a', 'b', 'c', 'd'].map((deviceId) => makeEntries(5, { deviceId }))
        await Promise.all(batches.map((entries, index) => (index % 2 ? other : log).writeEntries({ deviceId: entries[0].deviceId, entries })))
        const read = await log.readEntries({ deviceId: 'reader', cursor: null })
        expect(read.entries).toEqual(batches.flat())
        expect(read.cursor).toBe('20')
    })

    it('keeps devices and acknowledgements in the storage manager, beside app collections', async () => {
        const storageManager = await createStorageManager({ withApp: true })
        await storageManager.collection('note').createObject({ id: 'n1', title: 'app data' })
        const entries = makeEntries(4, { deviceId: 'a' })
        const first = new StorexSharedSyncLog({ storageManager, generateDeviceId: () => 'generated' })
        expect(await first.registerDevice()).toEqual({ deviceId: 'generated' })
        await first.writeEntries({ deviceId: 'a', entries })
        const page = await first.readEntries({ deviceId: 'generated', limit: 3 })
        await first.acknowledge({ deviceId: 'generated', cursor: page.cursor as string })

        const second = new StorexSharedSyncLog({ storageManager })
        expect((await second.readEntries({ deviceId: 'generated' })).entries).toEqual(entries.slice(3))
        expect(await storageManager.collection('note').findObjects({})).toEqual([{ id: 'n1', title: 'app data' }])
    })

    it('refuses cursors ahead of the log and non-string device ids', async () => {
        const log = new StorexSharedSyncLog({ storageManager: await createStorageManager() })
        await log.writeEntries({ deviceId: 'a', entries: makeEntries(2, { deviceId: 'a' }) })
        await expect(log.readEntries({ deviceId: 'b', cursor: '3' })).rejects.toThrow(InvalidSharedLogArgumentError)
        await expect(log.acknowledge({ deviceId: 'b', cursor: 'x' })).rejects.toThrow(InvalidSharedLogArgumentError)
        const notAString = ['a', 'b'] as unknown as string
        await expect(log.readEntries({ deviceId: notAString, cursor: null })).rejects.toThrow(InvalidSharedLogArgumentError)
        await expect(log.registerDevice({ deviceId: notAString })).rejects.toThrow(InvalidSharedLogArgumentError)
    })
})
