import StorageManager from '@worldbrain/storex'
import { DexieStorageBackend } from '@worldbrain/storex-backend-dexie'
import inMemory from '@worldbrain/storex-backend-dexie/lib/in-memory'
import { registerTestCollections, SYNCED } from '../integration/devices'
import { setupSync } from '../setup'
import { MemorySharedSyncLog } from '../shared-log/memory'
import { finishInitializationWithUpgrade } from './dexie-upgrade'

const hasNavigator = () => typeof (globalThis as { navigator?: unknown }).navigator !== 'undefined'

/** An app's Dexie database on fake-indexeddb, made before sync (plain Storex), then closed. */
async function existingDatabase() {
    const idbImplementation = inMemory()
    const dbName = `existing-${Math.random()}`
    const open = () => {
        const storageManager = new StorageManager({ backend: new DexieStorageBackend({ idbImplementation, dbName }) })
        registerTestCollections(storageManager)
        return storageManager
    }
    const before = open()
    await before.finishInitialization()
    await before.collection('note').createObject({ title: 'made before sync', tags: ['old'] })
    await before.collection('setting').createObject({ scope: 'ui', key: 'theme', value: 'dark' })
    ;(before.backend as unknown as { dexie: { close(): void } }).dexie.close()
    return open
}

describe('turning sync on over an existing Dexie database on Node', () => {
    it('upgrades the schema without a global navigator before or after, and keeps the data readable and writable', async () => {
        const open = await existingDatabase()
        expect(hasNavigator()).toBe(false)
        const storageManager = open()
        const sync = await setupSync({ storageManager, collections: SYNCED, sharedLog: new MemorySharedSyncLog() })
        expect(hasNavigator()).toBe(false)
        expect(await storageManager.collection('note').findObjects({})).toMatchObject([{ id: 1, title: 'made before sync', tags: ['old'] }])
        await storageManager.collection('note').createObject({ title: 'made with sync on' })
        await storageManager.operation('updateObjects', 'setting', { scope: 'ui', key: 'theme' }, { value: 'light' })
        expect(await sync.clientLog.countUnshared()).toBe(2)
        expect((await storageManager.collection('note').findObjects({})).length).toBe(2)
    })

    it('fails without it, as Dexie 2.0.4 does on Node: the reason setupSync opens the database itself', async () => {
        const open = await existingDatabase()
        const storageManager = open()
        storageManager.registry.registerCollections({ extra: { version: new Date('2026-06-01'), fields: { text: { type: 'string' } } } })
        await storageManager.finishInitialization()
        // Dexie also reports the aborted upgrade transaction as an unhandled rejection.
        const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined)
        try {
            await expect(storageManager.collection('note').findObjects({})).rejects.toThrow(/navigator is not defined/)
            await new Promise(resolve => setTimeout(resolve, 50))
        } finally {
            warn.mockRestore()
        }
    })

    it('lets several databases open at once and removes the stand-in only after the last one', async () => {
        const opens = await Promise.all([existingDatabase(), existingDatabase(), existingDatabase()])
        await Promise.all(
            opens.map(open => {
                const storageManager = open()
                storageManager.registry.registerCollections({ extra: { version: new Date('2026-06-01'), fields: { text: { type: 'string' } } } })
                return finishInitializationWithUpgrade(storageManager)
            }),
        )
        expect(hasNavigator()).toBe(false)
    })
})
