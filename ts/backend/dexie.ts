import type StorageManager from '@worldbrain/storex'
import type { AtomicOperations, BackendAdapter, StoredObject } from './types'
import { assertPrimitiveWhere } from './where'

/** The parts of storex-backend-dexie 0.3.1 the adapter uses. */
interface DexieBackendLike {
    dexie: {
        table(name: string): { bulkAdd(objects: StoredObject[]): Promise<unknown> }
        transaction<T>(mode: 'rw', tables: unknown[], body: () => Promise<T>): Promise<T>
    }
    createObject(collection: string, object: StoredObject): Promise<{ object: StoredObject }>
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
            createObject: async (collection, object) => (await backend.createObject(collection, object)).object,
            // bulkAdd fails on an existing key instead of overwriting, which is what a log wants.
            createObjects: async (collection, objects) => {
                if (objects.length) {
                    await backend.dexie.table(collection).bulkAdd(objects)
                }
            },
            putObject: async (collection, object) => {
                await backend.createObject(collection, object)
            },
            findObjects: (collection, where, findOptions) => backend.findObjects(collection, where, findOptions ?? {}),
            updateObjects: (collection, where, updates) => backend.updateObjects(collection, where, updates),
            deleteObjects: (collection, where) => backend.deleteObjects(collection, where),
        }
    }

    atomic<T>(collections: string[], body: (ops: AtomicOperations) => Promise<T>): Promise<T> {
        const tables = Array.from(new Set(collections)).map(name => this.backend.dexie.table(name))
        return this.backend.dexie.transaction('rw', tables, () => body(this.ops))
    }

    findObjects(collection: string, where: StoredObject, options?: { limit?: number; order?: Array<[string, 'asc' | 'desc']> }): Promise<StoredObject[]> {
        return this.ops.findObjects(collection, where, options)
    }

    checkWhere(collection: string, where: StoredObject): void {
        assertPrimitiveWhere(collection, where)
    }

    async prepare(): Promise<void> {}
}
