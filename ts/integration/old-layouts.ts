/**
 * What earlier versions of `registerClientLogCollections` registered, frozen as they shipped, so
 * that upgrade tests can make the databases those versions wrote.
 */
import type { StorageRegistry } from '@worldbrain/storex'
import { CLIENT_LOG_COLLECTIONS } from '../client-log/collections'
import { registerLegacyClientLogCollections } from '../client-log/legacy-layout'
import { entryFieldDefinitions } from '../entries/storex-fields'

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
    registry.registerCollections({
        [CLIENT_LOG_COLLECTIONS.entry]: {
            version: new Date('2026-12-02'),
            fields: {
                seq: { type: 'auto-pk' },
                id: { type: 'string' },
                objectKey: { type: 'string' },
                ...entryFieldDefinitions(),
                shared: { type: 'int' },
                needsIntegration: { type: 'int' },
            },
            indices: [{ field: 'seq', pk: true }, { field: 'id', unique: true }, { field: 'objectKey' }, { field: 'version' }],
        },
    })
}
