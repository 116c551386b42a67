import type StorageManager from '@worldbrain/storex'
import type { CollectionDefinition } from '@worldbrain/storex'
import { dexieHelpers, isDexieBackend } from '../backend/dexie'
import type { BackendAdapter, StoredObject } from '../backend/types'
import type { PrimaryKey } from '../entries/types'
import { getObjectPk, getPkFields } from '../middleware/registry-info'

/**
 * Reads a collection page by page in primary-key order ("keyset" paging: each page starts after
 * the last key of the previous one), so the sender never holds more than one page, and an
 * object created or deleted meanwhile cannot shift the pages and make another one be skipped.
 */
export interface ObjectPager {
    /** Up to `limit` objects with a key greater than `after` (null: from the start), in key order. */
    page(collection: string, after: PrimaryKey | null, limit: number): Promise<Array<{ pk: PrimaryKey; object: StoredObject }>>
    /** Number of objects in the collection (for the summary). */
    count(collection: string): Promise<number>
}

/** The parts of storex-backend-dexie the Dexie pager reads through. */
interface DexieLike {
    options: { idbImplementation?: { range?: typeof IDBKeyRange } }
    stemmerSelector: unknown
    readObjectCleaner(object: StoredObject, options: { collectionDefinition: CollectionDefinition; stemmerSelector: unknown }): Promise<unknown>
    dexie: {
        table(name: string): { count(): Promise<number> }
        transaction<T>(mode: 'r', tables: unknown[], body: () => Promise<T>): Promise<T>
        constructor: unknown
    }
}

export function createObjectPager(storageManager: StorageManager, adapter: BackendAdapter): ObjectPager {
    const backend = storageManager.backend as unknown
    return isDexieBackend(backend) ? dexiePager(storageManager, backend as unknown as DexieLike) : keysetPager(storageManager, adapter)
}

/**
 * Dexie: one IndexedDB `getAll` over a primary-key range per page. Dexie's own range reads walk
 * a cursor, one request per object, which fake-indexeddb makes super-linear; compound keys are
 * arrays, which IndexedDB orders the same way.
 */
function dexiePager(storageManager: StorageManager, backend: DexieLike): ObjectPager {
    const registry = storageManager.registry
    const keyRange: typeof IDBKeyRange = backend.options.idbImplementation?.range ?? IDBKeyRange
    const dexieClass = backend.dexie.constructor as { currentTransaction?: { idbtrans: IDBTransaction } | null }
    return {
        async page(collection, after, limit) {
            const definition = registry.collections[collection]
            const pkFields = getPkFields(registry, collection)
            const table = backend.dexie.table(collection)
            const objects = await backend.dexie.transaction('r', [table], () =>
                new Promise<StoredObject[]>((resolve, reject) => {
                    const store = dexieClass.currentTransaction!.idbtrans.objectStore(collection)
                    const request = store.getAll(after === null ? undefined : keyRange.lowerBound(after, true), limit)
                    request.onsuccess = () => resolve(request.result as StoredObject[])
                    request.onerror = () => reject(request.error)
                }),
            )
            const result: Array<{ pk: PrimaryKey; object: StoredObject }> = []
            for (const object of objects) {
                dexieHelpers().normalizeOptionalFields(object, definition)
                await backend.readObjectCleaner(object, { collectionDefinition: definition, stemmerSelector: backend.stemmerSelector })
                const pk = getObjectPk(object, pkFields)
                if (pk !== null) {
                    result.push({ pk, object })
                }
            }
            return result
        },
        count: collection => backend.dexie.table(collection).count(),
    }
}

/**
 * Any other backend, through the adapter: `pk > after` ordered by the key. A compound key
 * (a, b) is walked as `a = a0 and b > b0`, then `a > a0`: one operator per field, which every
 * backend translates.
 */
function keysetPager(storageManager: StorageManager, adapter: BackendAdapter): ObjectPager {
    const registry = storageManager.registry
    return {
        async page(collection, after, limit) {
            const pkFields = getPkFields(registry, collection)
            const afterValues = after === null ? null : Array.isArray(after) ? after : [after]
            const found: StoredObject[] = []
            if (afterValues === null) {
                found.push(...(await adapter.findObjects(collection, {}, { order: pkFields.map(field => [field, 'asc'] as [string, 'asc']), limit })))
            } else {
                for (let level = pkFields.length - 1; level >= 0 && found.length < limit; level--) {
                    const where: StoredObject = {}
                    for (let index = 0; index < level; index++) {
                        where[pkFields[index]] = afterValues[index]
                    }
                    where[pkFields[level]] = { $gt: afterValues[level] }
                    const order = pkFields.slice(level).map(field => [field, 'asc'] as [string, 'asc'])
                    found.push(...(await adapter.findObjects(collection, where, { order, limit: limit - found.length })))
                }
            }
            const result: Array<{ pk: PrimaryKey; object: StoredObject }> = []
            for (const object of found) {
                const pk = getObjectPk(object, pkFields)
                if (pk !== null) {
                    result.push({ pk, object })
                }
            }
            return result
        },
        async count(collection) {
            return (storageManager.backend as unknown as { countObjects(collection: string, where: object): Promise<number> }).countObjects(collection, {})
        },
    }
}
