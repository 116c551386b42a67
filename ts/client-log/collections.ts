import type { CollectionDefinition, StorageRegistry } from '@worldbrain/storex'
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
export const COMMIT_ORDER_VERSION = new Date('2026-12-02')
/** When the log's `id` index stopped being unique (opening an older database rebuilds that index once). */
const PLAIN_ID_INDEX_VERSION = new Date('2026-12-03')

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
    // Calls of their own, oldest first: Storex sorts the versions of one call with a one-argument
    // comparator, which can leave them out of date order.
    registry.registerCollections({ [CLIENT_LOG_COLLECTIONS.entry]: clientLogDefinition(COMMIT_ORDER_VERSION, { uniqueId: true }) })
    registry.registerCollections({ [CLIENT_LOG_COLLECTIONS.entry]: clientLogDefinition(PLAIN_ID_INDEX_VERSION, { uniqueId: false }) })
}

/** The log's rows, as laid out from `version` on (exported for upgrade tests). */
export function clientLogDefinition(version: Date, options: { uniqueId: boolean }): CollectionDefinition {
    return {
        version,
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
        // row written, and held rows are rare. The `id` index is not unique (since
        // PLAIN_ID_INDEX_VERSION): a unique index checks every row written against the index,
        // which cost a fifth of a row's insert on fake-indexeddb and 5–8 % in
        // Chromium. No write needs the check: an entry id two tabs made in one millisecond is
        // logged again by the push (ts/client-log/collisions.ts), and a received entry stored
        // again (a reconciler that returns one it was given) is compacted away in the same
        // transaction, as a row that is not its field's newest.
        indices: [{ field: 'seq', pk: true }, { field: 'id', unique: options.uniqueId }, { field: 'objectKey' }, { field: 'version' }],
    }
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
