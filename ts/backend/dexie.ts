import type StorageManager from '@worldbrain/storex'
import type { CollectionDefinition, StorageRegistry } from '@worldbrain/storex'
import { normalizeOptionalFields } from '@worldbrain/storex-backend-dexie/lib/utils'
import { _processFieldUpdates } from '@worldbrain/storex-backend-dexie/lib/update-ops'
import type { AtomicOperations, BackendAdapter, StoredObject } from './types'
import { assertPrimitiveWhere } from './where'

/** The parts of storex-backend-dexie 0.3.1 the adapter uses. */
interface DexieBackendLike {
    registry: StorageRegistry
    options: { legacyMemexCompatibility?: boolean; idbImplementation?: { range?: typeof IDBKeyRange } }
    stemmerSelector: unknown
    readObjectCleaner(object: StoredObject, options: { collectionDefinition: CollectionDefinition; stemmerSelector: unknown }): Promise<unknown>
    updateObjectCleaner(updates: StoredObject, options: { collectionDefinition: CollectionDefinition; stemmerSelector: unknown }): Promise<unknown>
    dexie: {
        table(name: string): {
            bulkAdd(objects: StoredObject[]): Promise<unknown>
            get(key: string | number): Promise<StoredObject | undefined>
            put(object: StoredObject): Promise<unknown>
            delete(key: string | number): Promise<unknown>
            bulkDelete(keys: Array<string | number>): Promise<unknown>
            where(index: string): {
                above(value: number): { toArray(): Promise<StoredObject[]>; limit(count: number): { toArray(): Promise<StoredObject[]> } }
                equals(value: string | number): { toArray(): Promise<StoredObject[]>; delete(): Promise<number>; limit(count: number): { toArray(): Promise<StoredObject[]> } }
            }
        }
        transaction<T>(mode: 'rw' | 'r', tables: unknown[], body: () => Promise<T>): Promise<T>
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

    /**
     * Values of a where that is exactly one field compared by equality or `$in`, where that field
     * is the single-field primary key ('pk') or a plain index ('index'); null for anything else.
     */
    private keyLookup(collection: string, where: StoredObject): { kind: 'pk' | 'index'; field: string; values: Array<string | number>; definition: CollectionDefinition } | null {
        const definition = this.backend.registry.collections[collection]
        const fields = Object.keys(where)
        if (!definition || fields.length !== 1) {
            return null
        }
        const field = fields[0]
        const condition = where[field]
        const values =
            condition !== null && typeof condition === 'object' && !Array.isArray(condition) && Object.keys(condition).length === 1 && Array.isArray((condition as { $in?: unknown }).$in)
                ? ((condition as { $in: unknown[] }).$in as unknown[])
                : [condition]
        // A custom field type may transform its values on the way in: leave that to the backend.
        if (!values.every(value => typeof value === 'string' || typeof value === 'number') || definition.fields[field]?.fieldObject) {
            return null
        }
        const indexed = (definition.indices ?? []).some(index => index.field === field && !index.pk)
        const kind = definition.pkIndex === field ? 'pk' : indexed ? 'index' : null
        return kind ? { kind, field, values: Array.from(new Set(values as Array<string | number>)), definition } : null
    }

    private async rawObjects(collection: string, lookup: NonNullable<ReturnType<DexieBackendAdapter['keyLookup']>>, limit?: number): Promise<StoredObject[]> {
        const table = this.backend.dexie.table(collection)
        if (limit !== undefined && lookup.kind === 'index' && lookup.values.length === 1) {
            return table.where(lookup.field).equals(lookup.values[0]).limit(limit).toArray()
        }
        if (lookup.kind === 'pk') {
            const objects = await Promise.all(lookup.values.map(key => table.get(key)))
            return objects.filter((object): object is StoredObject => !!object)
        }
        const groups = await Promise.all(lookup.values.map(value => this.getAll(collection, lookup.field, range => range.only(value))))
        return groups.flat()
    }

    /**
     * `{ field: { $gt: n } }` on a plain index, unordered or ordered by that field ascending: an
     * index range walk, which visits only the matching entries and yields them in order.
     */
    private rangeLookup(collection: string, where: StoredObject, options?: { order?: Array<[string, 'asc' | 'desc']> }): { field: string; above: number; definition: CollectionDefinition } | null {
        const definition = this.backend.registry.collections[collection]
        const fields = Object.keys(where)
        const condition = where[fields[0]] as { $gt?: unknown } | null
        if (!definition || fields.length !== 1 || !condition || typeof condition !== 'object' || Object.keys(condition).length !== 1 || typeof condition.$gt !== 'number') {
            return null
        }
        const field = fields[0]
        const order = options?.order ?? []
        const indexed = (definition.indices ?? []).some(index => index.field === field && !index.pk)
        if (!indexed || order.length > 1 || (order.length === 1 && (order[0][0] !== field || order[0][1] !== 'asc'))) {
            return null
        }
        return { field, above: condition.$gt, definition }
    }

    /**
     * One IndexedDB `getAll` on an index range. Dexie 2 walks a cursor for `where().above()`,
     * one request per record, which fake-indexeddb makes super-linear; `getAll` is one request.
     */
    private getAllAbove(collection: string, field: string, above: number, limit?: number): Promise<StoredObject[]> {
        return this.getAll(collection, field, range => range.lowerBound(above, true), limit)
    }

    private getAll(collection: string, field: string, makeRange: (keyRange: typeof IDBKeyRange) => IDBKeyRange, limit?: number): Promise<StoredObject[]> {
        const dexieClass = this.backend.dexie.constructor as unknown as { currentTransaction?: { idbtrans: IDBTransaction; storeNames: string[] } | null }
        const keyRange: typeof IDBKeyRange = this.backend.options.idbImplementation?.range ?? IDBKeyRange
        const read = () =>
            new Promise<StoredObject[]>((resolve, reject) => {
                const transaction = dexieClass.currentTransaction!.idbtrans
                const request = transaction.objectStore(collection).index(field).getAll(makeRange(keyRange), limit)
                request.onsuccess = () => resolve(request.result as StoredObject[])
                request.onerror = () => reject(request.error)
            })
        const current = dexieClass.currentTransaction
        if (current && current.storeNames.includes(collection)) {
            return read()
        }
        return this.backend.dexie.transaction('r', [this.backend.dexie.table(collection)], read)
    }

    private async findObjectsFast(collection: string, where: StoredObject, options?: { limit?: number; order?: Array<[string, 'asc' | 'desc']> }): Promise<StoredObject[]> {
        const backend = this.backend
        const range = backend.options.legacyMemexCompatibility ? null : this.rangeLookup(collection, where, options)
        if (range) {
            const objects = await this.getAllAbove(collection, range.field, range.above, options?.limit)
            for (const object of objects) {
                normalizeOptionalFields(object, range.definition)
                await backend.readObjectCleaner(object, { collectionDefinition: range.definition, stemmerSelector: backend.stemmerSelector })
            }
            return objects
        }
        const lookup = this.keyLookup(collection, where)
        const unordered = !options?.order?.length
        const limited = options?.limit !== undefined && lookup?.kind === 'index' && lookup.values.length === 1 && options.limit > 0
        const plain = unordered && (options?.limit === undefined || limited || (lookup?.kind === 'pk' && lookup.values.length === 1 && options.limit !== 0))
        if (!lookup || !plain || backend.options.legacyMemexCompatibility) {
            return backend.findObjects(collection, where, options ?? {})
        }
        const objects = await this.rawObjects(collection, lookup, limited ? options?.limit : undefined)
        for (const object of objects) {
            normalizeOptionalFields(object, lookup.definition)
            await backend.readObjectCleaner(object, { collectionDefinition: lookup.definition, stemmerSelector: backend.stemmerSelector })
        }
        return objects
    }

    private async updateObjectsFast(collection: string, where: StoredObject, updates: StoredObject): Promise<void> {
        const backend = this.backend
        const lookup = this.keyLookup(collection, where)
        if (!lookup) {
            return backend.updateObjects(collection, where, updates)
        }
        await backend.updateObjectCleaner(updates, { collectionDefinition: lookup.definition, stemmerSelector: backend.stemmerSelector })
        const table = backend.dexie.table(collection)
        for (const object of await this.rawObjects(collection, lookup)) {
            _processFieldUpdates(updates, object)
            await table.put(object)
        }
    }

    private async deleteObjectsFast(collection: string, where: StoredObject): Promise<void> {
        const lookup = this.keyLookup(collection, where)
        if (!lookup) {
            return this.backend.deleteObjects(collection, where)
        }
        const table = this.backend.dexie.table(collection)
        if (lookup.kind === 'pk') {
            await table.bulkDelete(lookup.values)
        } else {
            await Promise.all(lookup.values.map(value => table.where(lookup.field).equals(value).delete()))
        }
    }

    checkWhere(collection: string, where: StoredObject): void {
        assertPrimitiveWhere(collection, where)
    }

    async prepare(): Promise<void> {}
}
