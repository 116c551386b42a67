import type StorageManager from '@worldbrain/storex'
import type { BackendAdapter } from './types'
import { DexieBackendAdapter, isDexieBackend } from './dexie'
import { SyncConfigurationError } from '../errors'

export * from './types'
export { DexieBackendAdapter } from './dexie'

/** Picks the adapter for the storage manager's backend. */
export function createBackendAdapter(storageManager: StorageManager): BackendAdapter {
    if (isDexieBackend(storageManager.backend)) {
        return new DexieBackendAdapter({ storageManager })
    }
    throw new SyncConfigurationError(
        `No backend adapter for this Storex backend; pass one as the 'backendAdapter' option`,
    )
}
