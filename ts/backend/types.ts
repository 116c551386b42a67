/**
 * The backend-capability layer: the few things the library needs from a Storex backend that
 * Storex itself does not promise uniformly (a real transaction, insert-vs-upsert, safe where
 * clauses, schema preparation). One adapter per backend keeps `if (dexie)` out of the core.
 */

export type StoredObject = Record<string, unknown>

/** Backend operations that run inside the adapter's transaction and bypass all middleware. */
export interface AtomicOperations {
    /** Inserts one object and returns it as stored (with any generated primary key). */
    createObject(collection: string, object: StoredObject): Promise<StoredObject>
    /** Inserts many flat objects (no relationships); used for log entries. */
    createObjects(collection: string, objects: StoredObject[]): Promise<void>
    /** Inserts or replaces an object by its primary key (used when applying remote creates). */
    putObject(collection: string, object: StoredObject): Promise<void>
    findObjects(collection: string, where: StoredObject, options?: { limit?: number; order?: Array<[string, 'asc' | 'desc']> }): Promise<StoredObject[]>
    updateObjects(collection: string, where: StoredObject, updates: StoredObject): Promise<void>
    deleteObjects(collection: string, where: StoredObject): Promise<void>
}

export interface BackendAdapter {
    /** Short name for messages, e.g. 'dexie'. */
    readonly name: string
    /**
     * Runs `body` in one read-write transaction over `collections`: everything it writes commits
     * together or not at all (invariant 1).
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
}
