import type StorageManager from '@worldbrain/storex'
import { isDexieBackend } from './dexie'

/**
 * Finishes the storage manager's initialization and, on Dexie, opens the database right away.
 *
 * Opening an existing IndexedDB database at a newer schema version (as `setupSync` does when it
 * adds the log collections to an app's existing database) runs Dexie 2.0.4's upgrade, which reads
 * `navigator.userAgent`. Node 20 has no `navigator`, so there the upgrade transaction aborts with
 * `ReferenceError: navigator is not defined`. Browsers always have one and are left alone. On
 * Node a stand-in is defined only while the database opens and removed after, because
 * storex-backend-dexie changes its own transaction handling whenever a global `navigator`
 * exists; several opens at once share one stand-in, removed when the last one ends.
 */
export async function finishInitializationWithUpgrade(storageManager: StorageManager): Promise<void> {
    await storageManager.finishInitialization()
    await openDexieDatabase(storageManager)
}

/** The opening half of the above, for a retry whose initialization already finished. A no-op off Dexie or once open. */
export async function openDexieDatabase(storageManager: StorageManager): Promise<void> {
    const backend = storageManager.backend as unknown
    if (!isDexieBackend(backend)) {
        return
    }
    const dexie = (backend as unknown as { dexie: { open(): Promise<unknown>; isOpen(): boolean } }).dexie
    if (dexie.isOpen()) {
        return
    }
    await withNavigatorWhileOpening(() => dexie.open())
}

const global = globalThis as { navigator?: unknown }
let borrowers = 0

async function withNavigatorWhileOpening<T>(open: () => Promise<T>): Promise<T> {
    if (borrowers === 0 && typeof global.navigator !== 'undefined') {
        return open()
    }
    if (borrowers++ === 0) {
        // An empty user agent matches none of Dexie's browser workarounds.
        Object.defineProperty(globalThis, 'navigator', { value: { userAgent: '' }, configurable: true, writable: true, enumerable: false })
    }
    try {
        return await open()
    } finally {
        if (--borrowers === 0) {
            delete global.navigator
        }
    }
}
