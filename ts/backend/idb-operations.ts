import { SyncError } from '../errors'
import { KeyExistsError } from './types'
import type { AtomicOperations, StoredObject } from './types'
import type { DexieLookups, FindOptions, KeyLookup } from './dexie-lookups'
import { dexieHelpers } from './dexie-backend'
import { nextDoubleUp } from './dexie-values'

/**
 * Thrown by `IdbOperations` for an operation that only the backend itself can carry out (a where
 * that is not a key or index lookup, a nested create, `legacyMemexCompatibility` reads): the
 * adapter rolls the IndexedDB transaction back and runs the whole body again in a Dexie one.
 */
export class NeedsBackendTransaction extends Error {
    constructor(readonly operation: string) {
        super(`${operation} needs the backend's own transaction`)
    }
}

/** The IndexedDB transaction ended without committing and gave no error of its own. */
export class TransactionAbortedError extends SyncError {
    constructor() {
        super('TRANSACTION_ABORTED', 'The IndexedDB transaction was aborted')
    }
}

/**
 * The adapter's operations on a plain IndexedDB transaction. A logged write is a handful of
 * requests by key; issuing them directly, instead of through Dexie 2's transaction zones (which
 * re-enter a zone around every native await), halves what the write costs on top of the app's own.
 * The values written are prepared exactly as the backend prepares them (the same cleaners, the
 * same optional-field handling), so a later read through Storex cannot tell the paths apart.
 */
export class IdbOperations implements AtomicOperations {
    // The operations are own properties (arrow functions), not prototype methods: callers may
    // wrap them with `{ ...ops, createObject: ... }`, as they can any other AtomicOperations.

    /** Set once an operation needed the backend: the body's result must not be committed. */
    needsBackend = false

    constructor(
        private readonly transaction: IDBTransaction,
        private readonly lookups: DexieLookups,
    ) {}

    private store(collection: string): IDBObjectStore {
        return this.transaction.objectStore(collection)
    }

    private fallBack(operation: string): never {
        this.needsBackend = true
        throw new NeedsBackendTransaction(operation)
    }

    private flat(operation: string, collection: string, object: StoredObject): void {
        if (!this.lookups.definition(collection) || this.lookups.hasNestedObjects(collection, object)) {
            this.fallBack(operation)
        }
    }

    readonly createObject = async (collection: string, object: StoredObject): Promise<StoredObject> => {
        this.flat('createObject', collection, object)
        const given = { ...object }
        await this.lookups.cleanForCreate(collection, object)
        this.keyed(collection, object, await settle<IDBValidKey>([this.store(collection).put(object)]))
        return this.lookups.asReturned(collection, given, object)
    }

    // add instead of put: an existing key fails the request instead of overwriting the object.
    readonly insertObject = async (collection: string, object: StoredObject): Promise<StoredObject> => {
        this.flat('insertObject', collection, object)
        const given = { ...object }
        const prepared = { ...object }
        await this.lookups.cleanForCreate(collection, prepared)
        let keys: IDBValidKey[]
        try {
            keys = await settle<IDBValidKey>([this.store(collection).add(prepared)])
        } catch (error) {
            throw (error as { name?: string }).name === 'ConstraintError' ? new KeyExistsError(collection, { cause: error }) : error
        }
        this.keyed(collection, prepared, keys)
        return this.lookups.asReturned(collection, given, prepared)
    }

    /** Puts the generated key into the object, as Dexie does for an auto-incremented inbound key. */
    private keyed(collection: string, object: StoredObject, keys: IDBValidKey[]): void {
        const pkField = this.lookups.pkField(collection)
        if (pkField && object[pkField] === undefined) {
            object[pkField] = keys[0]
        }
    }

    readonly createObjects = async (collection: string, objects: StoredObject[]): Promise<void> => {
        const store = this.store(collection)
        await settle(objects.map(object => store.add(object)))
    }

    readonly putObject = async (collection: string, object: StoredObject): Promise<void> => {
        await this.putObjects(collection, [object])
    }

    readonly putObjects = async (collection: string, objects: StoredObject[]): Promise<void> => {
        for (const object of objects) {
            this.flat('putObjects', collection, object)
        }
        const prepared = objects.map(object => ({ ...object }))
        for (const object of prepared) {
            await this.lookups.cleanForCreate(collection, object)
        }
        const store = this.store(collection)
        await settle(prepared.map(object => store.put(object)))
    }

    readonly findObjects = async (collection: string, where: StoredObject, options?: FindOptions): Promise<StoredObject[]> => {
        if (this.lookups.legacyMemexCompatibility) {
            this.fallBack('findObjects')
        }
        const range = this.lookups.rangeLookup(collection, where, options)
        if (range) {
            // `>= the next double` rather than `> above`: the same keys, but fake-indexeddb walks
            // every index record equal to an open bound (all the 0 markers of the client log).
            const keyRange = this.lookups.keyRange()
            const from = nextDoubleUp(range.above)
            const bound = from === range.above ? keyRange.lowerBound(range.above, true) : keyRange.lowerBound(from)
            const store = this.store(collection)
            const [objects] = await settle<StoredObject[]>([(range.index === null ? store : store.index(range.index)).getAll(bound, options?.limit)])
            await this.lookups.cleanRead(collection, objects, range.definition)
            return objects
        }
        const inStoreOrder = this.lookups.storeOrderLookup(collection, where, options)
        if (inStoreOrder) {
            const [objects] = await settle<StoredObject[]>([this.store(collection).getAll(undefined, options?.limit)])
            await this.lookups.cleanRead(collection, objects, inStoreOrder.definition)
            return objects
        }
        const lookup = this.lookups.keyLookup(collection, where)
        const plain = lookup && this.lookups.plainFind(lookup, options)
        if (!lookup || !plain) {
            return this.fallBack('findObjects')
        }
        const objects = await this.objects(collection, lookup, plain.limit)
        await this.lookups.cleanRead(collection, objects, lookup.definition)
        return objects
    }

    /** The stored objects a key lookup names, as stored (not yet cleaned for reading). */
    private async objects(collection: string, lookup: KeyLookup, limit?: number): Promise<StoredObject[]> {
        const store = this.store(collection)
        if (lookup.kind === 'index') {
            // One index getAll per value: the objects come with the lookup. Keys first and then a
            // get per object cost a request per object more (1,000 values holding 2,000 rows: in
            // Chromium 182 → 103 ms, on fake-indexeddb 47 → 32 ms CPU).
            const index = store.index(lookup.field)
            const keyRange = this.lookups.keyRange()
            const groups = await settle<StoredObject[]>(lookup.values.map(value => index.getAll(keyRange.only(value), limit)))
            const objects = groups.flat()
            return limit !== undefined ? objects.slice(0, limit) : objects
        }
        const keys: IDBValidKey[] = lookup.values
        if (!keys.length) {
            return []
        }
        if (keys.length >= RANGE_MIN_KEYS) {
            const inRange = await this.getAsRange(store, keys as Array<string | number>)
            if (inRange) {
                return inRange
            }
        }
        const objects = await settle<StoredObject | undefined>(keys.map(key => store.get(key)))
        return objects.filter((object): object is StoredObject => !!object)
    }

    /**
     * Reads objects by distinct keys as one key range when the store holds no more objects from
     * the first key to the last than were asked for (keys that cluster, as a device's own rows
     * of consecutive versions do): a key probe bounded by the number of keys, then one getAll,
     * instead of one get per key. Null, having read only the probe, when the range holds more.
     */
    private async getAsRange(store: IDBObjectStore, keys: Array<string | number>): Promise<StoredObject[] | null> {
        const { range, held } = await this.probeSpan(store, keys)
        if (held.length > keys.length) {
            return null
        }
        const wanted = new Set<IDBValidKey>(keys)
        if (!held.some(key => wanted.has(key))) {
            return []
        }
        // The same transaction, nothing written in between: the values come in the keys' order.
        const [values] = await settle<StoredObject[]>([store.getAll(range, held.length)])
        return values.filter((_, index) => wanted.has(held[index]))
    }

    readonly findKeys = async (collection: string, where: StoredObject): Promise<Array<string | number> | null> => {
        const lookup = this.lookups.keyLookup(collection, where)
        if (!lookup) {
            return null
        }
        if (lookup.kind === 'index') {
            return (await this.indexKeys(collection, lookup)) as Array<string | number>
        }
        return this.existingKeys(this.store(collection), lookup.values)
    }

    /** Which of distinct primary keys the store holds, read as keys only: one span probe when they cluster, else a `getKey` each. */
    private async existingKeys(store: IDBObjectStore, keys: Array<string | number>): Promise<Array<string | number>> {
        if (keys.length >= RANGE_MIN_KEYS) {
            const { held } = await this.probeSpan(store, keys)
            if (held.length <= keys.length) {
                const present = new Set<IDBValidKey>(held)
                return keys.filter(key => present.has(key))
            }
        }
        const found = await settle<IDBValidKey | undefined>(keys.map(key => store.getKey(key)))
        return keys.filter((_, index) => found[index] !== undefined)
    }

    private async indexKeys(collection: string, lookup: KeyLookup): Promise<IDBValidKey[]> {
        const index = this.store(collection).index(lookup.field)
        const keyRange = this.lookups.keyRange()
        return (await settle<IDBValidKey[]>(lookup.values.map(value => index.getAllKeys(keyRange.only(value))))).flat()
    }

    readonly updateObjects = async (collection: string, where: StoredObject, updates: StoredObject): Promise<void> => {
        const lookup = this.lookups.keyLookup(collection, where)
        if (!lookup) {
            this.fallBack('updateObjects')
        }
        await this.lookups.cleanForUpdate(lookup.definition, updates)
        const objects = await this.objects(collection, lookup)
        for (const object of objects) {
            dexieHelpers()._processFieldUpdates(updates, object)
        }
        const store = this.store(collection)
        await settle(objects.map(object => store.put(object)))
    }

    readonly updateObjectsByPk = async (collection: string, items: Array<{ where: StoredObject; updates: StoredObject }>): Promise<void> => {
        const pkField = this.lookups.pkField(collection)
        const lookups = items.map(item => this.lookups.keyLookup(collection, item.where))
        const byPk = (lookup: KeyLookup | null, index: number): lookup is KeyLookup =>
            !!pkField && !!lookup && lookup.kind === 'pk' && lookup.values.length === 1 && !(pkField in items[index].updates)
        if (!pkField || !lookups.every(byPk)) {
            for (const item of items) {
                await this.updateObjects(collection, item.where, item.updates)
            }
            return
        }
        const steps: Array<{ key: string | number; updates: StoredObject }> = []
        for (const [index, lookup] of (lookups as KeyLookup[]).entries()) {
            const updates = { ...items[index].updates }
            await this.lookups.cleanForUpdate(lookup.definition, updates)
            steps.push({ key: lookup.values[0], updates })
        }
        const keys = Array.from(new Set(steps.map(step => step.key)))
        const definition = this.lookups.definition(collection)!
        const found = await this.objects(collection, { kind: 'pk', field: pkField, values: keys, definition })
        const byKey = new Map(found.map(object => [object[pkField] as string | number, object]))
        // In order, on the one copy of each object: a later update of the same object sees the earlier one.
        for (const step of steps) {
            const object = byKey.get(step.key)
            if (object) {
                dexieHelpers()._processFieldUpdates(step.updates, object)
            }
        }
        const store = this.store(collection)
        await settle([...byKey.values()].map(object => store.put(object)))
    }

    readonly updateObjectByPk = async (collection: string, where: StoredObject, values: StoredObject): Promise<boolean> => {
        const lookup = this.lookups.keyLookup(collection, where)
        if (!lookup || lookup.kind !== 'pk' || lookup.values.length !== 1) {
            return this.fallBack('updateObjectByPk')
        }
        const updates = { ...values }
        await this.lookups.cleanForUpdate(lookup.definition, updates)
        const store = this.store(collection)
        const [object] = await settle<StoredObject | undefined>([store.get(lookup.values[0])])
        if (!object) {
            return false
        }
        dexieHelpers()._processFieldUpdates(updates, object)
        await settle([store.put(object)])
        return true
    }

    readonly deleteObjects = async (collection: string, where: StoredObject): Promise<void> => {
        const lookup = this.lookups.keyLookup(collection, where)
        if (!lookup) {
            this.fallBack('deleteObjects')
        }
        const store = this.store(collection)
        let keys: IDBValidKey[] = lookup.values
        if (lookup.kind === 'index') {
            keys = await this.indexKeys(collection, lookup)
        }
        if (keys.length >= RANGE_MIN_KEYS && (await this.deleteAsRange(store, keys as Array<string | number>))) {
            return
        }
        await settle(keys.map(key => store.delete(key)))
    }

    /**
     * Deletes distinct keys as one key range when they are all the store holds from the first to
     * the last (as superseded rows of one device's consecutive versions are): one request for the
     * check, bounded by the number of keys, and one for the delete instead of one per key.
     * Resolves false, having deleted nothing, when other keys lie in between.
     */
    private async deleteAsRange(store: IDBObjectStore, keys: Array<string | number>): Promise<boolean> {
        const { range, held, sorted } = await this.probeSpan(store, keys)
        if (held.length !== sorted.length || !held.every((key, index) => key === sorted[index])) {
            return false
        }
        await settle([store.delete(range)])
        return true
    }

    /** The key range from the least to the greatest of distinct keys, and the first n + 1 keys the store holds in it. */
    private async probeSpan(store: IDBObjectStore, keys: Array<string | number>): Promise<{ range: IDBKeyRange; held: IDBValidKey[]; sorted: Array<string | number> }> {
        const sorted = [...keys].sort(compareKeys)
        const range = this.lookups.keyRange().bound(sorted[0], sorted[sorted.length - 1])
        const [held] = await settle<IDBValidKey[]>([store.getAllKeys(range, sorted.length + 1)])
        return { range, held, sorted }
    }
}

/** Below this many keys one request per key costs no more than the range probe. */
const RANGE_MIN_KEYS = 16

/** IndexedDB's order for number and string keys: numbers first, strings by UTF-16 code units (as `<` compares them). */
function compareKeys(a: string | number, b: string | number): number {
    if (typeof a !== typeof b) {
        return typeof a === 'number' ? -1 : 1
    }
    return a < b ? -1 : a > b ? 1 : 0
}

/**
 * Resolves with the results of requests issued together, in order: one promise for the lot. A
 * failed request rejects with its error and does not abort the transaction by itself: the body
 * decides, and the adapter aborts when the body fails.
 */
function settle<T>(requests: IDBRequest[]): Promise<T[]> {
    return new Promise<T[]>((resolve, reject) => {
        let pending = requests.length
        if (!pending) {
            resolve([])
            return
        }
        let failed = false
        for (const request of requests) {
            request.onsuccess = () => {
                if (--pending === 0 && !failed) {
                    resolve(requests.map(done => done.result as T))
                }
            }
            request.onerror = event => {
                event.preventDefault()
                event.stopPropagation()
                if (!failed) {
                    failed = true
                    reject(request.error)
                }
            }
        }
    })
}
