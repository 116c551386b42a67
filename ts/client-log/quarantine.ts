import type { AtomicOperations, BackendAdapter } from '../backend/types'
import { CLIENT_LOG_COLLECTIONS } from './collections'
import { scanLog } from './seq'

/** Why an entry is held back, under its entry id. */
export interface QuarantineItem {
    id: string
    reason: string
    code: string
    at: number
}

/** A quarantine record as stored: since the layout of 2026-12-04 it names the held entry's object. */
export interface QuarantineRecord extends QuarantineItem {
    objectKey?: string
}

export async function putQuarantine(ops: AtomicOperations, items: QuarantineRecord[]): Promise<void> {
    for (const item of items) {
        await ops.putObject(CLIENT_LOG_COLLECTIONS.quarantine, { ...item })
    }
}

/**
 * Every quarantine record with the object it names, which is how a held row is found (the rows
 * have no index on entry ids). A record written before records named their object (an older
 * layout) gets it here, once, from a read of the whole log; one whose row is gone names no
 * object (''), so that it is not looked for again.
 */
export async function quarantineRecords(adapter: BackendAdapter): Promise<Array<QuarantineRecord & { objectKey: string }>> {
    const records = (await adapter.findObjects(CLIENT_LOG_COLLECTIONS.quarantine, {})) as unknown as QuarantineRecord[]
    const unnamed = new Map(records.filter(record => typeof record.objectKey !== 'string').map(record => [record.id, record]))
    const named = new Map<string, string>()
    if (unnamed.size) {
        await scanLog(adapter.findObjects.bind(adapter), null, rows => {
            for (const row of rows) {
                if (unnamed.has(row.id as string)) {
                    named.set(row.id as string, row.objectKey as string)
                }
            }
        })
        await adapter.atomic([CLIENT_LOG_COLLECTIONS.quarantine], ops => putQuarantine(ops, [...unnamed.values()].map(record => ({ ...record, objectKey: named.get(record.id) ?? '' }))))
    }
    return records.map(record => ({ ...record, objectKey: record.objectKey ?? named.get(record.id) ?? '' }))
}
