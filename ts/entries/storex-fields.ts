import type { CollectionDefinition } from '@worldbrain/storex'

/**
 * The Storex fields that hold a `SyncLogEntry`, for every collection that stores entries (the
 * client log, the Storex shared log). A new object per call: Storex writes into the definitions
 * it registers.
 */
export function entryFieldDefinitions(): CollectionDefinition['fields'] {
    return {
        collection: { type: 'string' },
        pk: { type: 'json' },
        operation: { type: 'string' },
        field: { type: 'string', optional: true },
        value: { type: 'json', optional: true },
        // Versions are ms-based safe integers beyond 32 bits; 'float' keeps SQL backends from overflowing.
        version: { type: 'float' },
        deviceId: { type: 'string' },
        schemaVersion: { type: 'float' },
    }
}
