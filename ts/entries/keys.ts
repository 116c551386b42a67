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
    const suffix = entry.operation === 'modify' ? `#${entry.field}` : '#'
    return entryObjectKey(entry) + suffix
}

/** Identity of an entry: writing the same entry twice must store it once. */
export function entryId(entry: Pick<SyncLogEntry, 'collection' | 'pk' | 'field' | 'operation' | 'version' | 'deviceId'>): string {
    return `${entry.deviceId}@${entry.version}:${entryFieldKey(entry)}`
}
