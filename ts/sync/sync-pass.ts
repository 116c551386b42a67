import type { StorageRegistry } from '@worldbrain/storex'
import type { AtomicOperations, BackendAdapter } from '../backend/types'
import type { HybridLogicalClock } from '../clock/hlc'
import type { ClientSyncLog } from '../client-log/client-log'
import type { SyncLogEntry } from '../entries/types'
import type { Reconciler } from '../reconcile/types'
import type { SharedSyncLog, SharedLogCursor } from '../shared-log/types'
import { applyEntries } from './apply'
import type { ApplyContext } from './apply'
import { SyncEvents } from './events'
import { takeWithinBytes } from './batch-bytes'

/** Transforms or drops (null) an entry on its way out or in (e.g. to strip a large field). */
export type EntryProcessor = (entry: SyncLogEntry) => SyncLogEntry | null | Promise<SyncLogEntry | null>

export interface SyncPassOptions {
    registry: StorageRegistry
    adapter: BackendAdapter
    clientLog: ClientSyncLog
    sharedLog: SharedSyncLog
    clock: HybridLogicalClock
    reconciler: Reconciler
    deviceId: string
    collections: string[]
    localSchemaVersion: number
    now: () => number
    events?: SyncEvents
    /** Most entries per push request. Default 500. */
    uploadBatchSize?: number
    /** Most bytes (JSON) per push request; a batch over it is split. Default 1 MiB. */
    uploadBatchBytes?: number
    /** Most entries per pull request. Default 500. */
    downloadBatchSize?: number
    /** Runs on each own entry before it is sent; null drops it (it still counts as shared). */
    preSend?: EntryProcessor
    /** Runs on each received entry before it is applied; null drops it. */
    postReceive?: EntryProcessor
}

export interface SyncPassResult {
    pushed: number
    pulled: number
    applied: number
}

export const PULL_CURSOR_KEY = 'pullCursor'

/** One sync pass: push -> pull -> reconcile -> apply -> acknowledge. */
export class SyncPass {
    readonly events: SyncEvents
    private readonly options: SyncPassOptions
    private readonly applyContext: ApplyContext
    /** Set once the shared log has been told about this device (at the first pass that reaches it). */
    private registered: Promise<void> | null = null

    constructor(options: SyncPassOptions) {
        this.options = options
        this.events = options.events ?? new SyncEvents()
        this.applyContext = {
            registry: options.registry,
            adapter: options.adapter,
            clientLog: options.clientLog,
            clock: options.clock,
            reconciler: options.reconciler,
            synced: new Set(options.collections),
            localSchemaVersion: options.localSchemaVersion,
            now: options.now,
        }
    }

    async run(): Promise<SyncPassResult> {
        try {
            const pushed = await this.push()
            const { pulled, applied } = await this.pull()
            return { pushed, pulled, applied }
        } catch (error) {
            this.events.emit('error', { error })
            throw error
        }
    }

    /** Sends unshared own entries; an interrupted push is simply repeated (writes are idempotent). */
    async push(): Promise<number> {
        await this.register()
        const { clientLog, sharedLog, deviceId } = this.options
        const limit = this.options.uploadBatchSize ?? 500
        const byteLimit = this.options.uploadBatchBytes ?? 1024 * 1024
        let pushed = 0
        for (;;) {
            const unshared = await clientLog.getUnsharedEntries({ limit })
            if (!unshared.length) {
                return pushed
            }
            const batch = takeWithinBytes(unshared, byteLimit)
            const outgoing = await processAll(batch, this.options.preSend)
            if (outgoing.length) {
                this.events.emit('sending', { entries: outgoing })
                await sharedLog.writeEntries({ deviceId, entries: outgoing })
            }
            await clientLog.markAsShared(batch)
            pushed += outgoing.length
        }
    }

    /** Receives other devices' entries; the cursor advances in the same transaction as the apply. */
    async pull(): Promise<{ pulled: number; applied: number }> {
        await this.register()
        const { clientLog, sharedLog, deviceId } = this.options
        const limit = this.options.downloadBatchSize ?? 500
        let pulled = 0
        let applied = await this.retryHeld()
        for (;;) {
            const cursor = await clientLog.getState<SharedLogCursor>(PULL_CURSOR_KEY)
            const page = await sharedLog.readEntries({ deviceId, cursor, limit })
            const incoming = await processAll(page.entries, this.options.postReceive)
            pulled += page.entries.length
            if (incoming.length) {
                this.events.emit('received', { entries: incoming })
            }
            const advance = async (ops: AtomicOperations) => {
                if (page.cursor !== null && page.cursor !== cursor) {
                    await clientLog.setState(PULL_CURSOR_KEY, page.cursor, ops)
                }
            }
            const result = await applyEntries(this.applyContext, incoming, advance)
            applied += result.applied.length
            this.report(result)
            if (page.cursor !== null && page.cursor !== cursor) {
                await sharedLog.acknowledge({ deviceId, cursor: page.cursor })
            }
            if (!page.hasMore || page.cursor === cursor) {
                return { pulled, applied }
            }
        }
    }

    /**
     * Tells the shared log about this device, once per process: the device id is made locally so
     * that setup needs no network, and registration is idempotent, so a failed attempt is simply
     * repeated by the next pass.
     */
    private register(): Promise<void> {
        const { sharedLog, deviceId } = this.options
        if (!sharedLog.registerDevice) {
            return Promise.resolve()
        }
        this.registered ??= sharedLog.registerDevice({ deviceId }).then(
            () => undefined,
            (error) => {
                this.registered = null
                throw error
            },
        )
        return this.registered
    }

    /** Tries the held-back entries again (e.g. after the app's schema changed). */
    async retryHeld(): Promise<number> {
        let applied = 0
        const held = await this.options.clientLog.getHeldEntries({ limit: 10_000 })
        if (held.length) {
            const result = await applyEntries(this.applyContext, held)
            applied += result.applied.length
            this.report({ ...result, held: [] })
        }
        return applied
    }

    private report(result: Awaited<ReturnType<typeof applyEntries>>): void {
        if (result.applied.length) {
            this.events.emit('reconciled', { entries: result.applied, operations: result.operations })
        }
        if (result.held.length) {
            this.events.emit('quarantined', { entries: result.held })
        }
    }
}

async function processAll(entries: SyncLogEntry[], processor?: EntryProcessor): Promise<SyncLogEntry[]> {
    if (!processor) {
        return entries
    }
    const result: SyncLogEntry[] = []
    for (const entry of entries) {
        const processed = await processor(entry)
        if (processed) {
            result.push(processed)
        }
    }
    return result
}
