import { entryFieldKey, entryId } from '../entries/keys'
import type { SyncLogEntry } from '../entries/types'
import { DEFAULT_READ_LIMIT, assertDeviceId, resolveReadLimit } from './arguments'
import { docsToEntries, entryToDoc, formatCursor, newBatchId, newestPerFieldKey, parseCursor } from './http-mapping'
import type { ServiceDoc } from './http-mapping'
import { DEFAULT_MAX_RECONCILE_BODY_BYTES, HttpSyncServiceError, HttpTransport } from './http-transport'
import type { RetryOptions } from './http-transport'
import { subscribeHttpLive } from './http-live'
import type { SharedLogClient, SharedLogCursor, SharedLogReadResult, SharedLogSubscribeOptions, SharedLogSubscription, SharedSyncLog } from './types'

export { HttpSyncServiceError } from './http-transport'
export type { RetryOptions } from './http-transport'

/** Where the app keeps the last SyncId it synced with (seed 003), e.g. in its own database. */
export interface SyncIdStore {
    get(): Promise<string | null>
    set(syncId: string): Promise<void>
}

export interface HttpSharedSyncLogOptions {
    /** Base URL of the sync service, e.g. 'http://127.0.0.1:8787'. */
    url: string
    /** Bearer token, for a service in multi-user mode (`synclog token create`). Default: none. */
    token?: string
    /** The fetch implementation. Default: the global fetch. */
    fetch?: typeof fetch
    /** Retries of network errors, 5xx and 429 (see `RetryOptions` for the defaults). */
    retry?: RetryOptions
    /** Keeps the last known SyncId across restarts. Default: in memory (forgotten on restart, which costs one reconciliation). */
    syncIdStore?: SyncIdStore
    /**
     * The device's entire state as log entries (at least the newest entry per field key it has
     * applied), sent to `POST /Reconcile` when the SyncId is unknown or no longer the server's.
     * Default: an empty state (the device then receives everything the server has).
     */
    getFullState?: () => Promise<SyncLogEntry[]>
    /** Page size of `readEntries` calls without a `limit`. Default: 1000. */
    defaultReadLimit?: number
    /** The service's largest query page (`limits.maxQueryLimit`); larger limits are capped. Default: 5000. */
    maxReadLimit?: number
    /** Entries per `POST /Docs` (the service's `limits.docsPerRequest`). Default: 1000. */
    writeBatchSize?: number
    /** Largest request body (the service's `limits.bodyBytes`); larger ones fail `BODY_TOO_LARGE` unsent. Default: 10 MiB. */
    maxBodyBytes?: number
    /** Largest `POST /Reconcile` body (the service's `limits.reconcileBodyBytes`). Default: 64 MiB. */
    maxReconcileBodyBytes?: number
}

/** Documents a reconciliation returned: the device lacks them, so reads deliver them first. */
interface Reconciled {
    syncId: string
    /** The service's cursor at the reconciliation; reads continue after it. */
    seq: number
    /** Random id, so an offset is never applied to another batch (after a restart or a reset). */
    batch: string
    entries: SyncLogEntry[]
}

/**
 * A `SharedSyncLog` on the sync service. Each entry travels as one document keyed by its
 * `entryFieldKey()` with `clientVersion` = version and `clientId` = the writing device, so the
 * service keeps the newest entry per field (the log compacts itself).
 *
 * SyncId (seed 003): every request carries the last known SyncId. When it is unknown or the
 * service answers 409, the log reconciles: it sends `getFullState()` to `POST /Reconcile`, adopts
 * the returned SyncId, and delivers the returned documents (those the device lacks) through
 * `readEntries` before anything newer, to any read whose cursor predates the reconciliation.
 * Cursors are `<syncId>:<seq>` (or `<syncId>:<seq>:<batch>.<offset>` inside a reconciliation batch),
 * so a cursor from before a server reset is recognised instead of skipping changes.
 */
export class HttpSharedSyncLog implements SharedSyncLog {
    private readonly transport: HttpTransport
    private syncIdStore: SyncIdStore
    private getFullState?: () => Promise<SyncLogEntry[]>
    private readonly defaultReadLimit: number
    private readonly maxReadLimit: number
    private readonly writeBatchSize: number
    private readonly maxReconcileBodyBytes: number
    private syncId: string | null | undefined
    private reconciled: Reconciled | null = null
    private reconciling: Promise<void> | null = null
    /**
     * Ids of entries the last reconciliation left on the service as the device sent them. A
     * device's first contact reconciles and then pushes its unshared entries, which are part of
     * that state: they are not uploaded a second time.
     */
    private uploadedByReconcile = new Set<string>()

    constructor(private readonly options: HttpSharedSyncLogOptions) {
        this.transport = new HttpTransport({ url: options.url, token: options.token, fetch: options.fetch, retry: options.retry, maxBodyBytes: options.maxBodyBytes })
        this.maxReconcileBodyBytes = resolveReadLimit(options.maxReconcileBodyBytes, DEFAULT_MAX_RECONCILE_BODY_BYTES)
        this.syncIdStore = options.syncIdStore ?? memorySyncIdStore()
        this.getFullState = options.getFullState
        this.defaultReadLimit = resolveReadLimit(options.defaultReadLimit, DEFAULT_READ_LIMIT)
        this.maxReadLimit = resolveReadLimit(options.maxReadLimit, 5000)
        this.writeBatchSize = resolveReadLimit(options.writeBatchSize, 1000)
    }

    /** Uses the device's state for reconciliation and its database for the SyncId, unless options gave their own. */
    attachClient(client: SharedLogClient): void {
        if (!this.options.getFullState) {
            this.getFullState = () => client.getFullState()
        }
        if (!this.options.syncIdStore) {
            this.syncIdStore = {
                get: async () => ((await client.getState('syncId')) as string | null) ?? null,
                set: syncId => client.setState('syncId', syncId),
            }
            this.syncId = undefined
        }
    }

    /** Live notifications from the service's `GET /Live`, with this log's URL, token and fetch (see `http-live.ts`). */
    subscribe(options: SharedLogSubscribeOptions): SharedLogSubscription {
        return subscribeHttpLive({ url: this.options.url, token: this.options.token, fetch: this.options.fetch, ...options })
    }

    async registerDevice(options: { deviceId?: string } = {}): Promise<{ deviceId: string }> {
        if (options.deviceId !== undefined) {
            assertDeviceId(options.deviceId)
        }
        const { body } = await this.transport.request('POST', '/Devices', { body: options.deviceId === undefined ? {} : { deviceId: options.deviceId } })
        return { deviceId: (body as { deviceId: string }).deviceId }
    }

    async writeEntries(options: { deviceId: string; entries: SyncLogEntry[] }): Promise<void> {
        assertDeviceId(options.deviceId)
        for (let start = 0; start < options.entries.length; start += this.writeBatchSize) {
            const batch = options.entries.slice(start, start + this.writeBatchSize)
            for (let attempt = 0; ; attempt++) {
                const syncId = await this.knownSyncId(options.deviceId)
                const docs = batch.filter((entry) => !this.uploadedByReconcile.delete(entryId(entry))).map(entryToDoc)
                if (!docs.length) {
                    break
                }
                const response = await this.transport.request('POST', '/Docs', { body: { clientId: options.deviceId, syncId, docs }, accept: [409] })
                if (response.status !== 409) {
                    break
                }
                await this.handleMismatch(options.deviceId, attempt)
            }
        }
    }

    async readEntries(options: { deviceId: string; cursor?: SharedLogCursor | null; limit?: number }): Promise<SharedLogReadResult> {
        assertDeviceId(options.deviceId)
        const limit = Math.min(resolveReadLimit(options.limit, this.defaultReadLimit), this.maxReadLimit)
        const input = options.cursor === undefined ? await this.acknowledgedCursor(options.deviceId) : options.cursor
        const start = parseCursor(input)
        let redone = false
        for (let attempt = 0; ; attempt++) {
            const syncId = await this.knownSyncId(options.deviceId)
            const reconciled = this.reconciled?.syncId === syncId ? this.reconciled : null
            const inBatch = start?.batch !== undefined
            const sameBatch = inBatch && reconciled !== null && start?.batch === reconciled.batch
            if (inBatch && !sameBatch && !redone) {
                // A position inside a batch this process no longer has (restart, reset): redo
                // the reconciliation, whose new batch is then delivered from its start.
                await this.handleMismatch(options.deviceId, attempt)
                redone = true
                continue
            }
            if (reconciled && (start === null || inBatch || start.syncId !== syncId || start.seq < reconciled.seq)) {
                const offset = sameBatch ? start?.offset ?? 0 : 0
                const result = await this.readReconciled(options.deviceId, reconciled, offset, limit, input)
                if (result !== 'mismatch') {
                    return result
                }
                await this.handleMismatch(options.deviceId, attempt)
                continue
            }
            const page = await this.query(options.deviceId, start?.syncId ?? syncId, start?.seq ?? 0, limit)
            if (page === 'mismatch') {
                await this.handleMismatch(options.deviceId, attempt)
                continue
            }
            // The service's cursor also passes what the query left out (this device's own
            // documents), so it is taken even from a page with no documents once it moved.
            const moved = page.count > 0 || page.cursor > (start?.seq ?? 0)
            return {
                entries: page.entries,
                cursor: moved ? formatCursor({ syncId: page.syncId, seq: page.cursor }) : input,
                hasMore: page.hasMore,
            }
        }
    }

    async acknowledge(options: { deviceId: string; cursor: SharedLogCursor }): Promise<void> {
        assertDeviceId(options.deviceId)
        const position = parseCursor(options.cursor)
        // Inside a reconciliation batch there is nothing the service could resume from; and a
        // cursor of an older SyncId means nothing to the current one (the 409 is ignored).
        if (position === null || position.batch !== undefined) {
            return
        }
        await this.transport.request('POST', `/Devices/${encodeURIComponent(options.deviceId)}/Ack`, {
            body: { cursor: position.seq, syncId: position.syncId },
            accept: [409],
        })
    }

    /** The reconciliation batch from `offset`, then changes after its cursor to fill the page. */
    private async readReconciled(
        deviceId: string,
        reconciled: Reconciled,
        offset: number,
        limit: number,
        input: SharedLogCursor | null,
    ): Promise<SharedLogReadResult | 'mismatch'> {
        const entries = reconciled.entries.slice(offset, offset + limit)
        const end = offset + entries.length
        if (end < reconciled.entries.length) {
            const position = { syncId: reconciled.syncId, seq: reconciled.seq, batch: reconciled.batch, offset: end }
            return { entries, cursor: formatCursor(position), hasMore: true }
        }
        const page = await this.query(deviceId, reconciled.syncId, reconciled.seq, Math.max(1, limit - entries.length))
        if (page === 'mismatch') {
            // Reset again meanwhile: the caller reconciles anew and delivers that batch instead.
            return page
        }
        const taken = entries.length < limit ? page.entries : []
        const all = [...entries, ...taken]
        // The batch is delivered: the cursor is past it, and past whatever the query walked
        // (the service's cursor also passes this device's own documents); an empty log keeps `input`.
        const seq = entries.length < limit ? Math.max(page.cursor, reconciled.seq) : reconciled.seq
        return {
            entries: all,
            cursor: all.length || seq > 0 ? formatCursor({ syncId: reconciled.syncId, seq }) : input,
            hasMore: entries.length < limit ? page.hasMore : page.count > 0,
        }
    }

    private async query(deviceId: string, syncId: string, since: number, limit: number) {
        const response = await this.transport.request('POST', `/Docs/Query?origin=other&since=${since}&limit=${limit}`, {
            body: { clientId: deviceId },
            headers: { 'x-sync-id': syncId },
            accept: [409],
        })
        if (response.status === 409) {
            return 'mismatch' as const
        }
        const body = response.body as { syncId: string; docs: ServiceDoc[]; cursor: number; hasMore: boolean }
        return { syncId: body.syncId, entries: docsToEntries(body.docs), count: body.docs.length, cursor: body.cursor, hasMore: body.hasMore }
    }

    private async acknowledgedCursor(deviceId: string): Promise<SharedLogCursor | null> {
        const { body } = await this.transport.request('GET', `/Devices/${encodeURIComponent(deviceId)}`)
        const { syncId, cursor } = body as { syncId: string; cursor: number | null }
        // 0 (registered, nothing acknowledged) reads from the beginning, like null.
        return cursor === null || cursor === 0 ? null : formatCursor({ syncId, seq: cursor })
    }

    private async knownSyncId(deviceId: string): Promise<string> {
        if (this.syncId === undefined) {
            this.syncId = await this.syncIdStore.get()
        }
        if (this.syncId === null) {
            await this.reconcile(deviceId)
        }
        return this.syncId as string
    }

    /** A 409: reconcile, then the caller tries again; refuses to loop if the service keeps refusing. */
    private async handleMismatch(deviceId: string, attempt: number): Promise<void> {
        if (attempt >= 2) {
            throw new HttpSyncServiceError('SYNC_ID_MISMATCH', 'The service kept refusing the SyncId after reconciling', 409)
        }
        await this.reconcile(deviceId)
    }

    private reconcile(deviceId: string): Promise<void> {
        this.reconciling ??= this.runReconcile(deviceId).finally(() => {
            this.reconciling = null
        })
        return this.reconciling
    }

    private async runReconcile(deviceId: string): Promise<void> {
        const state = newestPerFieldKey((await this.getFullState?.()) ?? [])
        const { body } = await this.transport.request('POST', '/Reconcile', {
            body: { clientId: deviceId, docs: state.map(entryToDoc) },
            maxBodyBytes: this.maxReconcileBodyBytes,
        })
        const result = body as { syncId: string; docs: ServiceDoc[]; cursor: number }
        // A document that came back differs on the service (e.g. an equal version from another
        // device), so the entry still goes through POST /Docs, whose tie-break decides.
        const differing = new Set(result.docs.map((doc) => doc.id))
        this.uploadedByReconcile = new Set(state.filter((entry) => entry.deviceId === deviceId && !differing.has(entryFieldKey(entry))).map(entryId))
        this.reconciled = { syncId: result.syncId, seq: result.cursor, batch: newBatchId(), entries: docsToEntries(result.docs) }
        this.syncId = result.syncId
        await this.syncIdStore.set(result.syncId)
    }
}

function memorySyncIdStore(): SyncIdStore {
    let value: string | null = null
    return {
        get: async () => value,
        set: async (syncId) => {
            value = syncId
        },
    }
}
