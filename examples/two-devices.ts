/**
 * Two devices, each with its own IndexedDB database (fake-indexeddb in Node), edit notes offline
 * and sync through the sync service, started here in-process on an in-memory SQLite store.
 * Run: npm run example
 */
import StorageManager from '@worldbrain/storex'
import { DexieStorageBackend } from '@worldbrain/storex-backend-dexie'
import inMemory from '@worldbrain/storex-backend-dexie/lib/in-memory'
import { setupSync, HttpSharedSyncLog } from '../ts'
import { createSyncService, SqliteDocStore } from '../ts/server'

async function openDevice(name: string, url: string) {
    const storageManager = new StorageManager({ backend: new DexieStorageBackend({ idbImplementation: inMemory(), dbName: name }) })
    storageManager.registry.registerCollections({
        note: { version: new Date('2026-01-01'), fields: { title: { type: 'string' }, body: { type: 'string', optional: true } } },
    })
    const sync = await setupSync({ storageManager, collections: ['note'], sharedLog: new HttpSharedSyncLog({ url }) })
    return { storageManager, sync }
}

async function main(): Promise<void> {
    const service = await createSyncService({ store: new SqliteDocStore({ filename: ':memory:' }), port: 0 })
    const { url } = await service.listen()
    console.log(`sync service on ${url}`)

    const laptop = await openDevice('laptop', url)
    const phone = await openDevice('phone', url)

    const { object: note } = await laptop.storageManager.collection('note').createObject({ title: 'Groceries' })
    console.log('laptop created', note)
    console.log('laptop sync', await laptop.sync.syncNow())
    console.log('phone sync ', await phone.sync.syncNow())

    // Both edit different fields of the same note while offline; field-level LWW keeps both.
    await laptop.storageManager.operation('updateObject', 'note', { id: note.id }, { title: 'Groceries for Sunday' })
    await phone.storageManager.operation('updateObject', 'note', { id: note.id }, { body: 'eggs, milk' })
    for (const device of [laptop, phone, laptop]) {
        await device.sync.syncNow()
    }
    console.log('laptop has', await laptop.storageManager.collection('note').findObjects({}))
    console.log('phone has ', await phone.storageManager.collection('note').findObjects({}))
    await service.close()
}

main().catch(error => {
    console.error(error)
    process.exit(1)
})
