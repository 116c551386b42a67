import { SyncError } from '../errors'
import type { SyncPassResult } from '../sync/sync-pass'
import { Backoff, asSyncError, classifyFailure } from './backoff'
import { ContinuousSyncEvents } from './continuous-sync-events'
import type { ContinuousSyncState, SyncTrigger } from './continuous-sync-events'
import { resolveLiveSource, resolveOnlineEvents, resolveOptions } from './continuous-sync-options'
import type { ContinuousSyncOptions, ContinuousSyncTarget, OnlineEventSource, ResolvedOptions } from './continuous-sync-options'
import { LastSynced } from './last-synced'
import { QueuedPass, passKindFor, runPassOfKind } from './pass-kind'
import type { PassKind } from './pass-kind'
import { LeaderRequests } from './leader-requests'
import type { Waiter as LeaderWaiter } from './leader-requests'
import { LiveTrigger } from './live-trigger'
import { createTabCoordinator } from './multi-tab'
import type { TabCoordinator, TabMessage } from './multi-tab'
import { PendingCounter } from './pending-counter'
import { Debouncer, Timer, systemTimers } from './triggers'

export { LAST_SYNCED_AT_KEY } from './last-synced'

export type ContinuousSyncResult = SyncPassResult & { ms: number }

type Waiter = LeaderWaiter<ContinuousSyncResult>

/**
 * The sync loop an app drops in: passes on start, on an interval, after local writes and on live
 * notifications; one pass at a time (triggers during a pass coalesce into exactly one more);
 * offline and transient failures retried with capped exponential backoff and full jitter;
 * persistent failures reported once and not retried; one syncing context per database.
 */
export class ContinuousSync {
    readonly events = new ContinuousSyncEvents()
    private readonly sync: ContinuousSyncTarget
    private readonly config: ResolvedOptions
    private readonly now: () => number
    private readonly random: () => number
    private readonly backoff: Backoff
    private readonly retryTimer: Timer
    private readonly intervalTimer: Timer
    private readonly debouncer: Debouncer
    private readonly live: LiveTrigger
    private readonly pending: PendingCounter
    private readonly lastSynced: LastSynced
    private readonly onlineEvents: OnlineEventSource | null
    private currentState: ContinuousSyncState = 'stopped'
    private started = false
    /** A persistent failure: no automatic passes until a `syncNow()` succeeds. */
    private halted = false
    private running: Promise<void> | null = null
    private readonly queued = new QueuedPass()
    /** `syncNow()` callers (here and, as ids, in other tabs) served by the next pass to start. */
    private waiting: Waiter[] = []
    /** Ids of other tabs' `syncNow()` calls that the next pass here serves (as the leader). */
    private tabRequests: string[] = []
    private readonly requestsToLeader: LeaderRequests<ContinuousSyncResult>
    private tabs: { coordinator: TabCoordinator; ownsChannel: boolean } | null = null
    private stopLogged: (() => void) | null = null
    private readonly onOnline = () => {
        if (this.started && this.isLeader && this.retryTimer.pending) {
            this.retryTimer.cancel()
            this.request('online')
        }
    }

    constructor(private readonly options: ContinuousSyncOptions) {
        this.config = resolveOptions(options)
        this.sync = options.sync
        this.now = options.now ?? Date.now
        this.random = options.random ?? Math.random
        const timers = options.timers ?? systemTimers
        this.backoff = new Backoff({ baseMs: this.config.backoffBaseMs, maxMs: this.config.backoffMaxMs, random: this.random })
        this.retryTimer = new Timer(timers, this.now)
        this.intervalTimer = new Timer(timers, this.now)
        this.debouncer = new Debouncer(timers, this.now, {
            quietMs: this.config.changeDebounceMs,
            maxMs: this.config.changeMaxDelayMs,
            fire: () => this.request('change'),
        })
        this.live = new LiveTrigger(resolveLiveSource(options), {
            deviceId: this.sync.deviceId,
            onChange: () => this.request('live'),
            onStatus: (status, error) => this.events.emit('liveStatus', { status, ...(error === undefined ? {} : { error }) }),
        })
        this.pending = new PendingCounter({
            count: () => this.sync.clientLog.countUnshared(),
            wanted: () => this.events.has('pendingChanges'),
            report: count => this.events.emit('pendingChanges', { count }),
        })
        this.lastSynced = new LastSynced(this.sync.clientLog)
        this.requestsToLeader = new LeaderRequests(() => `${this.now().toString(36)}-${Math.floor(this.random() * 2 ** 48).toString(36)}`)
        this.onlineEvents = resolveOnlineEvents(options)
    }

    get state(): ContinuousSyncState {
        return this.currentState
    }

    /** Whether this context runs the passes of its database (always, without multi-tab election). */
    get isLeader(): boolean {
        return this.tabs ? this.tabs.coordinator.isLeader : this.started
    }

    /** Time (ms) of the last successful pass of this database, also from before a restart once `start()` has read it. */
    get lastSyncedAt(): number | null {
        return this.lastSynced.value
    }

    /** The persisted time of the last successful pass (works before `start()`). */
    getLastSyncedAt(): Promise<number | null> {
        return this.lastSynced.read()
    }

    /** Local entries not pushed yet. */
    getPendingChanges(): Promise<number> {
        return this.sync.clientLog.countUnshared()
    }

    /** Starts the loop: the first pass runs at once (in the leading context). Resolves once started. */
    async start(): Promise<void> {
        if (this.started) {
            return
        }
        this.started = true
        this.halted = false
        this.stopLogged = this.sync.events.on('logged', () => this.onLocalWrite())
        this.onlineEvents?.addEventListener('online', this.onOnline)
        this.setState('idle')
        await this.lastSynced.load()
        if (!this.started) {
            return
        }
        this.tabs = createTabCoordinator(this.options.multiTab, this.sync.deviceId, {
            onLeader: () => this.becomeLeader(),
            onMessage: message => this.onTabMessage(message),
        })
        if (this.tabs) {
            this.tabs.coordinator.start()
        } else {
            this.becomeLeader()
        }
    }

    /**
     * Stops the loop: no new pass starts, the live connection closes, and the promise resolves
     * once the running pass (if any) has finished. Then another tab may take over.
     */
    async stop(): Promise<void> {
        if (!this.started) {
            await this.running
            return
        }
        this.started = false
        this.retryTimer.cancel()
        this.intervalTimer.cancel()
        this.debouncer.cancel()
        this.stopLogged?.()
        this.stopLogged = null
        this.onlineEvents?.removeEventListener('online', this.onOnline)
        this.live.stop()
        this.queued.clear()
        const stopped = new SyncError('SYNC_STOPPED', 'ContinuousSync was stopped before this sync ran')
        for (const waiter of [...this.waiting.splice(0), ...this.requestsToLeader.takeAll()]) {
            waiter.reject(stopped)
        }
        this.tabRequests = []
        await this.running
        await this.lastSynced.flush()
        // Only now may the next context lead: its first pass must not overlap this one.
        const tabs = this.tabs
        this.tabs = null
        if (tabs) {
            this.setState('stopped')
            tabs.ownsChannel ? tabs.coordinator.close() : tabs.coordinator.stop()
        }
        this.setState('stopped')
    }

    /**
     * Runs a pass now, or, while one runs, the one after it (so the caller's writes are in it).
     * Always makes the pass, also when offline or stopped after a persistent failure; its success
     * resumes the loop. In a non-leading tab the leader runs it.
     */
    syncNow(): Promise<ContinuousSyncResult> {
        const tabs = this.tabs
        if (this.started && tabs && !tabs.coordinator.isLeader) {
            return this.requestsToLeader.send(message => tabs.coordinator.post(message))
        }
        return new Promise((resolve, reject) => {
            this.waiting.push({ resolve, reject })
            this.requestFull('manual')
        })
    }

    private becomeLeader(): void {
        if (!this.started) {
            return
        }
        if (this.tabs) {
            this.events.emit('leaderChanged', { isLeader: true })
        }
        // Requests this context had sent to the previous leader are served here now.
        this.waiting.push(...this.requestsToLeader.takeAll())
        this.live.start()
        this.request(this.tabs ? 'leader' : 'start')
    }

    /** A trigger: starts a pass, or coalesces into the one queued behind the running pass. */
    private request(trigger: SyncTrigger): void {
        if (!this.started || !this.isLeader || this.halted || this.retryTimer.pending) {
            // Halted: only syncNow() runs a pass. Retrying: the retry pass carries every change.
            return
        }
        const kind = passKindFor(trigger, this.live.isOpen)
        if (this.running) {
            this.queued.add(trigger, kind)
            return
        }
        this.runPass(trigger, kind)
    }

    /** A pass somebody asked for: runs whatever the state (a persistent failure, a retry pending). */
    private requestFull(trigger: SyncTrigger): void {
        if (this.running) {
            this.queued.add(trigger, 'full')
        } else {
            this.runPass(trigger, 'full')
        }
    }

    private runPass(trigger: SyncTrigger, requested: PassKind): void {
        // A pull-only pass must not swallow a push that is waiting for its debounce.
        const kind = requested === 'pull' && this.debouncer.pending ? 'full' : requested
        this.retryTimer.cancel()
        this.intervalTimer.cancel()
        if (kind !== 'pull') {
            this.debouncer.cancel()
        }
        const waiters = this.waiting.splice(0)
        const ids = this.tabRequests.splice(0)
        this.setState('syncing')
        this.events.emit('syncStarted', { trigger })
        const startedAt = this.now()
        this.running = Promise.resolve()
            .then(() => runPassOfKind(this.sync, kind))
            .then(
                result => this.succeeded(trigger, { ...result, ms: this.now() - startedAt }, waiters, ids),
                error => this.failed(error, waiters, ids),
            )
            .catch(() => undefined)
            .then(() => this.afterPass())
    }

    private async succeeded(trigger: SyncTrigger, result: ContinuousSyncResult, waiters: Waiter[], ids: string[]): Promise<void> {
        this.halted = false
        this.backoff.reset()
        await this.lastSynced.record(this.now())
        const { pushed, pulled, applied, ms } = result
        this.events.emit('syncFinished', { pushed, pulled, applied, ms, trigger })
        if (applied > 0) {
            this.events.emit('dataChanged', { applied, source: 'local' })
            this.post({ kind: 'dataChanged', applied })
        }
        if (ids.length) {
            this.post({ kind: 'passFinished', ids, result: { pushed, pulled, applied, ms } })
        }
        for (const waiter of waiters) {
            waiter.resolve(result)
        }
        if (this.started && this.isLeader) {
            this.live.start() // again, after being offline
        }
    }

    private failed(error: unknown, waiters: Waiter[], ids: string[]): void {
        const failure = classifyFailure(error, this.options.classifyError)
        const syncError = asSyncError(error)
        if (ids.length) {
            this.post({ kind: 'passFailed', ids, code: failure.code, message: syncError.message })
        }
        for (const waiter of waiters) {
            waiter.reject(error)
        }
        const report = (willRetry: boolean, retryInMs: number | null) =>
            this.events.emit('syncError', { error: syncError, code: failure.code, kind: failure.kind, willRetry, retryInMs })
        if (!this.started) {
            report(false, null)
            return
        }
        if (failure.kind === 'persistent') {
            this.halted = true
            this.live.stop()
            report(false, null)
            this.setState('error')
            return
        }
        const delay = Math.max(failure.retryAfterMs ?? 0, this.backoff.next())
        this.retryTimer.schedule(delay, () => this.request('retry'))
        if (failure.kind === 'offline') {
            // Known unreachable: nothing but the backoff probe until a pass succeeds.
            this.live.stop()
        }
        report(true, delay)
        this.setState(failure.kind === 'offline' ? 'offline' : 'error')
    }

    private afterPass(): void {
        this.running = null
        this.pending.schedule()
        const queued = this.queued.take()
        if (this.waiting.length > 0 || this.tabRequests.length > 0) {
            this.runPass(queued?.trigger ?? 'manual', 'full')
            return
        }
        if (!this.started) {
            this.setState('stopped')
            return
        }
        if (this.halted || this.retryTimer.pending) {
            return
        }
        if (queued) {
            this.runPass(queued.trigger, queued.kind)
            return
        }
        this.setState('idle')
        if (this.config.intervalMs > 0) {
            this.intervalTimer.schedule(this.config.intervalMs, () => this.request('interval'))
        }
    }

    private onLocalWrite(): void {
        if (!this.isLeader) {
            this.post({ kind: 'localChange' })
        }
        this.localChanged()
    }

    /** A write in this tab or another: the pending count is stale, and the leader syncs on change. */
    private localChanged(): void {
        this.pending.schedule()
        if (this.isLeader && this.config.syncOnChange) {
            this.debouncer.touch()
        }
    }

    private onTabMessage(message: TabMessage): void {
        if (!this.started) {
            return
        }
        const leading = this.isLeader
        switch (message.kind) {
            case 'localChange':
                this.localChanged()
                return
            case 'syncRequest':
                if (leading) {
                    this.tabRequests.push(message.id)
                    this.requestFull('manual')
                }
                return
            case 'passFinished':
            case 'passFailed':
                this.requestsToLeader.settle(message, result => ({ ...result }))
                this.pending.schedule()
                return
            case 'dataChanged':
                if (!leading) {
                    this.events.emit('dataChanged', { applied: message.applied, source: 'tab' })
                    this.pending.schedule()
                    void this.lastSynced.load()
                }
                return
            case 'state':
                if (!leading) {
                    this.setState(message.state, false)
                }
                return
        }
    }

    private post(message: TabMessage): void {
        this.tabs?.coordinator.post(message)
    }

    private setState(state: ContinuousSyncState, broadcast = true): void {
        const previous = this.currentState
        if (previous === state) {
            return
        }
        this.currentState = state
        this.events.emit('stateChanged', { state, previous })
        if (broadcast && this.tabs?.coordinator.isLeader) {
            this.post({ kind: 'state', state })
        }
    }
}
