/**
 * The backend-capability layer: the few things the library needs from a Storex backend that
 * Storex itself does not promise uniformly (a real transaction, insert-vs-upsert, safe where
 * clauses, schema preparation). One adapter per backend keeps `if (dexie)` out of the core.
 */

import { SyncError } from '../errors'

export type StoredObject = Record<string, unknown>

/** `insertObject` found an object with the same primary key (the write is refused, nothing stored). */
export class KeyExistsError extends SyncError {
    constructor(readonly collection: string, options: { cause?: unknown } = {}) {
        super('KEY_EXISTS', `An object with this primary key already exists in '${collection}'`, options)
    }
}

/** Backend operations that run inside the adapter's transaction and bypass all middleware. */
export interface AtomicOperations {
    /** Inserts one object and returns it as stored (with any generated primary key). */
    createObject(collection: string, object: StoredObject): Promise<StoredObject>
    /**
     * Inserts one flat object and fails with `KeyExistsError` when its primary key exists, which
     * saves the caller a read to check first. Optional: without it, callers read, then create.
     */
    insertObject?(collection: string, object: StoredObject): Promise<StoredObject>
    /** Inserts many flat objects (no relationships); used for log entries. */
    createObjects(collection: string, objects: StoredObject[]): Promise<void>
    /** Inserts or replaces an object by its primary key (used when applying remote creates). */
    putObject(collection: string, object: StoredObject): Promise<void>
    /**
     * Inserts or replaces many flat objects by primary key, in as few requests as the backend
     * allows, with the same value preparation as `putObject`. Optional: callers fall back to
     * `putObject` per object (see `putAll`).
     */
    putObjects?(collection: string, objects: StoredObject[]): Promise<void>
    findObjects(collection: string, where: StoredObject, options?: { limit?: number; order?: Array<[string, 'asc' | 'desc']> }): Promise<StoredObject[]>
    updateObjects(collection: string, where: StoredObject, updates: StoredObject): Promise<void>
    /**
     * The primary keys of the objects a where on one indexed field or on the primary key
     * (equality or `$in`) matches, without reading the objects: for the primary key, those of
     * the keys given that exist. Optional: callers that have it can skip reading rows they already
     * hold; without it (or when it answers null for this where) they read the objects.
     */
    findKeys?(collection: string, where: StoredObject): Promise<Array<string | number> | null>
    /**
     * Applies plain field values to the one object `where` names by its whole single-field
     * primary key, in one read and one write; resolves false when there is no such object.
     * Optional: without it, callers find the object, then update it.
     */
    updateObjectByPk?(collection: string, where: StoredObject, values: StoredObject): Promise<boolean>
    /**
     * Runs `updateObjects` for each item, in order, as if one after another; each where names one
     * object by its whole single-field primary key. In as few requests as the backend allows (all
     * the reads, then all the writes). Optional: callers fall back to `updateObjects` per item
     * (see `updateEach`).
     */
    updateObjectsByPk?(collection: string, items: Array<{ where: StoredObject; updates: StoredObject }>): Promise<void>
    deleteObjects(collection: string, where: StoredObject): Promise<void>
}

export interface BackendAdapter {
    /** Short name for messages, e.g. 'dexie'. */
    readonly name: string
    /**
     * Runs `body` in one read-write transaction over `collections`: everything it writes commits
     * together or not at all (invariant 1). The body may be run more than once: an adapter can
     * start it on a faster path, roll that attempt back and run it again (the Dexie adapter does,
     * see `IdbOperations`), so its effects belong in `ops` and in what it returns.
     */
    atomic<T>(collections: string[], body: (ops: AtomicOperations) => Promise<T>): Promise<T>
    /** Reads outside a transaction, bypassing middleware. */
    findObjects(collection: string, where: StoredObject, options?: { limit?: number; order?: Array<[string, 'asc' | 'desc']> }): Promise<StoredObject[]>
    /**
     * Throws when the backend would evaluate `where` differently from its plain meaning
     * (Dexie matches every row for array, Date and object values, and throws on null).
     */
    checkWhere(collection: string, where: StoredObject): void
    /** Work the backend needs after `finishInitialization` and before the first write (e.g. create tables). */
    prepare(): Promise<void>
    /**
     * Makes the index on `field` that the collection's schema declares, where the backend's own
     * schema step does not (storex-backend-typeorm creates no indices; IndexedDB has them from the
     * schema). With `unique`, the backend refuses a second object with the same value. An index of
     * the other kind on the field (an older declaration) is dropped. Idempotent;
     * call after `prepare`. Optional: without it, nothing to do.
     */
    ensureIndex?(collection: string, field: string, options: { unique: boolean }): Promise<void>
    /**
     * Drops the indices `ensureIndex` made on `field` (either kind), if any: a field an older
     * schema indexed and the current one does not. Idempotent; call after `prepare`. Optional:
     * backends whose schema step drops them (IndexedDB) need not.
     */
    dropIndex?(collection: string, field: string): Promise<void>
    /**
     * Fails with `SyncConfigurationError` unless the collection's generated primary key increases
     * with every insert and is never reused once deleted (what the client log's commit order rests
     * on). Optional: IndexedDB's key generator always does.
     */
    assertIncreasingKey?(collection: string): Promise<void>
}

/** `ops.putObjects` when the operations have it, else one `putObject` per object. */
export async function putAll(ops: AtomicOperations, collection: string, objects: StoredObject[]): Promise<void> {
    if (!objects.length) {
        return
    }
    if (ops.putObjects) {
        await ops.putObjects(collection, objects)
        return
    }
    for (const object of objects) {
        await ops.putObject(collection, object)
    }
}

/** `ops.updateObjectsByPk` when the operations have it, else one `updateObjects` per item. */
export async function updateEach(ops: AtomicOperations, collection: string, items: Array<{ where: StoredObject; updates: StoredObject }>): Promise<void> {
    if (ops.updateObjectsByPk && items.length > 1) {
        await ops.updateObjectsByPk(collection, items)
        return
    }
    for (const item of items) {
        await ops.updateObjects(collection, item.where, item.updates)
    }
}
