import type { StorageRegistry } from '@worldbrain/storex'
import { entryFieldDefinitions } from '../entries/storex-fields'

/** Names of the collections the library keeps in the app's own database. */
export const CLIENT_LOG_COLLECTIONS = {
    entry: 'syncLogEntry',
    state: 'syncState',
    quarantine: 'syncQuarantine',
} as const

const VERSION = new Date('2026-11-01')

/**
 * Registers the client log next to the app's collections; call before `finishInitialization`.
 * Flags are ints, not booleans: IndexedDB cannot index booleans.
 */
export function registerClientLogCollections(registry: StorageRegistry): void {
    registry.registerCollections({
        [CLIENT_LOG_COLLECTIONS.entry]: {
            version: VERSION,
            fields: {
                id: { type: 'string' },
                objectKey: { type: 'string' },
                ...entryFieldDefinitions(),
                shared: { type: 'int' },
                needsIntegration: { type: 'int' },
                pendingVersion: { type: 'float', optional: true },
                heldVersion: { type: 'float', optional: true },
            },
            // pendingVersion / heldVersion hold the version while an entry is unshared / held back and
            // 0 otherwise (null in rows written before 2026-12), so a `> 0` range read lists just those
            // entries, in version order. Not sparse: fake-indexeddb throws and catches a DataError for
            // every record an index cannot key, which cost ~10 % of a sync.
            indices: [{ field: 'id', pk: true }, { field: 'objectKey' }, { field: 'pendingVersion' }, { field: 'heldVersion' }, { field: 'version' }],
        },
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
}
