import type { StorageRegistry } from '@worldbrain/storex'
import type { PrimaryKey } from '../entries/types'
import type { StoredObject } from '../backend/types'
import { SyncConfigurationError, UnloggableOperationError } from '../errors'

/** Primary key field names of a collection, in index order. */
export function getPkFields(registry: StorageRegistry, collection: string): string[] {
    const definition = registry.collections[collection]
    if (!definition) {
        throw new SyncConfigurationError(`Unknown collection '${collection}'`)
    }
    const pkIndex = definition.pkIndex as unknown
    if (typeof pkIndex === 'string') {
        return [pkIndex]
    }
    if (Array.isArray(pkIndex) && pkIndex.every(field => typeof field === 'string')) {
        return pkIndex as string[]
    }
    throw new SyncConfigurationError(`Collection '${collection}' has a primary key the library cannot log (relationship or missing)`)
}

/** The primary key of a stored object, or null when a pk field is missing. */
export function getObjectPk(object: StoredObject, pkFields: string[]): PrimaryKey | null {
    const values = pkFields.map(field => object[field])
    if (values.some(value => typeof value !== 'string' && typeof value !== 'number')) {
        return null
    }
    return pkFields.length === 1 ? (values[0] as string | number) : (values as Array<string | number>)
}

export function requireObjectPk(operation: string, collection: string, object: StoredObject, pkFields: string[]): PrimaryKey {
    const pk = getObjectPk(object, pkFields)
    if (pk === null) {
        throw new UnloggableOperationError(operation, collection, `the object has no complete primary key (${pkFields.join(', ')})`)
    }
    return pk
}

export function pkWhere(pk: PrimaryKey, pkFields: string[]): StoredObject {
    const values = Array.isArray(pk) ? pk : [pk]
    return Object.fromEntries(pkFields.map((field, index) => [field, values[index]]))
}

export function withoutFields(object: StoredObject, fields: string[]): StoredObject {
    const result: StoredObject = {}
    for (const [key, value] of Object.entries(object)) {
        if (!fields.includes(key) && value !== undefined) {
            result[key] = value
        }
    }
    return result
}

/** Child collections reachable through childOf relationships, for nested creates. */
export function getChildRelationships(registry: StorageRegistry, collection: string): Array<{ alias: string; childCollection: string; single: boolean }> {
    const definition = registry.collections[collection]
    const reverse = (definition?.reverseRelationshipsByAlias ?? {}) as Record<string, { sourceCollection?: string; single?: boolean; childOf?: string; singleChildOf?: string }>
    return Object.entries(reverse)
        .filter(([, relationship]) => !!relationship.sourceCollection && (relationship.childOf || relationship.singleChildOf))
        .map(([alias, relationship]) => ({ alias, childCollection: relationship.sourceCollection as string, single: !!relationship.single }))
}

export function collectCollectionTree(registry: StorageRegistry, collection: string, into = new Set<string>()): Set<string> {
    if (!into.has(collection)) {
        into.add(collection)
        for (const child of getChildRelationships(registry, collection)) {
            collectCollectionTree(registry, child.childCollection, into)
        }
    }
    return into
}

/** Schema version of a set of collections: ms since epoch of the newest collection version. */
export function getSchemaVersion(registry: StorageRegistry, collections: string[]): number {
    let newest = 0
    for (const collection of collections) {
        const version = registry.collections[collection]?.version as Date | undefined
        if (version && version.getTime() > newest) {
            newest = version.getTime()
        }
    }
    return newest
}
