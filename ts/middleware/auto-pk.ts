import type { StorageRegistry, OperationBatch } from '@worldbrain/storex'
import type { StorageMiddleware, StorageMiddlewareContext } from '@worldbrain/storex/lib/types/middleware'
import { v4 as uuidv4 } from 'uuid'
import type { StoredObject } from '../backend/types'
import { SyncConfigurationError } from '../errors'
import { getChildRelationships } from './registry-info'
import { isRecord } from './write-checks'

export interface CustomAutoPkMiddlewareOptions {
    /** Collections whose auto-generated primary keys become UUIDs. */
    collections: string[]
    /** Generates a new key. Default: UUID v4. Inject a deterministic one in tests. */
    generateId?: () => string
}

/**
 * Gives new objects of synced collections UUID primary keys instead of auto-increment ones, so
 * two offline devices never produce the same key. Explicitly given keys are kept.
 */
export class CustomAutoPkMiddleware implements StorageMiddleware {
    private readonly collections: Set<string>
    private readonly generateId: () => string
    /** Collection -> pk field, for the collections whose key was auto-generated. */
    private readonly pkFieldByCollection = new Map<string, string>()

    constructor(options: CustomAutoPkMiddlewareOptions) {
        this.collections = new Set(options.collections)
        this.generateId = options.generateId ?? uuidv4
    }

    /**
     * Turns the `auto-pk` field of each collection into a string key. Must run after the
     * collections are registered and before `finishInitialization`, so the backend creates a
     * plain (not auto-increment) key.
     */
    setup(options: { registry: StorageRegistry }): void {
        for (const collection of this.collections) {
            const definition = options.registry.collections[collection]
            if (!definition) {
                throw new SyncConfigurationError(`Auto-PK: unknown collection '${collection}'`)
            }
            const pkField = definition.pkIndex as unknown
            if (typeof pkField !== 'string') {
                continue
            }
            // Every registered version of the collection, not just the newest: the backend builds
            // its schema history from all of them, and an auto-increment key in an older version
            // would make a later version look like a primary key change. The app's definition
            // objects stay untouched (other storage managers may be built from them): the registry
            // gets copies with a string key.
            for (const version of collectionVersions(options.registry, collection)) {
                const field = version.fields[pkField]
                if (field && (field.type === 'auto-pk' || this.pkFieldByCollection.has(collection))) {
                    const copy = { ...version, fields: { ...version.fields, [pkField]: { ...field, type: 'string' } } }
                    replaceDefinition(options.registry, collection, version, copy)
                    this.pkFieldByCollection.set(collection, pkField)
                }
            }
        }
        this.registry = options.registry
    }

    private registry: StorageRegistry | null = null

    process(context: StorageMiddlewareContext): Promise<unknown> {
        const [name, ...args] = context.operation as [string, ...unknown[]]
        if (name === 'createObject' && typeof args[0] === 'string' && isRecord(args[1])) {
            const object = this.withIds(args[0], args[1] as StoredObject)
            return context.next.process({ operation: [name, args[0], object, ...args.slice(2)] })
        }
        if (name === 'executeBatch' && Array.isArray(args[0])) {
            const batch = (args[0] as OperationBatch).map(step =>
                isRecord(step) && step.operation === 'createObject' && isRecord(step.args) ? { ...step, args: this.withIds(step.collection, step.args as StoredObject) } : step,
            )
            return context.next.process({ operation: [name, batch, ...args.slice(1)] })
        }
        return context.next.process({ operation: context.operation })
    }

    private withIds(collection: string, object: StoredObject): StoredObject {
        const pkField = this.pkFieldByCollection.get(collection)
        const result: StoredObject = { ...object }
        if (pkField && (result[pkField] === undefined || result[pkField] === null)) {
            result[pkField] = this.generateId()
        }
        if (this.registry) {
            for (const child of getChildRelationships(this.registry, collection)) {
                const nested = result[child.alias]
                if (Array.isArray(nested)) {
                    result[child.alias] = nested.map(item => this.withIds(child.childCollection, item as StoredObject))
                } else if (nested && typeof nested === 'object') {
                    result[child.alias] = this.withIds(child.childCollection, nested as StoredObject)
                }
            }
        }
        return result
    }
}

type Definition = { fields: Record<string, { type: string }> }
interface RegistryInternals {
    _collectionVersionMap?: Record<string, Record<string, Definition>>
    _collectionsByVersion?: Record<string, Definition[]>
}

/** Puts `copy` wherever the registry holds `original` (its current map and its version maps). */
function replaceDefinition(registry: StorageRegistry, collection: string, original: Definition, copy: Definition): void {
    const collections = registry.collections as unknown as Record<string, Definition>
    if (collections[collection] === original) {
        collections[collection] = copy
    }
    const internals = registry as unknown as RegistryInternals
    for (const byName of Object.values(internals._collectionVersionMap ?? {})) {
        if (byName[collection] === original) {
            byName[collection] = copy
        }
    }
    for (const list of Object.values(internals._collectionsByVersion ?? {})) {
        const index = list.indexOf(original)
        if (index >= 0) {
            list[index] = copy
        }
    }
}

/** All registered versions of a collection (Storex keeps them in a private map). */
function collectionVersions(registry: StorageRegistry, collection: string): Definition[] {
    const byVersion = (registry as unknown as RegistryInternals)._collectionVersionMap ?? {}
    const versions = Object.values(byVersion)
        .map(map => map[collection])
        .filter(definition => !!definition)
    const current = registry.collections[collection] as unknown as Definition
    return versions.includes(current) ? versions : [...versions, current]
}
