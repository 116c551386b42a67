import type StorageManager from '@worldbrain/storex'
import type { CollectionDefinition } from '@worldbrain/storex'
import { KeyExistsError } from './types'
import type { AtomicOperations, BackendAdapter, StoredObject } from './types'
import { assertPrimitiveWhere } from './where'
import { nextDoubleUp } from './dexie-values'
import { DexieLookups } from './dexie-lookups'
import type { KeyLookup } from './dexie-lookups'
import { IdbOperations, NeedsBackendTransaction, TransactionAbortedError } from './idb-operations'
import { dexieHelpers, hasHooks, isDexieBackend } from './dexie-backend'
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
    private readonly lookups: DexieLookups

    constructor(options: { storageManager: StorageManager }) {
        if (!isDexieBackend(options.storageManager.backend)) {
            throw new Error('DexieBackendAdapter needs a storex-backend-dexie backend')
        }
        const backend = options.storageManager.backend
        this.backend = backend
        this.lookups = new DexieLookups(backend)
        this.ops = {
            createObject: async (collection, object) => {
                if (this.lookups.hasNestedObjects(collection, object)) {
                    return (await backend.createObject(collection, object)).object
                }
                // A flat object (every object the library creates: it splits nested creates itself)
                // skips the backend's nested-create machinery; the write itself is the same.
                const given = { ...object }
                const stored = (await backend._rawCreateObject(collection, object)).object
                return this.lookups.asReturned(collection, given, stored)
            },
            // add instead of put: an existing key fails the request (ConstraintError) instead of
            // being overwritten, so the caller needs no read to check first.
            insertObject: async (collection, object) => {
                const definition = backend.registry.collections[collection]
                if (!definition || this.lookups.hasNestedObjects(collection, object)) {
                    throw new Error(`insertObject: '${collection}' takes flat objects of a registered collection`)
                }
                const given = { ...object }
                const prepared = { ...object }
                if (this.lookups.needsCleaning(collection)) {
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
                return this.lookups.asReturned(collection, given, prepared)
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
                if (!definition || objects.some(object => this.lookups.hasNestedObjects(collection, object))) {
                    for (const object of objects) {
                        await backend.createObject(collection, object)
                    }
                    return
                }
                const prepared = objects.map(object => ({ ...object }))
                if (this.lookups.needsCleaning(collection)) {
                    for (const object of prepared) {
                        await backend.createObjectCleaner(object, { collectionDefinition: definition, stemmerSelector: backend.stemmerSelector })
                    }
                }
                await backend.dexie.table(collection).bulkPut(prepared)
            },
            findObjects: (collection, where, findOptions) => this.findObjectsFast(collection, where, findOptions),
            updateObjects: (collection, where, updates) => this.updateObjectsFast(collection, where, updates),
            findKeys: async (collection, where) => {
                const lookup = this.lookups.keyLookup(collection, where)
                return lookup?.kind === 'index' ? ((await this.indexKeys(collection, lookup)) as Array<string | number>) : null
            },
            updateObjectByPk: async (collection, where, values) => {
                const lookup = this.lookups.keyLookup(collection, where)
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

    /**
     * A plain IndexedDB transaction where it can stand in for Dexie's (see `IdbOperations`):
     * the database is open, no Dexie transaction is running (a nested call must join it, not
     * wait for it) and no table has Dexie hooks (which only Dexie's own requests run). A body
     * that needs the backend for one of its operations is rolled back and run again in Dexie's.
     */
    atomic<T>(collections: string[], body: (ops: AtomicOperations) => Promise<T>): Promise<T> {
        const names = Array.from(new Set(collections))
        const transaction = this.plainTransaction(names)
        return transaction ? this.atomicPlain(transaction, names, body) : this.atomicDexie(names, body)
    }

    private plainTransaction(names: string[]): IDBTransaction | null {
        const dexie = this.backend.dexie
        const dexieClass = dexie.constructor as unknown as { currentTransaction?: unknown }
        if (!dexie.isOpen() || dexieClass.currentTransaction || names.some(name => hasHooks(dexie.table(name)))) {
            return null
        }
        try {
            return dexie.backendDB().transaction(names, 'readwrite')
        } catch {
            // Closed under us (a version change from another tab) or an unknown store: Dexie's path reports it.
            return null
        }
    }

    private async atomicPlain<T>(transaction: IDBTransaction, names: string[], body: (ops: AtomicOperations) => Promise<T>): Promise<T> {
        const finished = new Promise<void>((resolve, reject) => {
            transaction.oncomplete = () => resolve()
            transaction.onabort = () => reject(transaction.error ?? new TransactionAbortedError())
        })
        finished.catch(() => {})
        const ops = new IdbOperations(transaction, this.lookups)
        let result: T
        try {
            result = await body(ops)
            if (ops.needsBackend) {
                throw new NeedsBackendTransaction('the body')
            }
        } catch (error) {
            try {
                transaction.abort()
            } catch {
                // Already finished: nothing left to undo.
            }
            await finished.catch(() => {})
            if (ops.needsBackend) {
                return this.atomicDexie(names, body)
            }
            throw error
        }
        await finished
        return result
    }

    private atomicDexie<T>(names: string[], body: (ops: AtomicOperations) => Promise<T>): Promise<T> {
        const tables = names.map(name => this.backend.dexie.table(name))
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

    private async rawObjects(collection: string, lookup: KeyLookup, limit?: number): Promise<StoredObject[]> {
        const table = this.backend.dexie.table(collection)
        if (limit !== undefined && lookup.kind === 'index' && lookup.values.length === 1) {
            return table.where(lookup.field).equals(lookup.values[0]).limit(limit).toArray()
        }
        if (lookup.kind === 'pk') {
            const objects = await this.requests<StoredObject | undefined>(collection, store => lookup.values.map(key => store.get(key)))
            return objects.filter((object): object is StoredObject => !!object)
        }
        // One index getAll per value: the objects come with the lookup (a get per object after
        // the keys costs a request per object more; see IdbOperations).
        const keyRange = this.lookups.keyRange()
        const groups = await this.requests<StoredObject[]>(collection, store => lookup.values.map(value => store.index(lookup.field).getAll(keyRange.only(value))))
        return groups.flat()
    }

    private async indexKeys(collection: string, lookup: KeyLookup): Promise<IDBValidKey[]> {
        const keyRange = this.lookups.keyRange()
        return (await this.requests<IDBValidKey[]>(collection, store => lookup.values.map(value => store.index(lookup.field).getAllKeys(keyRange.only(value))))).flat()
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
     * One IndexedDB `getAll` on a key range of an index (or of the store, `index` null). Dexie 2 walks a cursor for `where().above()`,
     * one request per record, which fake-indexeddb makes super-linear; `getAll` is one request.
     */
    private getAllAbove(collection: string, index: string | null, above: number, limit?: number): Promise<StoredObject[]> {
        // `>= the next double` rather than `> above`: the same keys, but fake-indexeddb walks every
        // index record equal to an open bound (all the 0 markers of the client log), and none
        // equal to a bound no record holds.
        const from = nextDoubleUp(above)
        return this.getAll(collection, index, range => (from === above ? range.lowerBound(above, true) : range.lowerBound(from)), limit)
    }

    /** One getAll on the store (`field` null) or an index, in this Dexie transaction or a read-only one of its own. */
    private getAll(collection: string, field: string | null, makeRange: (keyRange: typeof IDBKeyRange) => IDBKeyRange | undefined, limit?: number): Promise<StoredObject[]> {
        const dexieClass = this.backend.dexie.constructor as unknown as { currentTransaction?: { idbtrans: IDBTransaction; storeNames: string[] } | null }
        // Typed structurally in the interface above, so apps compiled without the DOM library
        // (Node/SQLite) can read this module's declarations.
        const keyRange = (this.backend.options.idbImplementation?.range as typeof IDBKeyRange | undefined) ?? IDBKeyRange
        const read = () =>
            new Promise<StoredObject[]>((resolve, reject) => {
                const transaction = dexieClass.currentTransaction!.idbtrans
                const store = transaction.objectStore(collection)
                const request = (field === null ? store : store.index(field)).getAll(makeRange(keyRange), limit)
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
        const range = backend.options.legacyMemexCompatibility ? null : this.lookups.rangeLookup(collection, where, options)
        if (range) {
            const objects = await this.getAllAbove(collection, range.index, range.above, options?.limit)
            await this.lookups.cleanRead(collection, objects, range.definition)
            return objects
        }
        const inStoreOrder = backend.options.legacyMemexCompatibility ? null : this.lookups.storeOrderLookup(collection, where, options)
        if (inStoreOrder) {
            const objects = await this.getAll(collection, null, () => undefined, options?.limit)
            await this.lookups.cleanRead(collection, objects, inStoreOrder.definition)
            return objects
        }
        const lookup = this.lookups.keyLookup(collection, where)
        const plain = lookup && this.lookups.plainFind(lookup, options)
        if (!lookup || !plain || backend.options.legacyMemexCompatibility) {
            return backend.findObjects(collection, where, options ?? {})
        }
        const objects = await this.rawObjects(collection, lookup, plain.limit)
        await this.lookups.cleanRead(collection, objects, lookup.definition)
        return objects
    }

    private async updateObjectsFast(collection: string, where: StoredObject, updates: StoredObject): Promise<void> {
        const backend = this.backend
        const lookup = this.lookups.keyLookup(collection, where)
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
        const lookup = this.lookups.keyLookup(collection, where)
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

