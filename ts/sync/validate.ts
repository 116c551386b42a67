import type { StorageRegistry } from '@worldbrain/storex'
import type { SyncLogEntry } from '../entries/types'
import { getChildRelationships } from '../middleware/registry-info'

export interface EntryProblem {
    code: string
    reason: string
}

/**
 * Checks a received entry against this device's schema. A problem holds the entry back
 * (quarantine) instead of writing it blindly or blocking the entries behind it.
 */
export function findEntryProblem(options: {
    entry: SyncLogEntry
    registry: StorageRegistry
    synced: Set<string>
    localSchemaVersion: number
}): EntryProblem | null {
    const { entry, registry } = options
    if (entry.schemaVersion > options.localSchemaVersion) {
        return { code: 'NEWER_SCHEMA', reason: `entry made with schema version ${entry.schemaVersion}, this device has ${options.localSchemaVersion}` }
    }
    const definition = registry.collections[entry.collection]
    if (!definition || !options.synced.has(entry.collection)) {
        return { code: 'UNKNOWN_COLLECTION', reason: `collection '${entry.collection}' is not synced here` }
    }
    const known = new Set([
        ...Object.keys(definition.fields),
        ...Object.keys(definition.relationshipsByAlias ?? {}),
    ])
    const nested = new Set(getChildRelationships(registry, entry.collection).map(child => child.alias))
    const fields =
        entry.operation === 'create'
            ? Object.keys((entry.value ?? {}) as object)
            : entry.operation === 'modify'
              ? [entry.field ?? '']
              : []
    if (entry.operation === 'create' && (typeof entry.value !== 'object' || entry.value === null || Array.isArray(entry.value))) {
        return { code: 'INVALID_VALUE', reason: 'a create must carry an object' }
    }
    const unknown = fields.filter(field => !known.has(field) || nested.has(field))
    if (unknown.length) {
        return { code: 'UNKNOWN_FIELD', reason: `unknown field(s) ${unknown.join(', ')} in '${entry.collection}'` }
    }
    return null
}
