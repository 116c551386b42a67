import { SyncConfigurationError } from '../errors'
import type { SyncSetup } from '../setup'
import type { SharedLogSubscribeOptions, SharedLogSubscription } from '../shared-log/types'
import type { FailureKind } from './backoff'
import type { MultiTabOptions } from './multi-tab'
import type { Timers } from './triggers'

/** The parts of `setupSync`'s result the loop uses. */
export type ContinuousSyncTarget = Pick<SyncSetup, 'deviceId' | 'syncNow' | 'push' | 'pull' | 'events' | 'clientLog' | 'sharedLog'>

/** Anything with the `subscribe` of `SharedSyncLog` (e.g. `HttpLiveSource`). */
export interface LiveSource {
    subscribe(options: SharedLogSubscribeOptions): SharedLogSubscription
}

/** Where `online` events come from (a browser's `window`). */
export interface OnlineEventSource {
    addEventListener(type: 'online', listener: () => void): void
    removeEventListener(type: 'online', listener: () => void): void
}

export interface ContinuousSyncOptions {
    /** What `setupSync` returned. Required. */
    sync: ContinuousSyncTarget
    /**
     * Longest time between two passes when nothing else triggers one, counted from the end of
     * the last pass. A safety net when live notifications are missing or down. `0` disables.
     * Default: 300000 (5 minutes).
     */
    intervalMs?: number
    /** Sync when a local write to a synced collection commits. Default: true. */
    syncOnChange?: boolean
    /**
     * Quiet time after the last local write before its pass starts, so the writes of one user
     * action travel together. Every ms of it is added to the latency of a change. 0 starts the
     * pass as soon as the code of the task that logged the write has run (a microtask, no timer,
     * so injected `timers` do not delay it). Default: 5.
     */
    changeDebounceMs?: number
    /** Longest a local write waits for its pass while further writes keep coming. Default: 100. */
    changeMaxDelayMs?: number
    /**
     * Live trigger: `true` uses the shared log's `subscribe` when it has one, `false` turns it
     * off, or give any `LiveSource`. Default: true.
     */
    live?: boolean | LiveSource
    /** Ceiling of the first retry delay after a failure; doubled per failure. Default: 1000. */
    backoffBaseMs?: number
    /** Largest retry delay. Default: 60000. */
    backoffMaxMs?: number
    /**
     * Retry at once when this source fires `online` (while offline or retrying). Default: the
     * global scope in browsers (window or worker), none in Node. `null` disables.
     */
    onlineEvents?: OnlineEventSource | null
    /**
     * One syncing context per database (tabs, workers) through Web Locks, "data changed" to the
     * others through a BroadcastChannel. Default: on where `navigator.locks` exists. `false`
     * disables: every context syncs by itself.
     */
    multiTab?: MultiTabOptions | false
    /** Overrides how a failure is classified (return undefined for the default rules). */
    classifyError?: (error: unknown) => FailureKind | undefined
    /** Clock in ms. Default: Date.now. */
    now?: () => number
    /** Timer functions. Default: the global setTimeout/clearTimeout. */
    timers?: Timers
    /** Jitter source in [0, 1). Default: Math.random. */
    random?: () => number
}

export interface ResolvedOptions {
    intervalMs: number
    syncOnChange: boolean
    changeDebounceMs: number
    changeMaxDelayMs: number
    backoffBaseMs: number
    backoffMaxMs: number
}

export const CONTINUOUS_SYNC_DEFAULTS: ResolvedOptions = {
    intervalMs: 5 * 60 * 1000,
    syncOnChange: true,
    changeDebounceMs: 5,
    changeMaxDelayMs: 100,
    backoffBaseMs: 1000,
    backoffMaxMs: 60 * 1000,
}

/** Fills in defaults and refuses wrong values up front, naming the option. */
export function resolveOptions(options: ContinuousSyncOptions): ResolvedOptions {
    if (options === null || typeof options !== 'object') {
        throw new SyncConfigurationError('ContinuousSync: options must be an object', { option: 'options' })
    }
    const sync = options.sync as Partial<ContinuousSyncTarget> | undefined
    if (!sync || typeof sync.syncNow !== 'function' || typeof sync.push !== 'function' || typeof sync.pull !== 'function' || !sync.events || !sync.clientLog || typeof sync.deviceId !== 'string') {
        throw new SyncConfigurationError("ContinuousSync: option 'sync' must be what setupSync() returned", { option: 'sync' })
    }
    const resolved: ResolvedOptions = {
        intervalMs: duration(options, 'intervalMs', 0),
        syncOnChange: flag(options, 'syncOnChange'),
        changeDebounceMs: duration(options, 'changeDebounceMs', 0),
        changeMaxDelayMs: duration(options, 'changeMaxDelayMs', 0),
        backoffBaseMs: duration(options, 'backoffBaseMs', 1),
        backoffMaxMs: duration(options, 'backoffMaxMs', 1),
    }
    if (resolved.changeMaxDelayMs < resolved.changeDebounceMs) {
        throw new SyncConfigurationError(`ContinuousSync: option 'changeMaxDelayMs' (${resolved.changeMaxDelayMs}) must be at least 'changeDebounceMs' (${resolved.changeDebounceMs})`, { option: 'changeMaxDelayMs' })
    }
    if (resolved.backoffMaxMs < resolved.backoffBaseMs) {
        throw new SyncConfigurationError(`ContinuousSync: option 'backoffMaxMs' (${resolved.backoffMaxMs}) must be at least 'backoffBaseMs' (${resolved.backoffBaseMs})`, { option: 'backoffMaxMs' })
    }
    const live = options.live
    if (live !== undefined && typeof live !== 'boolean' && typeof (live as Partial<LiveSource>)?.subscribe !== 'function') {
        throw new SyncConfigurationError("ContinuousSync: option 'live' must be a boolean or have a subscribe() method", { option: 'live' })
    }
    for (const name of ['classifyError', 'now', 'random'] as const) {
        if (options[name] !== undefined && typeof options[name] !== 'function') {
            throw new SyncConfigurationError(`ContinuousSync: option '${name}' must be a function`, { option: name })
        }
    }
    if (options.timers !== undefined && (typeof options.timers?.setTimeout !== 'function' || typeof options.timers?.clearTimeout !== 'function')) {
        throw new SyncConfigurationError("ContinuousSync: option 'timers' must have setTimeout and clearTimeout", { option: 'timers' })
    }
    return resolved
}

type DurationName = 'intervalMs' | 'changeDebounceMs' | 'changeMaxDelayMs' | 'backoffBaseMs' | 'backoffMaxMs'

function duration(options: ContinuousSyncOptions, name: DurationName, min: number): number {
    const value = options[name]
    if (value === undefined) {
        return CONTINUOUS_SYNC_DEFAULTS[name]
    }
    // setTimeout overflows above 2^31-1 ms and then fires at once.
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > 2 ** 31 - 1) {
        throw new SyncConfigurationError(`ContinuousSync: option '${name}' must be an integer number of ms from ${min} to 2147483647, got ${String(value)}`, { option: name })
    }
    return value
}

function flag(options: ContinuousSyncOptions, name: 'syncOnChange'): boolean {
    const value = options[name]
    if (value === undefined) {
        return CONTINUOUS_SYNC_DEFAULTS[name]
    }
    if (typeof value !== 'boolean') {
        throw new SyncConfigurationError(`ContinuousSync: option '${name}' must be a boolean, got ${String(value)}`, { option: name })
    }
    return value
}

/** The live notification source: the option's, else the shared log's `subscribe`, else none. */
export function resolveLiveSource(options: ContinuousSyncOptions): LiveSource | null {
    if (options.live === false) {
        return null
    }
    if (typeof options.live === 'object') {
        return options.live
    }
    const sharedLog = options.sync.sharedLog
    return typeof sharedLog?.subscribe === 'function' ? { subscribe: sharedLog.subscribe.bind(sharedLog) } : null
}

/** Where `online` events come from: the option's source, else a window's or worker's global scope (Node's has none). */
export function resolveOnlineEvents(options: ContinuousSyncOptions): OnlineEventSource | null {
    if (options.onlineEvents !== undefined) {
        return options.onlineEvents
    }
    const scope = globalThis as Partial<OnlineEventSource>
    return typeof scope.addEventListener === 'function' ? (scope as OnlineEventSource) : null
}
