import type { SyncError } from '../errors'
import type { FailureKind } from './backoff'

/** The loop's state, for an app's sync indicator. */
export type ContinuousSyncState = 'idle' | 'syncing' | 'offline' | 'error' | 'stopped'

/**
 * What started a pass: `start` (the first pass, without an election), `leader` (this context
 * got the database's lock: its first pass with multi-tab election), `interval`, `change` (local
 * writes, also another tab's), `live` (a notification), `manual` (`syncNow()`, also another
 * tab's), `retry` (the backoff timer), `online` (the browser's `online` event).
 */
export type SyncTrigger = 'start' | 'interval' | 'change' | 'live' | 'manual' | 'retry' | 'online' | 'leader'

export interface ContinuousSyncEventMap {
    /** The state changed (in a non-leader tab: the leader's state, as it reports it). */
    stateChanged: { state: ContinuousSyncState; previous: ContinuousSyncState }
    syncStarted: { trigger: SyncTrigger }
    /** A pass succeeded: counts of the pass and how long it took. */
    syncFinished: { pushed: number; pulled: number; applied: number; ms: number; trigger: SyncTrigger }
    /**
     * A pass failed. `willRetry`: the loop retries by itself in `retryInMs` (offline and
     * transient failures); otherwise it has stopped retrying (persistent failure) until
     * `syncNow()` succeeds.
     */
    syncError: { error: SyncError; code: string; kind: FailureKind; willRetry: boolean; retryInMs: number | null }
    /** Local entries not pushed yet; emitted when the number changes (only while someone listens). */
    pendingChanges: { count: number }
    /**
     * Other devices' changes were applied to this database, by this context (`source: 'local'`)
     * or by the syncing tab of the same database (`source: 'tab'`): time to refresh the UI.
     */
    dataChanged: { applied: number; source: 'local' | 'tab' }
    /** This context became (or stopped being) the one that syncs its database. */
    leaderChanged: { isLeader: boolean }
    /** The live connection to the shared log changed (see `SharedLogLiveStatus`). */
    liveStatus: { status: 'connecting' | 'open' | 'closed' | 'failed'; error?: unknown }
}

type Listener<T> = (event: T) => void

/** A small typed emitter; a throwing listener never breaks the loop or other listeners. */
export class ContinuousSyncEvents {
    private readonly listeners = new Map<keyof ContinuousSyncEventMap, Set<Listener<never>>>()

    on<K extends keyof ContinuousSyncEventMap>(name: K, listener: Listener<ContinuousSyncEventMap[K]>): () => void {
        const set = this.listeners.get(name) ?? new Set()
        set.add(listener as Listener<never>)
        this.listeners.set(name, set)
        return () => this.off(name, listener)
    }

    off<K extends keyof ContinuousSyncEventMap>(name: K, listener: Listener<ContinuousSyncEventMap[K]>): void {
        this.listeners.get(name)?.delete(listener as Listener<never>)
    }

    has(name: keyof ContinuousSyncEventMap): boolean {
        return (this.listeners.get(name)?.size ?? 0) > 0
    }

    emit<K extends keyof ContinuousSyncEventMap>(name: K, event: ContinuousSyncEventMap[K]): void {
        for (const listener of [...(this.listeners.get(name) ?? [])]) {
            try {
                ;(listener as Listener<ContinuousSyncEventMap[K]>)(event)
            } catch {
                // The app's listener failing must not stop the loop.
            }
        }
    }
}
