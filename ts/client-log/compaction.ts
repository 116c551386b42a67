import type { SyncLogEntry } from '../entries/types'
import { entryObjectKey, fieldKeyOf } from '../entries/keys'
import { compareEntryVersions } from '../entries/order'
import type { RowMeta } from './recent-rows'

/**
 * The objects of pushed entries that may have rows besides those entries, i.e. all but those
 * whose only entry in the batch is their create. An object's create is its first entry unless
 * its key is used again after a delete (or collides with another device's); what such an older
 * life left behind is compacted the next time the object is (a later push of a change to it, or
 * a pull that touches it), so compaction drops exactly as much, only later, and a batch of new
 * objects costs no lookup per object.
 */
export function objectsWithOtherRows(entries: SyncLogEntry[]): string[] {
    const onlyCreate = new Map<string, boolean>()
    for (const entry of entries) {
        const key = entryObjectKey(entry)
        onlyCreate.set(key, !onlyCreate.has(key) && entry.operation === 'create')
    }
    return [...onlyCreate].filter(([, created]) => !created).map(([key]) => key)
}

/**
 * The rows (of whole objects) that compaction drops: shared, integrated, and superseded by a
 * newer entry of the same object field or by a newer create/delete of the object.
 */
export function obsoleteRows<R extends RowMeta>(rows: R[]): R[] {
    const newestByField = new Map<string, R>()
    const newestLifecycle = new Map<string, R>()
    for (const row of rows) {
        if (row.needsIntegration) {
            continue
        }
        const fieldKey = fieldKeyOf(row.objectKey, row)
        const current = newestByField.get(fieldKey)
        if (!current || compareEntryVersions(row, current) > 0) {
            newestByField.set(fieldKey, row)
        }
        if (row.operation !== 'modify') {
            const lifecycle = newestLifecycle.get(row.objectKey)
            if (!lifecycle || compareEntryVersions(row, lifecycle) > 0) {
                newestLifecycle.set(row.objectKey, row)
            }
        }
    }
    return rows.filter(row => {
        if (!row.shared || row.needsIntegration) {
            return false
        }
        if (newestByField.get(fieldKeyOf(row.objectKey, row)) !== row) {
            return true
        }
        const lifecycle = newestLifecycle.get(row.objectKey)
        return row.operation === 'modify' && !!lifecycle && compareEntryVersions(row, lifecycle) < 0
    })
}
