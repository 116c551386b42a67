import type { CollectionDefinition } from '@worldbrain/storex'
import type { StoredObject } from './types'
import { collectionNeedsCleaning } from './dexie-values'
import type { DexieBackendLike } from './dexie-backend'

/**
 * How the Dexie adapter's operations read a collection definition and a where clause: which
 * wheres reach objects by key or by an index range (and so can skip dexie-mongoify), what the
 * backend's createObject returns. Shared by the operations that run in a Dexie transaction and
 * those that run in a plain IndexedDB one (`IdbOperations`), so both decide alike.
 */

/** A where that is one field compared by equality or `$in`, the field being the single-field pk or a plain index. */
export interface KeyLookup {
    kind: 'pk' | 'index'
    field: string
    values: Array<string | number>
    definition: CollectionDefinition
}

/** `{ field: { $gt: n } }` on the single-field pk or a plain index, unordered or ordered by that field ascending. */
export interface RangeLookup {
    /** The field, or null for the primary key: the range is read from the store itself. */
    index: string | null
    field: string
    above: number
    definition: CollectionDefinition
}

export type FindOptions = { limit?: number; order?: Array<[string, 'asc' | 'desc']> }

export class DexieLookups {
    private readonly cleaning = new Map<string, boolean>()
    private readonly optionalFields = new WeakMap<CollectionDefinition, string[]>()

    constructor(private readonly backend: DexieBackendLike) {}

    get legacyMemexCompatibility(): boolean {
        return !!this.backend.options.legacyMemexCompatibility
    }

    definition(collection: string): CollectionDefinition | undefined {
        return this.backend.registry.collections[collection]
    }

    /** Values of a where that is exactly one field compared by equality or `$in` on the pk or a plain index; null otherwise. */
    keyLookup(collection: string, where: StoredObject): KeyLookup | null {
        const definition = this.definition(collection)
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

    rangeLookup(collection: string, where: StoredObject, options?: FindOptions): RangeLookup | null {
        const definition = this.definition(collection)
        const fields = Object.keys(where)
        const condition = where[fields[0]] as { $gt?: unknown } | null
        if (!definition || fields.length !== 1 || !condition || typeof condition !== 'object' || Object.keys(condition).length !== 1 || typeof condition.$gt !== 'number') {
            return null
        }
        const field = fields[0]
        const order = options?.order ?? []
        const pk = definition.pkIndex === field
        const indexed = pk || (definition.indices ?? []).some(index => index.field === field && !index.pk)
        if (!indexed || order.length > 1 || (order.length === 1 && (order[0][0] !== field || order[0][1] !== 'asc'))) {
            return null
        }
        return { index: pk ? null : field, field, above: condition.$gt, definition }
    }

    /**
     * `{}` unordered or in primary-key order, with or without a limit (e.g. "does this collection
     * hold anything", `limit: 1`): the store's objects in key order, as one getAll with the
     * limit. Null otherwise.
     */
    storeOrderLookup(collection: string, where: StoredObject, options?: FindOptions): { definition: CollectionDefinition } | null {
        const definition = this.definition(collection)
        const order = options?.order ?? []
        if (!definition || Object.keys(where).length || order.length > 1 || options?.limit === 0) {
            return null
        }
        if (order.length === 1 && (order[0][0] !== this.pkField(collection) || order[0][1] !== 'asc')) {
            return null
        }
        return { definition }
    }

    /**
     * Whether `findObjects` can be answered by key or index range with these options: unordered
     * (or a range in index order), and a limit only where the lookup can apply it itself.
     */
    plainFind(lookup: KeyLookup, options?: FindOptions): { limit?: number } | null {
        const unordered = !options?.order?.length
        const limited = options?.limit !== undefined && lookup.kind === 'index' && lookup.values.length === 1 && options.limit > 0
        const plain = unordered && (options?.limit === undefined || limited || (lookup.kind === 'pk' && lookup.values.length === 1 && options.limit !== 0))
        return plain ? { limit: limited ? options?.limit : undefined } : null
    }

    hasNestedObjects(collection: string, object: StoredObject): boolean {
        const reverse = this.definition(collection)?.reverseRelationshipsByAlias ?? {}
        return Object.keys(reverse).some(alias => object[alias] !== undefined && object[alias] !== null)
    }

    /** The collection's single primary key field, if it has one. */
    pkField(collection: string): string | null {
        const pkIndex = this.definition(collection)?.pkIndex
        return typeof pkIndex === 'string' ? pkIndex : null
    }

    /**
     * What the backend's own createObject returns: the values as given (not as its cleaners
     * stored them, e.g. a custom field's storage form), the key it assigned, and null for unset
     * optional fields unless `legacyMemexCompatibility` is on.
     */
    asReturned(collection: string, given: StoredObject, stored: StoredObject): StoredObject {
        const definition = this.definition(collection)
        const pkIndex = definition?.pkIndex
        const pkFields = Array.isArray(pkIndex) ? pkIndex : pkIndex ? [pkIndex] : []
        const result: StoredObject = { ...given }
        for (const field of pkFields) {
            if (typeof field === 'string') {
                result[field] = stored[field]
            }
        }
        if (definition && !this.backend.options.legacyMemexCompatibility) {
            this.normalizeOptionalFields(result, definition)
        }
        return result
    }

    /** Whether the backend's cleaners can change objects of this collection (see `collectionNeedsCleaning`). */
    needsCleaning(collection: string): boolean {
        let needs = this.cleaning.get(collection)
        if (needs === undefined) {
            needs = collectionNeedsCleaning(this.definition(collection))
            this.cleaning.set(collection, needs)
        }
        return needs
    }

    async cleanForCreate(collection: string, object: StoredObject): Promise<void> {
        if (this.needsCleaning(collection)) {
            await this.backend.createObjectCleaner(object, { collectionDefinition: this.definition(collection)!, stemmerSelector: this.backend.stemmerSelector })
        }
    }

    async cleanForUpdate(definition: CollectionDefinition, updates: StoredObject): Promise<void> {
        // The update cleaners are the create cleaners (custom fields, full-text terms): where
        // those change nothing, neither do these.
        if (definition.name === undefined || this.needsCleaning(definition.name)) {
            await this.backend.updateObjectCleaner(updates, { collectionDefinition: definition, stemmerSelector: this.backend.stemmerSelector })
        }
    }

    /** What the backend does to every object it reads; its cleaner chain only where it changes something. */
    async cleanRead(collection: string, objects: StoredObject[], definition: CollectionDefinition): Promise<void> {
        const clean = this.needsCleaning(collection)
        for (const object of objects) {
            this.normalizeOptionalFields(object, definition)
            if (clean) {
                await this.backend.readObjectCleaner(object, { collectionDefinition: definition, stemmerSelector: this.backend.stemmerSelector })
            }
        }
    }

    /**
     * Storex's `normalizeOptionalFields` (an unset optional field reads as null) over the
     * definition's optional fields, listed once per definition instead of on every object.
     */
    private normalizeOptionalFields(object: StoredObject, definition: CollectionDefinition): void {
        let names = this.optionalFields.get(definition)
        if (!names) {
            names = Object.keys(definition.fields).filter(field => (definition.fields[field] as { optional?: boolean }).optional)
            this.optionalFields.set(definition, names)
        }
        for (const name of names) {
            if (object[name] === undefined) {
                object[name] = null
            }
        }
    }

    keyRange(): typeof IDBKeyRange {
        // Typed structurally in DexieBackendLike, so apps compiled without the DOM library
        // (Node/SQLite) can read this module's declarations.
        return (this.backend.options.idbImplementation?.range as typeof IDBKeyRange | undefined) ?? IDBKeyRange
    }
}
