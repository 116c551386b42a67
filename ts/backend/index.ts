import type StorageManager from '@worldbrain/storex'
import type { BackendAdapter } from './types'
import { DexieBackendAdapter, isDexieBackend } from './dexie'
import { TypeormBackendAdapter, isTypeormBackend } from './typeorm'
import { SyncConfigurationError } from '../errors'

export * from './types'
export { DexieBackendAdapter } from './dexie'
export { TypeormBackendAdapter, isTypeormBackend } from './typeorm'
export type { TypeormBackendAdapterOptions } from './typeorm'

/** Picks the adapter for the storage manager's backend. */
export function createBackendAdapter(storageManager: StorageManager): BackendAdapter {
    if (isDexieBackend(storageManager.backend)) {
        return new DexieBackendAdapter({ storageManager })
    }
    if (isTypeormBackend(storageManager.backend)) {
        return new TypeormBackendAdapter({ storageManager })
    }
    throw new SyncConfigurationError(
        `No backend adapter for this Storex backend; pass one as the 'backendAdapter' option`,
    )
}
