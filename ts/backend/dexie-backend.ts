import type { CollectionDefinition, StorageRegistry } from '@worldbrain/storex'
import type { StoredObject } from './types'

/** The parts of storex-backend-dexie 0.3.1 the adapter uses. */
export interface DexieBackendLike {
    registry: StorageRegistry
    options: { legacyMemexCompatibility?: boolean; idbImplementation?: { range?: unknown } }
    stemmerSelector: unknown
    readObjectCleaner(object: StoredObject, options: { collectionDefinition: CollectionDefinition; stemmerSelector: unknown }): Promise<unknown>
    createObjectCleaner(object: StoredObject, options: { collectionDefinition: CollectionDefinition; stemmerSelector: unknown }): Promise<unknown>
    updateObjectCleaner(updates: StoredObject, options: { collectionDefinition: CollectionDefinition; stemmerSelector: unknown }): Promise<unknown>
    dexie: {
        isOpen(): boolean
        /** The IDBDatabase Dexie opened (Dexie 2's `backendDB()`). */
        backendDB(): IDBDatabase
        table(name: string): DexieTableHooks & {
            add(object: StoredObject): Promise<unknown>
            bulkAdd(objects: StoredObject[]): Promise<unknown>
            bulkPut(objects: StoredObject[]): Promise<unknown>
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

/** Dexie 2's table hooks: each event keeps the functions subscribed to it. */
interface DexieTableHooks {
    hook?: Partial<Record<'creating' | 'reading' | 'updating' | 'deleting', { subscribers?: unknown[] }>>
}

/** Whether anything subscribed to the table's Dexie hooks, which run only for Dexie's own requests. */
export function hasHooks(table: DexieTableHooks): boolean {
    const hook = table.hook
    return !!hook && (['creating', 'reading', 'updating', 'deleting'] as const).some(name => (hook[name]?.subscribers?.length ?? 0) > 0)
}

type DexieHelpers = {
    normalizeOptionalFields: typeof import('@worldbrain/storex-backend-dexie/lib/utils').normalizeOptionalFields
    _processFieldUpdates: typeof import('@worldbrain/storex-backend-dexie/lib/update-ops')._processFieldUpdates
}
let helpers: DexieHelpers | null = null

/**
 * storex-backend-dexie's own helpers, loaded when the first Dexie adapter is made: an app on
 * SQLite imports this library without having the Dexie backend installed at all.
 */
export function dexieHelpers(): DexieHelpers {
    helpers ??= {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        normalizeOptionalFields: require('@worldbrain/storex-backend-dexie/lib/utils').normalizeOptionalFields,
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        _processFieldUpdates: require('@worldbrain/storex-backend-dexie/lib/update-ops')._processFieldUpdates,
    }
    return helpers
}

export function isDexieBackend(backend: unknown): backend is DexieBackendLike {
    const candidate = backend as Partial<DexieBackendLike> | null
    return !!candidate && typeof candidate === 'object' && !!candidate.dexie && typeof candidate.dexie.transaction === 'function'
}
