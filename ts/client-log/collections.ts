import type { StorageRegistry } from '@worldbrain/storex'
import type { BackendAdapter } from '../backend/types'
import { entryFieldDefinitions } from '../entries/storex-fields'
import { registerLegacyClientLogCollections } from './legacy-layout'

/** Names of the collections the library keeps in the app's own database. */
export const CLIENT_LOG_COLLECTIONS = {
    entry: 'syncLog',
    state: 'syncState',
    quarantine: 'syncQuarantine',
} as const

const VERSION = new Date('2026-11-01')
/** When the log moved to rows in commit order (`syncLog`; `syncLogEntry` before). */
const COMMIT_ORDER_VERSION = new Date('2026-12-02')

/**
 * Registers the client log next to the app's collections; call before `finishInitialization`.
 * Flags are ints, not booleans: IndexedDB cannot index booleans.
 */
export function registerClientLogCollections(registry: StorageRegistry): void {
    registry.registerCollections({
        [CLIENT_LOG_COLLECTIONS.state]: {
            version: VERSION,
            fields: { key: { type: 'string' }, value: { type: 'json' } },
            indices: [{ field: 'key', pk: true }],
        },
        [CLIENT_LOG_COLLECTIONS.quarantine]: {
            version: VERSION,
            fields: {
                id: { type: 'string' },
                reason: { type: 'string' },
                code: { type: 'string' },
                at: { type: 'float' },
            },
            indices: [{ field: 'id', pk: true }],
        },
    })
    registerLegacyClientLogCollections(registry)
    // A call of its own: Storex sorts the collections of one call by version with a one-argument
    // comparator, which can leave them out of date order.
    registry.registerCollections({
        [CLIENT_LOG_COLLECTIONS.entry]: {
            version: COMMIT_ORDER_VERSION,
            fields: {
                seq: { type: 'auto-pk' },
                id: { type: 'string' },
                objectKey: { type: 'string' },
                ...entryFieldDefinitions(),
                shared: { type: 'int' },
                needsIntegration: { type: 'int' },
            },
            // `seq` is the commit order of own rows: the store's key generator hands out
            // increasing keys and read-write transactions on one store run one at a time, so a
            // push can mark everything up to a key shared by recording that key (the watermark)
            // instead of rewriting each row. Received rows take keys below zero (ts/client-log/seq.ts),
            // so a push, reading from the watermark up, never reads them. Held-back rows are found
            // through the quarantine (a record per held id), not an index: every index costs every
            // row written, and held rows are rare.
            indices: [{ field: 'seq', pk: true }, { field: 'id', unique: true }, { field: 'objectKey' }, { field: 'version' }],
        },
    })
}

/**
 * The log's order, uniqueness and lookups where the backend's schema step does not make them
 * (IndexedDB has all from the schema): SQLite's key is checked and the declared indices made,
 * among them the unique id and `objectKey`, without which every pulled batch would scan the log.
 * Call after `adapter.prepare()`.
 */
export async function prepareClientLogCollections(adapter: BackendAdapter, registry: StorageRegistry): Promise<void> {
    await adapter.assertIncreasingKey?.(CLIENT_LOG_COLLECTIONS.entry)
    for (const index of registry.collections[CLIENT_LOG_COLLECTIONS.entry].indices ?? []) {
        if (!index.pk && typeof index.field === 'string') {
            await adapter.ensureIndex?.(CLIENT_LOG_COLLECTIONS.entry, index.field, { unique: index.unique === true })
        }
    }
}
