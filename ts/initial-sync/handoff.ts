import type { SyncSetup } from '../setup'
import type { SharedLogCursor } from '../shared-log/types'
import { PULL_CURSOR_KEY } from '../sync/sync-pass'

const TAIL_PAGE = 1000
const ATTEMPTS = 3

/**
 * The pull cursor the receiver adopts, taken before the first batch. The sender first pushes
 * (so its own changes are in the shared log, where the receiver will not pull them again) and
 * pulls (so it holds everything other devices wrote before its cursor). Its own cursor then
 * still lies before its own recent entries, which a pull by the sender never returns; reading
 * on from it as the receiver finds the position past them. If that tail holds another device's
 * entry, the sender does not hold it yet: it pulls again and retries, and after a few attempts
 * hands over its own cursor (the receiver then re-reads a few entries it already has, which
 * changes nothing). Without a reachable shared log the current cursor is handed over as is.
 */
export async function takeHandOffCursor(sync: SyncSetup, receiverDeviceId: string): Promise<SharedLogCursor | null> {
    try {
        await sync.push()
        for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
            await sync.pull()
            const start = await sync.clientLog.getState<SharedLogCursor>(PULL_CURSOR_KEY)
            const end = await readToEnd(sync, receiverDeviceId, start)
            if (end.clean) {
                return end.cursor
            }
        }
    } catch {
        // Offline: the receiver then pulls what the transfer already carried once more; harmless.
    }
    return sync.clientLog.getState<SharedLogCursor>(PULL_CURSOR_KEY)
}

async function readToEnd(sync: SyncSetup, receiverDeviceId: string, start: SharedLogCursor | null): Promise<{ cursor: SharedLogCursor | null; clean: boolean }> {
    let cursor = start
    for (;;) {
        const page = await sync.sharedLog.readEntries({ deviceId: receiverDeviceId, cursor, limit: TAIL_PAGE })
        if (page.entries.some(entry => entry.deviceId !== sync.deviceId)) {
            return { cursor: start, clean: false }
        }
        const advanced = page.cursor !== null && page.cursor !== cursor
        cursor = page.cursor ?? cursor
        if (!page.hasMore || !advanced) {
            return { cursor, clean: true }
        }
    }
}
