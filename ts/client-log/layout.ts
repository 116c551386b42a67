import { putAll } from '../backend/types'
import type { AtomicOperations, BackendAdapter } from '../backend/types'
import { CLIENT_LOG_COLLECTIONS } from './collections'
import { pendingRowOf } from './pending'
import type { ClientLogRow } from './rows'

/** Where the sync state records which client-log layout the rows follow. */
export const LAYOUT_STATE_KEY = 'clientLogLayout'
export const CURRENT_LAYOUT = 2

/**
 * Brings rows written under the first layout (2026-11) to the current one, once per database: the
 * first layout marked a row pushed by rewriting it (`shared` 1), the current one keeps a pending
 * key per unpushed own entry. So every row still `shared` 0 gets its key. Runs in one transaction
 * with the recorded layout, before the first write of the session; a database that starts on the
 * current layout has no rows yet and only records it. Resolves to the number of keys made.
 */
export async function upgradeClientLogLayout(adapter: BackendAdapter): Promise<number> {
    return adapter.atomic([CLIENT_LOG_COLLECTIONS.entry, CLIENT_LOG_COLLECTIONS.pending, CLIENT_LOG_COLLECTIONS.state], async ops => {
        const [recorded] = await ops.findObjects(CLIENT_LOG_COLLECTIONS.state, { key: LAYOUT_STATE_KEY })
        if (recorded && Number(recorded.value) >= CURRENT_LAYOUT) {
            return 0
        }
        const unpushed = (await ops.findObjects(CLIENT_LOG_COLLECTIONS.entry, { shared: 0 })) as unknown as ClientLogRow[]
        await writePendingKeys(ops, unpushed)
        await ops.putObject(CLIENT_LOG_COLLECTIONS.state, { key: LAYOUT_STATE_KEY, value: CURRENT_LAYOUT })
        return unpushed.length
    })
}

async function writePendingKeys(ops: AtomicOperations, rows: ClientLogRow[]): Promise<void> {
    // Put, not insert: if the recorded layout was lost (a wiped sync state) some keys may exist,
    // and a key made again only repeats a push, which the shared log takes idempotently.
    await putAll(ops, CLIENT_LOG_COLLECTIONS.pending, rows.map(pendingRowOf))
}
