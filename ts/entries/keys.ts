import type { PrimaryKey, SyncLogEntry } from './types'

/**
 * Stable string keys for objects, fields and entries. Primary keys are compared through these
 * strings, never through backend `where` equality: Dexie's where matching treats array (compound)
 * values as operator objects and matches every row.
 */

/** Identifies one object across devices: collection plus JSON of its primary key. */
export function objectKey(collection: string, pk: PrimaryKey): string {
    return `${collection}/${JSON.stringify(pk)}`
}

export function entryObjectKey(entry: Pick<SyncLogEntry, 'collection' | 'pk'>): string {
    return objectKey(entry.collection, entry.pk)
}

/**
 * What a newer entry can supersede: a modify supersedes older modifies of the same field; a
 * create or delete (the object's lifecycle) supersedes older lifecycle entries and every older
 * modify of the object.
 */
export function entryFieldKey(entry: Pick<SyncLogEntry, 'collection' | 'pk' | 'field' | 'operation'>): string {
    return fieldKeyOf(entryObjectKey(entry), entry)
}

/** `entryFieldKey` for a caller that has the entry's `objectKey` already (it is a JSON encoding per call). */
export function fieldKeyOf(objectKey: string, entry: Pick<SyncLogEntry, 'field' | 'operation'>): string {
    return entry.operation === 'modify' ? `${objectKey}#${entry.field}` : `${objectKey}#`
}

/** Identity of an entry: writing the same entry twice must store it once. */
export function entryId(entry: Pick<SyncLogEntry, 'collection' | 'pk' | 'field' | 'operation' | 'version' | 'deviceId'>): string {
    return entryIdOf(entryFieldKey(entry), entry)
}

/** `entryId` from the entry's `entryFieldKey`. */
export function entryIdOf(fieldKey: string, entry: Pick<SyncLogEntry, 'version' | 'deviceId'>): string {
    return `${entry.deviceId}@${entry.version}:${fieldKey}`
}
