/**
 * A two-device scenario written the way a browser app would write it: storex + the Dexie backend
 * on the global `indexedDB`, and only the library's main entry. The browser-bundle test bundles
 * this file for the browser and runs it where no Node API exists.
 */
import StorageManager from '@worldbrain/storex'
import { DexieStorageBackend } from '@worldbrain/storex-backend-dexie'
import { MemorySharedSyncLog, setupSync } from '../../index'

function createStorageManager(dbName: string): StorageManager {
    const storageManager = new StorageManager({ backend: new DexieStorageBackend({ dbName }) })
    storageManager.registry.registerCollections({
        note: { version: new Date('2026-01-01'), fields: { title: { type: 'string' }, body: { type: 'text', optional: true } } },
    })
    return storageManager
}

export interface BrowserScenarioResult {
    deviceIds: string[]
    laptopNotes: unknown[]
    phoneNotes: unknown[]
    pushed: number
    applied: number
}

/** Creates a note on one device, edits it on the other, and returns both devices' notes. */
export async function runBrowserScenario(prefix: string): Promise<BrowserScenarioResult> {
    const sharedLog = new MemorySharedSyncLog()
    const laptopStorage = createStorageManager(`${prefix}-laptop`)
    const phoneStorage = createStorageManager(`${prefix}-phone`)
    const laptop = await setupSync({ storageManager: laptopStorage, collections: ['note'], sharedLog })
    const phone = await setupSync({ storageManager: phoneStorage, collections: ['note'], sharedLog })
    const { object } = await laptopStorage.collection('note').createObject({ title: 'hello', body: 'from the laptop' })
    const first = await laptop.syncNow()
    const received = await phone.syncNow()
    await phoneStorage.collection('note').updateObjects({ id: object.id }, { title: 'edited on the phone' })
    await phone.syncNow()
    await laptop.syncNow()
    return {
        deviceIds: [laptop.deviceId, phone.deviceId],
        laptopNotes: await laptopStorage.collection('note').findObjects({}),
        phoneNotes: await phoneStorage.collection('note').findObjects({}),
        pushed: first.pushed,
        applied: received.applied,
    }
}
