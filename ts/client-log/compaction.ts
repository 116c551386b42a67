import { fieldKeyOf } from '../entries/keys'
import { compareEntryVersions } from '../entries/order'
import type { RowMeta } from './recent-rows'

/**
 * The objects of a push batch that may have rows besides the batch's, i.e. all but those whose
 * first row in the batch (the lowest key: commit order) is their create. Such an object's later
 * rows are in the batch or unshared (a push takes the oldest unshared rows), and compaction never
 * drops an unshared row; its earlier rows, if any, are what an older life left behind (a key used
 * again after a delete, or another device's create of the same key), and they are compacted the
 * next time the object is (a later push of a change to it, or a pull that touches it). So
 * compaction drops exactly as much, only later, and a batch of new objects, edited or not, costs
 * no lookup per object.
 */
export function objectsWithOtherRows(rows: Array<Pick<RowMeta, 'seq' | 'objectKey' | 'operation'>>): string[] {
    const first = new Map<string, Pick<RowMeta, 'seq' | 'operation'>>()
    for (const row of rows) {
        const current = first.get(row.objectKey)
        if (!current || (row.seq as number) < (current.seq as number)) {
            first.set(row.objectKey, row)
        }
    }
    return [...first].filter(([, row]) => row.operation !== 'create').map(([key]) => key)
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
