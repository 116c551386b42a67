import type { CollectionDefinition, StorageRegistry } from '@worldbrain/storex'
import { entryFieldDefinitions } from '../entries/storex-fields'

/** Names of the collections the library keeps in the app's own database. */
export const CLIENT_LOG_COLLECTIONS = {
    entry: 'syncLogEntry',
    /** Own entries not yet pushed, by version (see ts/client-log/pending.ts). */
    pending: 'syncPending',
    state: 'syncState',
    quarantine: 'syncQuarantine',
} as const

/**
 * The collections a write of log entries touches: a transaction that inserts own entries must
 * cover both, since each own entry's pending key is written with it.
 */
export const CLIENT_LOG_WRITE_COLLECTIONS: string[] = [CLIENT_LOG_COLLECTIONS.entry, CLIENT_LOG_COLLECTIONS.pending]

/** The first layout (2026-11): flags and markers on the entry rows, rewritten when pushed. */
const LAYOUT_1 = new Date('2026-11-01')
/** The second layout (2026-12): entry rows are written once; what is unpushed or held lives in its own store. */
const LAYOUT_2 = new Date('2026-12-01')

/** The log row's fields under both layouts: the entry, its keys and its flags. */
const entryRowFields = (): CollectionDefinition['fields'] => ({
    id: { type: 'string' },
    objectKey: { type: 'string' },
    ...entryFieldDefinitions(),
    shared: { type: 'int' },
    needsIntegration: { type: 'int' },
})

/**
 * The client log as the first layout registered it (new objects per call). Still registered: it
 * is the schema history an existing database upgrades from.
 */
export function clientLogLayout1Collections(): Record<string, CollectionDefinition> {
    return {
        [CLIENT_LOG_COLLECTIONS.entry]: {
            version: LAYOUT_1,
            fields: { ...entryRowFields(), pendingVersion: { type: 'float', optional: true }, heldVersion: { type: 'float', optional: true } },
            indices: [{ field: 'id', pk: true }, { field: 'objectKey' }, { field: 'pendingVersion' }, { field: 'heldVersion' }, { field: 'version' }],
        },
        [CLIENT_LOG_COLLECTIONS.state]: {
            version: LAYOUT_1,
            fields: { key: { type: 'string' }, value: { type: 'json' } },
            indices: [{ field: 'key', pk: true }],
        },
        [CLIENT_LOG_COLLECTIONS.quarantine]: {
            version: LAYOUT_1,
            fields: {
                id: { type: 'string' },
                reason: { type: 'string' },
                code: { type: 'string' },
                at: { type: 'float' },
            },
            indices: [{ field: 'id', pk: true }],
        },
    }
}

/**
 * Registers the client log next to the app's collections; call before `finishInitialization`.
 * Flags are ints, not booleans: IndexedDB cannot index booleans.
 *
 * Both layouts are registered so that a database made with the first is upgraded in place: on
 * IndexedDB each registered date is a schema version, and an existing database opens at its own
 * version and steps up (the data step is `upgradeClientLogLayout`).
 */
export function registerClientLogCollections(registry: StorageRegistry): void {
    registry.registerCollections(clientLogLayout1Collections())
    // A second call, not a list of versions: Storex sorts a list with a one-argument comparator,
    // which can leave the older definition as the current one.
    registry.registerCollections({
        [CLIENT_LOG_COLLECTIONS.entry]: {
            version: LAYOUT_2,
            fields: entryRowFields(),
            // Every index is paid for on each insert (own writes, every received entry) and each
            // rewrite, so the rows keep only the two lookups the hot paths make: an object's
            // rows (objectKey) and the newest version at start-up (version). Rows are never
            // rewritten to mark them pushed: that is the pending store's key going away.
            indices: [{ field: 'id', pk: true }, { field: 'objectKey' }, { field: 'version' }],
        },
        [CLIENT_LOG_COLLECTIONS.pending]: {
            version: LAYOUT_2,
            // The key alone: a copy of the row would cost every own write a second full record.
            fields: { key: { type: 'string' } },
            indices: [{ field: 'key', pk: true }],
        },
    })
}
