import type StorageManager from '@worldbrain/storex'
import type { CollectionDefinition, StorageRegistry } from '@worldbrain/storex'
import { normalizeOptionalFields } from '@worldbrain/storex-backend-dexie/lib/utils'
import { _processFieldUpdates } from '@worldbrain/storex-backend-dexie/lib/update-ops'
import type { AtomicOperations, BackendAdapter, StoredObject } from './types'
import { assertPrimitiveWhere } from './where'

/** The parts of storex-backend-dexie 0.3.1 the adapter uses. */
interface DexieBackendLike {
    registry: StorageRegistry
    options: { legacyMemexCompatibility?: boolean }
    stemmerSelector: unknown
    readObjectCleaner(object: StoredObject, options: { collectionDefinition: CollectionDefinition; stemmerSelector: unknown }): Promise<unknown>
    updateObjectCleaner(updates: StoredObject, options: { collectionDefinition: CollectionDefinition; stemmerSelector: unknown }): Promise<unknown>
    dexie: {
        table(name: string): {
            bulkAdd(objects: StoredObject[]): Promise<unknown>
            get(key: string | number): Promise<StoredObject | undefined>
            put(object: StoredObject): Promise<unknown>
            delete(key: string | number): Promise<unknown>
        }
        transaction<T>(mode: 'rw', tables: unknown[], body: () => Promise<T>): Promise<T>
    }
    createObject(collection: string, object: StoredObject): Promise<{ object: StoredObject }>
    /** `createObject` without nested objects: cleaners, put, optional fields normalised. */
    _rawCreateObject(collection: string, object: StoredObject): Promise<{ object: StoredObject }>
    findObjects(collection: string, where: StoredObject, options?: object): Promise<StoredObject[]>
    updateObjects(collection: string, where: StoredObject, updates: StoredObject): Promise<void>
    deleteObjects(collection: string, where: StoredObject): Promise<void>
}

export function isDexieBackend(backend: unknown): backend is DexieBackendLike {
    const candidate = backend as Partial<DexieBackendLike> | null
    return !!candidate && typeof candidate === 'object' && !!candidate.dexie && typeof candidate.dexie.transaction === 'function'
}

/**
 * storex-backend-dexie only opens an IndexedDB transaction when a global `navigator` exists, so
 * on Node 20 its `executeBatch` is not atomic. This adapter opens the Dexie transaction itself,
 * which is atomic in browsers and on Node alike.
 */
export class DexieBackendAdapter implements BackendAdapter {
    readonly name = 'dexie'
    private readonly backend: DexieBackendLike
    private readonly ops: AtomicOperations

    constructor(options: { storageManager: StorageManager }) {
        if (!isDexieBackend(options.storageManager.backend)) {
            throw new Error('DexieBackendAdapter needs a storex-backend-dexie backend')
        }
        const backend = options.storageManager.backend
        this.backend = backend
        this.ops = {
            createObject: async (collection, object) =>
                // A flat object (every object the library creates: it splits nested creates itself)
                // skips the backend's nested-create machinery; the write itself is the same.
                (this.hasNestedObjects(collection, object) ? await backend.createObject(collection, object) : await backend._rawCreateObject(collection, object)).object,
            // bulkAdd fails on an existing key instead of overwriting, which is what a log wants.
            createObjects: async (collection, objects) => {
                if (objects.length) {
                    await backend.dexie.table(collection).bulkAdd(objects)
                }
            },
            putObject: async (collection, object) => {
                await backend.createObject(collection, object)
            },
            findObjects: (collection, where, findOptions) => this.findObjectsFast(collection, where, findOptions),
            updateObjects: (collection, where, updates) => this.updateObjectsFast(collection, where, updates),
            deleteObjects: (collection, where) => this.deleteObjectsFast(collection, where),
        }
    }

    atomic<T>(collections: string[], body: (ops: AtomicOperations) => Promise<T>): Promise<T> {
        const tables = Array.from(new Set(collections)).map(name => this.backend.dexie.table(name))
        return this.backend.dexie.transaction('rw', tables, async () => {
            // Dexie 2 commits a transaction too early (PrematureCommitError) when its body awaits
            // a native promise before any request is in flight, e.g. an early-returning helper.
            // One cheap read first keeps the transaction alive for whatever the body awaits.
            await tables[0].get('')
            return body(this.ops)
        })
    }

    findObjects(collection: string, where: StoredObject, options?: { limit?: number; order?: Array<[string, 'asc' | 'desc']> }): Promise<StoredObject[]> {
        return this.ops.findObjects(collection, where, options)
    }

    /*
     * Every logged write addresses objects by their whole primary key. For such a where the
     * operations below do what the backend does (same cleaners, same update semantics) but reach
     * the object with get/put/delete by key instead of going through dexie-mongoify, which is
     * several times slower for the same answer. Any other where goes to the backend.
     */

    private hasNestedObjects(collection: string, object: StoredObject): boolean {
        const reverse = this.backend.registry.collections[collection]?.reverseRelationshipsByAlias ?? {}
        return Object.keys(reverse).some(alias => object[alias] !== undefined && object[alias] !== null)
    }

    /** The key when `where` is exactly an equality on a single-field primary key. */
    private pkLookup(collection: string, where: StoredObject): { key: string | number; definition: CollectionDefinition } | null {
        const definition = this.backend.registry.collections[collection]
        const fields = Object.keys(where)
        const key = where[fields[0]]
        if (!definition || fields.length !== 1 || definition.pkIndex !== fields[0] || (typeof key !== 'string' && typeof key !== 'number')) {
            return null
        }
        // A custom field type may transform its values on the way in: leave that to the backend.
        if (definition.fields[fields[0]]?.fieldObject) {
            return null
        }
        return { key, definition }
    }

    private async findObjectsFast(collection: string, where: StoredObject, options?: { limit?: number; order?: Array<[string, 'asc' | 'desc']> }): Promise<StoredObject[]> {
        const backend = this.backend
        const lookup = this.pkLookup(collection, where)
        if (!lookup || options?.limit === 0 || backend.options.legacyMemexCompatibility) {
            return backend.findObjects(collection, where, options ?? {})
        }
        const object = await backend.dexie.table(collection).get(lookup.key)
        if (!object) {
            return []
        }
        normalizeOptionalFields(object, lookup.definition)
        await backend.readObjectCleaner(object, { collectionDefinition: lookup.definition, stemmerSelector: backend.stemmerSelector })
        return [object]
    }

    private async updateObjectsFast(collection: string, where: StoredObject, updates: StoredObject): Promise<void> {
        const backend = this.backend
        const lookup = this.pkLookup(collection, where)
        if (!lookup) {
            return backend.updateObjects(collection, where, updates)
        }
        await backend.updateObjectCleaner(updates, { collectionDefinition: lookup.definition, stemmerSelector: backend.stemmerSelector })
        const table = backend.dexie.table(collection)
        const object = await table.get(lookup.key)
        if (object) {
            _processFieldUpdates(updates, object)
            await table.put(object)
        }
    }

    private async deleteObjectsFast(collection: string, where: StoredObject): Promise<void> {
        const lookup = this.pkLookup(collection, where)
        if (!lookup) {
            return this.backend.deleteObjects(collection, where)
        }
        await this.backend.dexie.table(collection).delete(lookup.key)
    }

    checkWhere(collection: string, where: StoredObject): void {
        assertPrimitiveWhere(collection, where)
    }

    async prepare(): Promise<void> {}
}
