import { entryIdOf, fieldKeyOf } from '../entries/keys'
import type { RowMeta } from './recent-rows'
import type { ClientLogRow } from './rows'

/**
 * Two tabs of one device share its id and database but not its clock: both can write the same
 * field in the same millisecond, which makes the same entry id twice with (maybe) different
 * values. The shared log keeps one entry per id, so the other devices could end with the first
 * tab's value while this device holds the second's (the later commit). A push finds such rows
 * among the rows it reads for compaction: own rows of the push whose id an own row with a smaller
 * key (committed earlier) has too. Each is logged again one version later (`reversioned`), which
 * wins over the earlier one everywhere and loses to every newer write of the field, as the row
 * did. The log's `id` index is not unique (ts/client-log/collections.ts), so this is where one id
 * per entry is kept for own rows. An object whose first row in the push is its create is looked at
 * within the push only (`objectsWithOtherRows`): an earlier row with the id of one of its rows
 * would be a create of the same key in the same millisecond, before a delete of it.
 */
export function collidingRows<R extends RowMeta>(rows: R[], pushedSeqs: Set<number>): R[] {
    const earliest = new Map<string, R>()
    for (const row of rows) {
        if (isOwn(row)) {
            const current = earliest.get(row.id)
            if (!current || (row.seq as number) < (current.seq as number)) {
                earliest.set(row.id, row)
            }
        }
    }
    if (earliest.size === rows.filter(isOwn).length) {
        return []
    }
    return rows.filter(row => isOwn(row) && pushedSeqs.has(row.seq as number) && earliest.get(row.id) !== row)
}

/**
 * The row as a new unpushed entry (no key: the store gives the next one) at the first version
 * after its own whose id is not in `taken` (the ids of the rows at hand), which gets the new id.
 */
export function reversioned(row: ClientLogRow, taken: Set<string>): ClientLogRow {
    const fieldKey = fieldKeyOf(row.objectKey, row)
    let version = row.version + 1
    while (taken.has(entryIdOf(fieldKey, { version, deviceId: row.deviceId }))) {
        version++
    }
    const id = entryIdOf(fieldKey, { version, deviceId: row.deviceId })
    taken.add(id)
    const { seq: _seq, ...rest } = row
    return { ...rest, version, id, shared: 0, needsIntegration: 0 }
}

function isOwn(row: RowMeta): boolean {
    return typeof row.seq === 'number' && row.seq > 0
}
