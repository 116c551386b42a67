/**
 * What earlier versions of `registerClientLogCollections` registered, frozen as they shipped, so
 * that upgrade tests can make the databases those versions wrote.
 */
import type StorageManager from '@worldbrain/storex'
import type { StorageRegistry } from '@worldbrain/storex'
import { createBackendAdapter } from '../backend'
import type { BackendAdapter } from '../backend/types'
import { CLIENT_LOG_COLLECTIONS, COMMIT_ORDER_VERSION, PLAIN_ID_INDEX_VERSION, clientLogDefinition } from '../client-log/collections'
import { registerLegacyClientLogCollections } from '../client-log/legacy-layout'
import type { SyncLogEntry } from '../entries/types'
import { CustomAutoPkMiddleware } from '../middleware/auto-pk'
import { SYNCED } from './devices'

/** The first layout (2026-11-01): state, quarantine and the `syncLogEntry` rows keyed by entry id. */
export function registerFirstLayout(registry: StorageRegistry): void {
    const version = new Date('2026-11-01')
    registry.registerCollections({
        [CLIENT_LOG_COLLECTIONS.state]: { version, fields: { key: { type: 'string' }, value: { type: 'json' } }, indices: [{ field: 'key', pk: true }] },
        [CLIENT_LOG_COLLECTIONS.quarantine]: {
            version,
            fields: { id: { type: 'string' }, reason: { type: 'string' }, code: { type: 'string' }, at: { type: 'float' } },
            indices: [{ field: 'id', pk: true }],
        },
    })
    registerLegacyClientLogCollections(registry)
}

/** The commit-order layout (2026-12-02 to 2026-12-03): the first one plus `syncLog`, whose `id` index was unique. */
export function registerCommitOrderLayout(registry: StorageRegistry): void {
    registerFirstLayout(registry)
    registry.registerCollections({ [CLIENT_LOG_COLLECTIONS.entry]: clientLogDefinition(COMMIT_ORDER_VERSION, { id: 'unique', version: true }) })
}

/** The plain-id layout (2026-12-03): the commit-order one with a plain `id` index, and the `version` index still there. */
export function registerPlainIdLayout(registry: StorageRegistry): void {
    registerCommitOrderLayout(registry)
    registry.registerCollections({ [CLIENT_LOG_COLLECTIONS.entry]: clientLogDefinition(PLAIN_ID_INDEX_VERSION, { id: 'plain', version: true }) })
}

/** Opens `storageManager` as an earlier setupSync left it: the layout `register` makes, synced collections with text keys. */
export async function openWithLayout(storageManager: StorageManager, register: (registry: StorageRegistry) => void): Promise<BackendAdapter> {
    register(storageManager.registry)
    // The old setupSync gave synced collections text keys, as the current one does.
    new CustomAutoPkMiddleware({ collections: SYNCED }).setup({ registry: storageManager.registry })
    await storageManager.finishInitialization()
    const adapter = createBackendAdapter(storageManager)
    await adapter.prepare()
    return adapter
}

/** A note's create entry, as a device logged it. */
export function noteCreate(id: string, title: string, version: number, deviceId: string): SyncLogEntry {
    return { collection: 'note', pk: id, operation: 'create', field: null, value: { title }, version, deviceId, schemaVersion: 1 }
}
