import type StorageManager from '@worldbrain/storex'
import type { CollectionDefinition } from '@worldbrain/storex'
import { KeyExistsError } from './types'
import type { AtomicOperations, BackendAdapter, StoredObject } from './types'
import { assertPrimitiveWhere } from './where'
import { collectionNeedsCleaning, nextDoubleUp } from './dexie-values'
import { dexieHelpers, isDexieBackend } from './dexie-backend'
import type { DexieBackendLike } from './dexie-backend'

export { dexieHelpers, isDexieBackend } from './dexie-backend'

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
            createObject: async (collection, object) => {
                if (this.hasNestedObjects(collection, object)) {
                    return (await backend.createObject(collection, object)).object
                }
                // A flat object (every object the library creates: it splits nested creates itself)
                // skips the backend's nested-create machinery; the write itself is the same.
                const given = { ...object }
                const stored = (await backend._rawCreateObject(collection, object)).object
                return this.asReturned(collection, given, stored)
            },
            // add instead of put: an existing key fails the request (ConstraintError) instead of
            // being overwritten, so the caller needs no read to check first.
            insertObject: async (collection, object) => {
                const definition = backend.registry.collections[collection]
                if (!definition || this.hasNestedObjects(collection, object)) {
                    throw new Error(`insertObject: '${collection}' takes flat objects of a registered collection`)
                }
                const given = { ...object }
                const prepared = { ...object }
                if (this.needsCleaning(collection)) {
                    await backend.createObjectCleaner(prepared, { collectionDefinition: definition, stemmerSelector: backend.stemmerSelector })
                }
                let key: unknown
                try {
                    key = await backend.dexie.table(collection).add(prepared)
                } catch (error) {
                    throw (error as { name?: string }).name === 'ConstraintError' ? new KeyExistsError(collection, { cause: error }) : error
                }
                if (typeof definition.pkIndex === 'string' && prepared[definition.pkIndex] === undefined) {
                    prepared[definition.pkIndex] = key
                }
                return this.asReturned(collection, given, prepared)
            },
            // bulkAdd fails on an existing key instead of overwriting, which is what a log wants.
            createObjects: async (collection, objects) => {
                if (objects.length === 1) {
                    await backend.dexie.table(collection).add(objects[0])
                } else if (objects.length) {
                    await backend.dexie.table(collection).bulkAdd(objects)
                }
            },
            putObject: async (collection, object) => {
                await backend.createObject(collection, object)
            },
            // One bulkPut instead of a put per object; the cleaners run only where they change something.
            putObjects: async (collection, objects) => {
                if (!objects.length) {
                    return
                }
                const definition = backend.registry.collections[collection]
                if (!definition || objects.some(object => this.hasNestedObjects(collection, object))) {
                    for (const object of objects) {
                        await backend.createObject(collection, object)
                    }
                    return
                }
                const prepared = objects.map(object => ({ ...object }))
                if (this.needsCleaning(collection)) {
                    for (const object of prepared) {
                        await backend.createObjectCleaner(object, { collectionDefinition: definition, stemmerSelector: backend.stemmerSelector })
                    }
                }
                await backend.dexie.table(collection).bulkPut(prepared)
            },
            findObjects: (collection, where, findOptions) => this.findObjectsFast(collection, where, findOptions),
            updateObjects: (collection, where, updates) => this.updateObjectsFast(collection, where, updates),
            updateObjectByPk: async (collection, where, values) => {
                const lookup = this.keyLookup(collection, where)
                if (!lookup || lookup.kind !== 'pk' || lookup.values.length !== 1) {
                    const found = await this.findObjectsFast(collection, where)
                    if (found.length) {
                        await this.updateObjectsFast(collection, where, values)
                    }
                    return found.length > 0
                }
                const updates = { ...values }
                await backend.updateObjectCleaner(updates, { collectionDefinition: lookup.definition, stemmerSelector: backend.stemmerSelector })
                const table = backend.dexie.table(collection)
                const object = await table.get(lookup.values[0])
                if (!object) {
                    return false
                }
                dexieHelpers()._processFieldUpdates(updates, object)
                await table.put(object)
                return true
            },
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

    /**
     * What the backend's own createObject returns: the values as given (not as its cleaners
     * stored them, e.g. a custom field's storage form), the key it assigned, and null for unset
     * optional fields unless `legacyMemexCompatibility` is on.
     */
    private asReturned(collection: string, given: StoredObject, stored: StoredObject): StoredObject {
        const definition = this.backend.registry.collections[collection]
        const pkIndex = definition?.pkIndex
        const pkFields = Array.isArray(pkIndex) ? pkIndex : pkIndex ? [pkIndex] : []
        const result: StoredObject = { ...given }
        for (const field of pkFields) {
            if (typeof field === 'string') {
                result[field] = stored[field]
            }
        }
        if (definition && !this.backend.options.legacyMemexCompatibility) {
            dexieHelpers().normalizeOptionalFields(result, definition)
        }
        return result
    }

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
            const objects = await this.requests<StoredObject | undefined>(collection, store => lookup.values.map(key => store.get(key)))
            return objects.filter((object): object is StoredObject => !!object)
        }
        // The index gives the primary keys, the store the objects: an index getAll makes
        // fake-indexeddb look every record up in the store anyway, and costs several times more.
        const keyRange = this.keyRange()
        const keys = (await this.requests<IDBValidKey[]>(collection, store => lookup.values.map(value => store.index(lookup.field).getAllKeys(keyRange.only(value))))).flat()
        if (!keys.length) {
            return []
        }
        const objects = await this.requests<StoredObject | undefined>(collection, store => keys.map(key => store.get(key)))
        return objects.filter((object): object is StoredObject => !!object)
    }

    private keyRange(): typeof IDBKeyRange {
        // Typed structurally in the interface above, so apps compiled without the DOM library
        // (Node/SQLite) can read this module's declarations.
        return (this.backend.options.idbImplementation?.range as typeof IDBKeyRange | undefined) ?? IDBKeyRange
    }

    /**
     * Issues IndexedDB requests on one store all at once, in the running Dexie transaction (or a
     * read-only one of its own), and resolves with their results in order: one promise for the
     * lot instead of one Dexie request each.
     */
    private requests<T>(collection: string, issue: (store: IDBObjectStore) => IDBRequest[]): Promise<T[]> {
        const dexieClass = this.backend.dexie.constructor as unknown as { currentTransaction?: { idbtrans: IDBTransaction; storeNames: string[] } | null }
        const run = () =>
            new Promise<T[]>((resolve, reject) => {
                const requests = issue(dexieClass.currentTransaction!.idbtrans.objectStore(collection))
                let pending = requests.length
                if (!pending) {
                    resolve([])
                    return
                }
                for (const request of requests) {
                    request.onsuccess = () => {
                        if (--pending === 0) {
                            resolve(requests.map(done => done.result as T))
                        }
                    }
                    request.onerror = () => reject(request.error)
                }
            })
        const current = dexieClass.currentTransaction
        if (current && current.storeNames.includes(collection)) {
            return run()
        }
        return this.backend.dexie.transaction('r', [this.backend.dexie.table(collection)], run)
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
        // `>= the next double` rather than `> above`: the same keys, but fake-indexeddb walks every
        // index record equal to an open bound (all the 0 markers of the client log), and none
        // equal to a bound no record holds.
        const from = nextDoubleUp(above)
        return this.getAll(collection, field, range => (from === above ? range.lowerBound(above, true) : range.lowerBound(from)), limit)
    }

    private getAll(collection: string, field: string, makeRange: (keyRange: typeof IDBKeyRange) => IDBKeyRange, limit?: number): Promise<StoredObject[]> {
        const dexieClass = this.backend.dexie.constructor as unknown as { currentTransaction?: { idbtrans: IDBTransaction; storeNames: string[] } | null }
        // Typed structurally in the interface above, so apps compiled without the DOM library
        // (Node/SQLite) can read this module's declarations.
        const keyRange = (this.backend.options.idbImplementation?.range as typeof IDBKeyRange | undefined) ?? IDBKeyRange
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
            await this.cleanRead(collection, objects, range.definition)
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
        await this.cleanRead(collection, objects, lookup.definition)
        return objects
    }

    /** What the backend does to every object it reads; its cleaner chain only where it changes something. */
    private async cleanRead(collection: string, objects: StoredObject[], definition: CollectionDefinition): Promise<void> {
        const clean = this.needsCleaning(collection)
        for (const object of objects) {
            dexieHelpers().normalizeOptionalFields(object, definition)
            if (clean) {
                await this.backend.readObjectCleaner(object, { collectionDefinition: definition, stemmerSelector: this.backend.stemmerSelector })
            }
        }
    }

    private readonly cleaning = new Map<string, boolean>()

    /** Whether the backend's cleaners can change objects of this collection (see `collectionNeedsCleaning`). */
    private needsCleaning(collection: string): boolean {
        let needs = this.cleaning.get(collection)
        if (needs === undefined) {
            needs = collectionNeedsCleaning(this.backend.registry.collections[collection])
            this.cleaning.set(collection, needs)
        }
        return needs
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
            dexieHelpers()._processFieldUpdates(updates, object)
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

