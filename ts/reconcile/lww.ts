import type { OperationBatch } from '@worldbrain/storex'
import type { PrimaryKey, SyncLogEntry } from '../entries/types'
import { entryId, entryObjectKey } from '../entries/keys'
import { SyncError } from '../errors'
import { objectStateFromEntries } from './object-state'
import { valuesEqual } from './values-equal'
import type { ObjectState } from './object-state'
import type { ReconcileInput, ReconcileResult } from './types'

/** An entry's primary key does not fit the collection's primary key fields. */
export class PrimaryKeyShapeError extends SyncError {
    constructor(readonly collection: string, readonly pk: PrimaryKey, readonly pkFields: string[]) {
        super('PRIMARY_KEY_SHAPE', `Primary key ${JSON.stringify(pk)} does not fit fields [${pkFields.join(', ')}] of '${collection}'`)
    }
}

export function pkFieldsObject(options: { collection: string; pk: PrimaryKey; pkFields: string[] }): Record<string, string | number> {
    const { collection, pk, pkFields } = options
    if (Array.isArray(pk)) {
        if (pk.length !== pkFields.length) {
            throw new PrimaryKeyShapeError(collection, pk, pkFields)
        }
        return Object.fromEntries(pkFields.map((field, index) => [field, pk[index]]))
    }
    if (pkFields.length !== 1) {
        throw new PrimaryKeyShapeError(collection, pk, pkFields)
    }
    return { [pkFields[0]]: pk }
}

function transition(options: { collection: string; where: Record<string, string | number>; before: ObjectState; after: ObjectState }): OperationBatch {
    const { collection, where, before, after } = options
    if (!after.exists) {
        return before.exists ? [{ operation: 'deleteObjects', collection, where }] : []
    }
    if (!before.exists) {
        return [{ operation: 'createObject', collection, args: { ...where, ...after.fields } }]
    }
    const updates: Record<string, unknown> = {}
    for (const field of new Set([...Object.keys(before.fields), ...Object.keys(after.fields)])) {
        // A re-create may lack a field the old life had; the row must not keep the stale value.
        const next = field in after.fields ? after.fields[field] : null
        const previous = field in before.fields ? before.fields[field] : null
        if (!valuesEqual(previous, next)) {
            updates[field] = next
        }
    }
    return Object.keys(updates).length > 0 ? [{ operation: 'updateObjects', collection, where, updates }] : []
}

function pushTo(groups: Map<string, SyncLogEntry[]>, key: string, entry: SyncLogEntry): void {
    const list = groups.get(key)
    if (list === undefined) {
        groups.set(key, [entry])
    } else {
        list.push(entry)
    }
}

/**
 * Default reconciler: field-level last-write-wins (docs/design.md, merge rules). Cost is linear in the
 * entries given. `newEntries` keep the order of their first occurrence in `incoming`, and the batch
 * lists objects in the order they are first touched by them, so the output is deterministic.
 */
export function reconcileLww(input: ReconcileInput): ReconcileResult {
    const { known, incoming, pkFields } = input
    const seen = new Set<string>()
    const knownByObject = new Map<string, SyncLogEntry[]>()
    for (const entry of known) {
        seen.add(entryId(entry))
        const key = entryObjectKey(entry)
        pushTo(knownByObject, key, entry)
    }

    const newEntries: SyncLogEntry[] = []
    const newByObject = new Map<string, SyncLogEntry[]>()
    for (const entry of incoming) {
        const id = entryId(entry)
        if (seen.has(id)) {
            continue
        }
        seen.add(id)
        newEntries.push(entry)
        const key = entryObjectKey(entry)
        pushTo(newByObject, key, entry)
    }

    const batch: OperationBatch = []
    for (const [key, added] of newByObject) {
        const { collection, pk } = added[0]
        const knownEntries = knownByObject.get(key) ?? []
        const before = objectStateFromEntries(knownEntries)
        const after = objectStateFromEntries([...knownEntries, ...added])
        const where = pkFieldsObject({ collection, pk, pkFields: pkFields(collection) })
        batch.push(...transition({ collection, where, before, after }))
    }
    return { batch, newEntries }
}
