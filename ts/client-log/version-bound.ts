import type { AtomicOperations, BackendAdapter, StoredObject } from '../backend/types'
import { CLIENT_LOG_COLLECTIONS } from './collections'
import { scanLog } from './seq'
import type { Find } from './seq'

/**
 * Where the sync state records the version bound: no row stored shared (received rows and
 * baselines, keys below zero) and no own row the push watermark covers has a greater version.
 * The rows carry no index on `version` (every index costs every row written), so a restarted
 * clock reads this bound and the own rows above the watermark, the ones not yet pushed
 * (`newestVersion`). Storing received rows raises it in their transaction, and a push raises
 * it in the transaction that moves the watermark.
 */
export const VERSION_BOUND_STATE_KEY = 'clientLog.versionBound'

/** The recorded bound, or null where none is (an empty log, or one an older layout wrote). */
export async function readVersionBound(find: Find): Promise<number | null> {
    const [state] = await find(CLIENT_LOG_COLLECTIONS.state, { key: VERSION_BOUND_STATE_KEY })
    const value = state?.value
    return typeof value === 'number' && Number.isFinite(value) ? value : null
}

/** Raises the bound to `version` in `ops`' transaction (which must include the sync state); a lower one leaves it. */
export async function raiseVersionBound(ops: AtomicOperations, version: number): Promise<void> {
    const bound = await readVersionBound(ops.findObjects)
    if (bound === null || version > bound) {
        await ops.putObject(CLIENT_LOG_COLLECTIONS.state, { key: VERSION_BOUND_STATE_KEY, value: version })
    }
}

/** The greatest `version` of the rows, or -Infinity for none. */
export function greatestVersion(rows: Array<{ version: number }>): number {
    let greatest = -Infinity
    for (const row of rows) {
        if (row.version > greatest) {
            greatest = row.version
        }
    }
    return greatest
}

/** The greatest version of the rows whose key is above `above` (every row for null), or -Infinity for none. */
export async function greatestVersionAbove(find: Find, above: number | null): Promise<number> {
    let greatest = -Infinity
    await scanLog(find, above, rows => {
        greatest = Math.max(greatest, greatestVersion(rows as unknown as Array<{ version: number }>))
    })
    return greatest
}

/**
 * The newest version in the log: the bound and the rows above `watermark` (not yet pushed). A
 * log an older layout wrote has no bound (where it has rows the bound would cover): it is read
 * whole once and the bound recorded.
 */
export async function newestVersion(adapter: BackendAdapter, watermark: number): Promise<number> {
    const find = adapter.findObjects.bind(adapter)
    const bound = await readVersionBound(find)
    if (bound === null && (watermark > 0 || (await hasSharedRows(find)))) {
        const greatest = Math.max(0, await greatestVersionAbove(find, null))
        await adapter.atomic([CLIENT_LOG_COLLECTIONS.state], ops => raiseVersionBound(ops, greatest))
        return greatest
    }
    return Math.max(0, bound ?? 0, await greatestVersionAbove(find, watermark))
}

/** Whether the log holds a row stored shared (a received row or a baseline: a key below zero). */
async function hasSharedRows(find: Find): Promise<boolean> {
    const [lowest] = await find(CLIENT_LOG_COLLECTIONS.entry, {}, { order: [['seq', 'asc']], limit: 1 })
    return typeof lowest?.seq === 'number' && lowest.seq < 0
}
