import type { OperationBatch } from '@worldbrain/storex'
import type { PrimaryKey, SyncLogEntry } from '../entries/types'
import { objectKey } from '../entries/keys'
import { objectStateFromEntries } from '../reconcile/object-state'

/**
 * Turns the default reconciler's field updates of existing objects into puts of the whole object,
 * so that applying them reads nothing: one write per object instead of a read and a write.
 *
 * Sound for `reconcileLww` only. Its state of an object is a function of the object's entries,
 * and every state it writes is that function of the entries then held; the device holds all of
 * them (compaction keeps the newest lifecycle entry and each newer field's newest modify), so the
 * stored object is the state of `known`, and that state plus the update is what the update would
 * leave. Objects without a live lifecycle entry among `known` (made before sync started) keep the
 * update, which reads them. A custom reconciler may store states that are no such function (a
 * merge of two edits, say), so its batches are applied as they are.
 */
export function updatesAsPuts(options: {
    batch: OperationBatch
    known: SyncLogEntry[]
    objectKeyOf: (entry: SyncLogEntry) => string
    pkFields: (collection: string) => string[]
}): OperationBatch {
    const { batch, known, objectKeyOf, pkFields } = options
    if (!known.length || !batch.some(step => step.operation === 'updateObjects')) {
        return batch
    }
    const knownByObject = new Map<string, SyncLogEntry[]>()
    for (const entry of known) {
        const key = objectKeyOf(entry)
        const list = knownByObject.get(key)
        if (list) {
            list.push(entry)
        } else {
            knownByObject.set(key, [entry])
        }
    }
    return batch.map(step => {
        if (step.operation !== 'updateObjects') {
            return step
        }
        const where = step.where as Record<string, string | number>
        const entries = knownByObject.get(objectKey(step.collection, pkOfWhere(where, pkFields(step.collection))))
        const before = entries && objectStateFromEntries(entries)
        if (!before || !before.exists) {
            return step
        }
        return { operation: 'createObject', collection: step.collection, args: { ...before.fields, ...(step.updates as Record<string, unknown>), ...where } }
    })
}

/** The primary key as entries carry it: the one value, or the values in index order. */
function pkOfWhere(where: Record<string, string | number>, fields: string[]): PrimaryKey {
    return fields.length === 1 ? where[fields[0]] : fields.map(field => where[field])
}
