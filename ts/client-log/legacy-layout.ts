import type { StorageRegistry } from '@worldbrain/storex'
import { entryFieldDefinitions } from '../entries/storex-fields'

/**
 * The client log's first layout (2026-11 to 2026-12-02): rows keyed by entry id, pushed rows
 * rewritten with `shared` 1 and `pendingVersion` 0. Still registered, empty once moved: it is the
 * schema history an existing database upgrades from, and where `moveLegacyClientLogRows` reads.
 */
export const LEGACY_CLIENT_LOG_COLLECTION = 'syncLogEntry'

/** A row of the first layout as stored. */
export interface LegacyClientLogRow {
    id: string
    objectKey: string
    shared: number
    needsIntegration: number
    /** The version while unpushed, else 0 or null. */
    pendingVersion: number | null
    heldVersion: number | null
    [field: string]: unknown
}

export function registerLegacyClientLogCollections(registry: StorageRegistry): void {
    registry.registerCollections({
        [LEGACY_CLIENT_LOG_COLLECTION]: {
            version: new Date('2026-11-01'),
            fields: {
                id: { type: 'string' },
                objectKey: { type: 'string' },
                ...entryFieldDefinitions(),
                shared: { type: 'int' },
                needsIntegration: { type: 'int' },
                pendingVersion: { type: 'float', optional: true },
                heldVersion: { type: 'float', optional: true },
            },
            indices: [{ field: 'id', pk: true }, { field: 'objectKey' }, { field: 'pendingVersion' }, { field: 'heldVersion' }, { field: 'version' }],
        },
    })
}
