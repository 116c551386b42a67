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
export const PLAIN_ID_INDEX_VERSION = new Date('2026-12-03')
/**
 * When the log's rows lost their `id` and `version` indices, and quarantine records gained the
 * held entry's `objectKey` (opening an older database drops the two indices once).
 */
const OBJECT_KEY_INDEX_VERSION = new Date('2026-12-04')

/** Which secondary indices a layout of the log's rows has besides `objectKey`. */
export interface ClientLogIndices {
    /** An index on the entry id: unique, plain, or none. */
    id: 'unique' | 'plain' | 'none'
    /** An index on `version` (what a restarted clock read its newest version from). */
    version: boolean
}

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
        [CLIENT_LOG_COLLECTIONS.quarantine]: quarantineDefinition(VERSION, { objectKey: false }),
    })
    registerLegacyClientLogCollections(registry)
    // Calls of their own, oldest first: Storex sorts the versions of one call with a one-argument
    // comparator, which can leave them out of date order.
    registry.registerCollections({ [CLIENT_LOG_COLLECTIONS.entry]: clientLogDefinition(COMMIT_ORDER_VERSION, { id: 'unique', version: true }) })
    registry.registerCollections({ [CLIENT_LOG_COLLECTIONS.entry]: clientLogDefinition(PLAIN_ID_INDEX_VERSION, { id: 'plain', version: true }) })
    registry.registerCollections({
        [CLIENT_LOG_COLLECTIONS.entry]: clientLogDefinition(OBJECT_KEY_INDEX_VERSION, { id: 'none', version: false }),
        [CLIENT_LOG_COLLECTIONS.quarantine]: quarantineDefinition(OBJECT_KEY_INDEX_VERSION, { objectKey: true }),
    })
}

/**
 * Quarantine records: one per held entry id. Since OBJECT_KEY_INDEX_VERSION a record also names
 * the entry's object, which is how the held row is found without an index on entry ids (records
 * written before have none; `ClientSyncLog.getHeldEntries` fills it in once).
 */
export function quarantineDefinition(version: Date, options: { objectKey: boolean }): CollectionDefinition {
    return {
        version,
        fields: {
            id: { type: 'string' },
            reason: { type: 'string' },
            code: { type: 'string' },
            at: { type: 'float' },
            ...(options.objectKey ? { objectKey: { type: 'string', optional: true } } : {}),
        },
        indices: [{ field: 'id', pk: true }],
    }
}

/** The log's rows, as laid out from `version` on (exported for upgrade tests). */
export function clientLogDefinition(version: Date, options: ClientLogIndices): CollectionDefinition {
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
        // so a push, reading from the watermark up, never reads them. Every index costs every
        // row written and deleted (on fake-indexeddb each is a tree of its own, as deep as the
        // log is long), so since OBJECT_KEY_INDEX_VERSION the rows have one: `objectKey`, which
        // every reconciliation and compaction reads by. What the others served is found without
        // them: a row by entry id through its object (the id is unique without a unique index:
        // ts/client-log/collisions.ts), held rows through their quarantine records, which name
        // the object, and the newest version a restarted clock needs through the version bound
        // (ts/client-log/version-bound.ts).
        indices: [
            { field: 'seq', pk: true },
            ...(options.id === 'none' ? [] : [{ field: 'id', unique: options.id === 'unique' }]),
            { field: 'objectKey' },
            ...(options.version ? [{ field: 'version' }] : []),
        ],
    }
}

/**
 * The log's order and lookups where the backend's schema step does not make them (IndexedDB has
 * them from the schema): SQLite's key is checked, the declared indices made (`objectKey`, without
 * which every pulled batch would scan the log) and those an older layout declared dropped.
 * Call after `adapter.prepare()`.
 */
export async function prepareClientLogCollections(adapter: BackendAdapter, registry: StorageRegistry): Promise<void> {
    await adapter.assertIncreasingKey?.(CLIENT_LOG_COLLECTIONS.entry)
    const definition = registry.collections[CLIENT_LOG_COLLECTIONS.entry]
    const indexed = new Set<string>()
    for (const index of definition.indices ?? []) {
        if (typeof index.field === 'string') {
            indexed.add(index.field)
            if (!index.pk) {
                await adapter.ensureIndex?.(CLIENT_LOG_COLLECTIONS.entry, index.field, { unique: index.unique === true })
            }
        }
    }
    for (const field of Object.keys(definition.fields)) {
        if (!indexed.has(field)) {
            await adapter.dropIndex?.(CLIENT_LOG_COLLECTIONS.entry, field)
        }
    }
}
