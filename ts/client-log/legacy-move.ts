import type { AtomicOperations, BackendAdapter } from '../backend/types'
import { compareEntryVersions } from '../entries/order'
import type { ClientSyncLog } from './client-log'
import { CLIENT_LOG_COLLECTIONS } from './collections'
import { LEGACY_CLIENT_LOG_COLLECTION } from './legacy-layout'
import type { LegacyClientLogRow } from './legacy-layout'
import type { ClientLogRow } from './rows'

/** Rows moved per transaction: each page is moved (inserted and deleted) atomically. */
const MOVE_PAGE = 500

/**
 * Moves the rows of the first layout into the current one, once per database, before the first
 * write of the session; a database that never had them costs one empty read. Each page moves in
 * one transaction, so an interrupted move resumes where it stopped and no row is in both stores
 * or in neither. Unpushed own rows get keys above the watermark (in version order), so the next
 * push sends them; everything else is stored shared. Resolves to the number of rows moved.
 */
export async function moveLegacyClientLogRows(adapter: BackendAdapter, log: ClientSyncLog): Promise<number> {
    if (!(await adapter.findObjects(LEGACY_CLIENT_LOG_COLLECTION, {}, { limit: 1 })).length) {
        return 0
    }
    let moved = 0
    for (;;) {
        const count = await adapter.atomic([LEGACY_CLIENT_LOG_COLLECTION, CLIENT_LOG_COLLECTIONS.entry, CLIENT_LOG_COLLECTIONS.state, CLIENT_LOG_COLLECTIONS.quarantine], async ops => {
            const legacy = (await ops.findObjects(LEGACY_CLIENT_LOG_COLLECTION, {}, { limit: MOVE_PAGE })) as unknown as LegacyClientLogRow[]
            if (!legacy.length) {
                return 0
            }
            const rows = legacy.map(toCurrentRow).sort((a, b) => compareEntryVersions(a, b))
            await log.insertRows(ops, rows)
            await keepHeldFindable(ops, rows)
            await ops.deleteObjects(LEGACY_CLIENT_LOG_COLLECTION, { id: { $in: legacy.map(row => row.id) } })
            return legacy.length
        })
        moved += count
        if (count < MOVE_PAGE) {
            return moved
        }
    }
}

/** A first-layout row as a current one: unpushed exactly when it was not yet `shared`. */
function toCurrentRow(legacy: LegacyClientLogRow): ClientLogRow {
    const { pendingVersion: _pending, heldVersion: _held, seq: _seq, ...rest } = legacy
    return { ...(rest as unknown as ClientLogRow), shared: legacy.shared ? 1 : 0, needsIntegration: legacy.needsIntegration ? 1 : 0 }
}

/**
 * Held rows are found through their quarantine records (`ClientSyncLog.getHeldEntries`), which
 * name the row's object. The first layout wrote a record with every held row, naming no object;
 * each gets its object here, and a held row without one (written by hand, say) gets a record, so
 * that it is still retried.
 */
async function keepHeldFindable(ops: AtomicOperations, rows: ClientLogRow[]): Promise<void> {
    const held = rows.filter(row => row.needsIntegration)
    if (!held.length) {
        return
    }
    const recorded = new Map((await ops.findObjects(CLIENT_LOG_COLLECTIONS.quarantine, { id: { $in: held.map(row => row.id) } })).map(item => [item.id as string, item]))
    for (const row of held) {
        const record = recorded.get(row.id) ?? { id: row.id, code: 'HELD', reason: 'held back before the client log moved to its current layout', at: 0 }
        await ops.putObject(CLIENT_LOG_COLLECTIONS.quarantine, { ...record, objectKey: row.objectKey })
    }
}
