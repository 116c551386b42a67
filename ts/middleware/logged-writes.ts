import type { StorageRegistry } from '@worldbrain/storex'
import { dissectCreateObjectOperation } from '@worldbrain/storex/lib/utils'
import { KeyExistsError } from '../backend/types'
import type { AtomicOperations, BackendAdapter, StoredObject } from '../backend/types'
import type { SyncLogEntry, PrimaryKey } from '../entries/types'
import { SyncError, UnloggableOperationError } from '../errors'
import { getChildRelationships, getObjectPk, getPkFields, pkWhere, requireObjectPk, withoutFields } from './registry-info'
import { computeUpdates, parseUpdates } from './update-operators'
import { assertIdentifier, assertPrimaryKey } from '../entries/values'
import { checkCreateValues, checkFieldValue } from './write-checks'

/** An explicit primary key that already exists: refused on every backend (Dexie would overwrite). */
export class DuplicatePrimaryKeyError extends SyncError {
    constructor(readonly collection: string, readonly pk: PrimaryKey) {
        super('DUPLICATE_PK', `An object with primary key ${JSON.stringify(pk)} already exists in '${collection}'`)
    }
}

/** Everything one logged write needs: the transaction's operations and where its entries go. */
export interface WriteContext {
    ops: AtomicOperations
    adapter: BackendAdapter
    registry: StorageRegistry
    isSynced(collection: string): boolean
    /** Records a log entry made by this write (version and device are filled in by the caller). */
    log(entry: Pick<SyncLogEntry, 'collection' | 'pk' | 'operation' | 'field' | 'value'>): void
}

/** Creates an object and its nested children (childOf relationships), logging each one. */
export async function createLogged(ctx: WriteContext, collection: string, object: StoredObject): Promise<StoredObject> {
    if (!getChildRelationships(ctx.registry, collection).length) {
        // Nothing nested to split: the object is created as it is (the common case, kept cheap).
        return asReturned(object, await createOne(ctx, collection, { ...object }), getPkFields(ctx.registry, collection))
    }
    const dissection = dissectCreateObjectOperation({ operation: 'createObject', collection, args: object }, ctx.registry) as {
        objects: Array<{ placeholder: number; collection: string; path: Array<string | number>; object: StoredObject; relations: Record<string, number> }>
    }
    const created = new Map<number, { collection: string; object: StoredObject }>()
    let result = cloneTree(object)
    for (const step of dissection.objects) {
        const args: StoredObject = { ...step.object }
        for (const [alias, placeholder] of Object.entries(step.relations)) {
            const parent = created.get(placeholder)!
            args[alias] = getObjectPk(parent.object, getPkFields(ctx.registry, parent.collection))
        }
        const stored = await createOne(ctx, step.collection, args)
        created.set(step.placeholder, { collection: step.collection, object: stored })
        if (step.path.length) {
            setIn(result, step.path, stored, getPkFields(ctx.registry, step.collection))
        } else {
            result = asReturned(result, stored, getPkFields(ctx.registry, step.collection))
        }
    }
    return result
}

/**
 * What plain Storex returns for a created object: the caller's values plus its key, with the
 * backend's treatment of unset optional fields (Dexie and TypeORM fill in null; with
 * `legacyMemexCompatibility` TypeORM leaves null fields out). `stored` is the adapter's
 * as-returned object; only its keys and its nulls are taken, never its cleaned values. (Plain
 * Storex normalises only the top object of a nested create, so children get their keys only.)
 */
function asReturned(input: StoredObject, stored: StoredObject, pkFields: string[]): StoredObject {
    const result: StoredObject = { ...input, ...pickFields(stored, pkFields) }
    for (const [field, value] of Object.entries(stored)) {
        if (value === null && result[field] === undefined) {
            result[field] = null
        }
    }
    for (const [field, value] of Object.entries(input)) {
        if (value === null && !(field in stored)) {
            delete result[field]
        }
    }
    return result
}

async function createOne(ctx: WriteContext, collection: string, args: StoredObject): Promise<StoredObject> {
    if (!ctx.isSynced(collection)) {
        return ctx.ops.createObject(collection, args)
    }
    const pkFields = getPkFields(ctx.registry, collection)
    const givenPk = getObjectPk(args, pkFields)
    // Before the write: what the log could not carry, or the service would refuse, is never stored.
    checkCreateValues(collection, args, pkFields)
    let stored: StoredObject
    if (givenPk !== null && ctx.ops.insertObject) {
        assertPrimaryKey(givenPk)
        // The insert itself refuses an existing key: one request instead of a read and a write.
        try {
            stored = await ctx.ops.insertObject(collection, { ...args })
        } catch (error) {
            throw error instanceof KeyExistsError ? new DuplicatePrimaryKeyError(collection, givenPk) : error
        }
    } else {
        if (givenPk !== null) {
            assertPrimaryKey(givenPk)
            const existing = await ctx.ops.findObjects(collection, pkWhere(givenPk, pkFields), { limit: 1 })
            if (existing.length) {
                throw new DuplicatePrimaryKeyError(collection, givenPk)
            }
        }
        // A copy: the Dexie backend fills the object it is given with nulls for missing optional
        // fields, which would otherwise end up in the logged value.
        stored = await ctx.ops.createObject(collection, { ...args })
    }
    // An auto-increment key is only known now: log the key the backend assigned.
    const pk = requireObjectPk('createObject', collection, stored, pkFields)
    assertPrimaryKey(pk)
    ctx.log({ collection, pk, operation: 'create', field: null, value: withoutFields(args, pkFields) })
    return stored
}

/** Resolves `where` to concrete objects and logs one entry per object and changed field. */
export async function updateLogged(ctx: WriteContext, collection: string, where: StoredObject, updates: StoredObject): Promise<void> {
    if (!ctx.isSynced(collection)) {
        await ctx.ops.updateObjects(collection, where, updates)
        return
    }
    ctx.adapter.checkWhere(collection, where)
    const pkFields = getPkFields(ctx.registry, collection)
    const parsed = parseUpdates(collection, updates)
    const touchedPk = pkFields.find(field => parsed.fields.has(field))
    if (touchedPk) {
        throw new UnloggableOperationError('updateObjects', collection, `changing primary key field '${touchedPk}' would break object identity`)
    }
    assertIdentifier('collection', collection)
    if (parsed.plain) {
        // Plain values are the same for every object: checked once, before anything is written.
        checkValues(collection, computeUpdates(parsed, {}))
    }
    const pkValue = pkFields.length === 1 && Object.keys(where).length === 1 ? where[pkFields[0]] : undefined
    if (parsed.plain && ctx.ops.updateObjectByPk && (typeof pkValue === 'string' || typeof pkValue === 'number')) {
        // One object by its key, the same values for it whatever it holds: one read and one write.
        if (!parsed.fields.size) {
            return
        }
        const values = computeUpdates(parsed, {})
        assertPrimaryKey(pkValue)
        if (await ctx.ops.updateObjectByPk(collection, where, values)) {
            logModifies(ctx, collection, pkValue, values)
        }
        return
    }
    const objects = await ctx.ops.findObjects(collection, where)
    if (!objects.length || !parsed.fields.size) {
        return
    }
    // Each object is written through its key: an equality on the key uses the primary index,
    // while Dexie evaluates `$in` by scanning the whole collection (O(n) per write).
    for (const object of objects) {
        const pk = requireObjectPk('updateObjects', collection, object, pkFields)
        const values = computeUpdates(parsed, object)
        assertPrimaryKey(pk)
        if (!parsed.plain) {
            checkValues(collection, values)
        }
        await ctx.ops.updateObjects(collection, pkWhere(pk, pkFields), values)
        logModifies(ctx, collection, pk, values)
    }
}

function checkValues(collection: string, values: StoredObject): void {
    for (const [field, value] of Object.entries(values)) {
        checkFieldValue(collection, field, value)
    }
}

function logModifies(ctx: WriteContext, collection: string, pk: PrimaryKey, values: StoredObject): void {
    for (const [field, value] of Object.entries(values)) {
        ctx.log({ collection, pk, operation: 'modify', field, value })
    }
}

/** Resolves `where` to concrete objects, deletes them by key and logs a tombstone for each. */
export async function deleteLogged(ctx: WriteContext, collection: string, where: StoredObject): Promise<void> {
    if (!ctx.isSynced(collection)) {
        await ctx.ops.deleteObjects(collection, where)
        return
    }
    ctx.adapter.checkWhere(collection, where)
    const pkFields = getPkFields(ctx.registry, collection)
    const objects = await ctx.ops.findObjects(collection, where)
    if (!objects.length) {
        return
    }
    const pks = objects.map(object => requireObjectPk('deleteObjects', collection, object, pkFields))
    assertIdentifier('collection', collection)
    pks.forEach(assertPrimaryKey)
    // By key, one at a time: see updateLogged.
    for (const pk of pks) {
        await ctx.ops.deleteObjects(collection, pkWhere(pk, pkFields))
    }
    for (const pk of pks) {
        ctx.log({ collection, pk, operation: 'delete', field: null, value: null })
    }
}

function setIn(target: StoredObject, path: Array<string | number>, stored: StoredObject, pkFields: string[]): void {
    let node: Record<string | number, unknown> = target
    for (const key of path) {
        node = node[key] as Record<string | number, unknown>
    }
    for (const field of pkFields) {
        node[field] = stored[field]
    }
}

/** Copies the plain objects and arrays of a nested create; leaves other values (Dates) as they are. */
function cloneTree<T>(value: T): T {
    if (Array.isArray(value)) {
        return value.map(cloneTree) as T
    }
    if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
        return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, cloneTree(item)])) as T
    }
    return value
}

function pickFields(object: StoredObject, fields: string[]): StoredObject {
    return Object.fromEntries(fields.map(field => [field, object[field]]))
}
