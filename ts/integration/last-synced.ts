import type { ClientSyncLog } from '../client-log/client-log'

/** Where the time of the last successful pass is kept (in the client log's sync state). */
export const LAST_SYNCED_AT_KEY = 'continuousSync.lastSyncedAt'

/** At most one write of the last sync time per this many ms (a write per pass would slow every pass). */
const PERSIST_EVERY_MS = 1000

/** The time of the last successful pass, in memory and, at most once a second and on stop, in the database. */
export class LastSynced {
    value: number | null = null
    private persisted: number | null = null

    constructor(private readonly clientLog: Pick<ClientSyncLog, 'getState' | 'setState'>) {}

    async read(): Promise<number | null> {
        const value = await this.clientLog.getState<number>(LAST_SYNCED_AT_KEY)
        return typeof value === 'number' ? value : null
    }

    async load(): Promise<void> {
        try {
            this.value = (await this.read()) ?? this.value
        } catch {
            // Unknown until the next pass succeeds.
        }
    }

    async record(at: number, force = false): Promise<void> {
        this.value = at
        await this.flush(force)
    }

    async flush(force = true): Promise<void> {
        const at = this.value
        if (at === null || at === this.persisted || (!force && this.persisted !== null && at - this.persisted < PERSIST_EVERY_MS)) {
            return
        }
        try {
            await this.clientLog.setState(LAST_SYNCED_AT_KEY, at)
            this.persisted = at
        } catch {
            // Losing the timestamp of a sync that succeeded is no reason to call it failed.
        }
    }
}
