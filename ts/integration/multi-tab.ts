import type { ContinuousSyncState } from './continuous-sync-events'

/**
 * One syncing context per database. Tabs and workers of one app share one IndexedDB database;
 * two of them running passes at once would push and apply the same entries twice. Where the Web
 * Locks API exists, each context asks for one exclusive lock per database: the holder syncs, the
 * others wait in the lock's queue and take over when the holder stops or its tab closes. The
 * contexts talk over a BroadcastChannel: local writes and sync requests go to the leader,
 * "data changed" and the leader's state come back.
 *
 * Without Web Locks (older browsers, Node) there is no election: every context syncs by
 * itself. That stays correct (pushes are idempotent, every apply is one transaction, and
 * applying an entry twice changes nothing) but repeats requests.
 */

/** The part of `navigator.locks` used here. */
export interface LockManagerLike {
    request(name: string, options: { mode?: 'exclusive' | 'shared'; signal?: AbortSignal }, callback: (lock: unknown) => Promise<unknown>): Promise<unknown>
}

/** The part of `BroadcastChannel` used here. */
export interface MessageChannelLike {
    postMessage(message: unknown): void
    addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void
    removeEventListener(type: 'message', listener: (event: { data: unknown }) => void): void
    close(): void
}

export interface MultiTabOptions {
    /** Default: `navigator.locks` where it exists. `null`: no election (this context always syncs). */
    locks?: LockManagerLike | null
    /** Default: a `BroadcastChannel` named like the lock, where Web Locks exist. `null`: no messages. */
    channel?: MessageChannelLike | null
    /** Name of the lock and the channel. Default: `storex-synclog:<deviceId>` (one per database). */
    name?: string
}

export type TabMessage =
    | { kind: 'localChange' }
    | { kind: 'syncRequest'; id: string }
    | { kind: 'passFinished'; ids: string[]; result: { pushed: number; pulled: number; applied: number; ms: number } }
    | { kind: 'passFailed'; ids: string[]; code: string; message: string }
    | { kind: 'dataChanged'; applied: number }
    | { kind: 'state'; state: ContinuousSyncState }

const KINDS = new Set(['localChange', 'syncRequest', 'passFinished', 'passFailed', 'dataChanged', 'state'])

function isTabMessage(data: unknown): data is TabMessage {
    return typeof data === 'object' && data !== null && KINDS.has((data as { kind?: string }).kind ?? '')
}

export interface TabCoordinatorOptions {
    locks: LockManagerLike | null
    channel: MessageChannelLike | null
    name: string
    /** This context now holds the lock. */
    onLeader(): void
    onMessage(message: TabMessage): void
}

/** The lock and the channel of one context; the loop decides what to do with them. */
export class TabCoordinator {
    private release: (() => void) | null = null
    private abort: AbortController | null = null
    private leader = false
    private readonly listener = (event: { data: unknown }) => {
        if (isTabMessage(event.data)) {
            this.options.onMessage(event.data)
        }
    }

    constructor(private readonly options: TabCoordinatorOptions) {}

    /** Starts listening and asks for the lock (without Web Locks: leads at once). */
    start(): void {
        this.options.channel?.addEventListener('message', this.listener)
        const locks = this.options.locks
        if (!locks) {
            this.leader = true
            this.options.onLeader()
            return
        }
        this.abort = typeof AbortController === 'undefined' ? null : new AbortController()
        const held = new Promise<void>(resolve => (this.release = resolve))
        locks
            .request(this.options.name, { mode: 'exclusive', ...(this.abort ? { signal: this.abort.signal } : {}) }, async () => {
                if (this.release === null) {
                    return // stopped while the grant was on its way
                }
                this.leader = true
                this.options.onLeader()
                await held
            })
            .catch(() => {
                // Aborted by stop() while still waiting in the queue.
            })
    }

    get isLeader(): boolean {
        return this.leader
    }

    post(message: TabMessage): void {
        try {
            this.options.channel?.postMessage(message)
        } catch {
            // A closed channel: other contexts miss a hint, never data.
        }
    }

    /** Gives the lock to the next context in line, or leaves the queue. */
    stop(): void {
        this.options.channel?.removeEventListener('message', this.listener)
        if (!this.leader) {
            this.abort?.abort()
        }
        const release = this.release
        this.release = null
        this.leader = false
        release?.()
    }

    /** Closes the channel for good (it keeps a Node process alive otherwise). */
    close(): void {
        this.stop()
        try {
            this.options.channel?.close()
        } catch {
            // already closed
        }
    }
}

/** The defaults of `MultiTabOptions` for this platform: Web Locks and a BroadcastChannel, or nothing. */
export function defaultMultiTab(name: string): { locks: LockManagerLike | null; channel: MessageChannelLike | null } {
    const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks ?? null
    const Channel = (globalThis as { BroadcastChannel?: new (name: string) => MessageChannelLike }).BroadcastChannel
    return { locks, channel: locks && Channel ? new Channel(name) : null }
}

/**
 * The coordinator for a loop's `multiTab` option, or null when there is nothing to coordinate
 * (no Web Locks and no channel). `ownsChannel`: the channel was made here, so closing it is ours.
 */
export function createTabCoordinator(
    options: MultiTabOptions | false | undefined,
    deviceId: string,
    handlers: Pick<TabCoordinatorOptions, 'onLeader' | 'onMessage'>,
): { coordinator: TabCoordinator; ownsChannel: boolean } | null {
    if (options === false) {
        return null
    }
    const name = options?.name ?? `storex-synclog:${deviceId}`
    const defaults = options?.locks === undefined || options?.channel === undefined ? defaultMultiTab(name) : null
    const locks = options?.locks !== undefined ? options.locks : defaults!.locks
    const channel = options?.channel !== undefined ? options.channel : defaults!.channel
    if (defaults?.channel && defaults.channel !== channel) {
        defaults.channel.close()
    }
    if (!locks && !channel) {
        return null
    }
    return { coordinator: new TabCoordinator({ locks, channel, name, ...handlers }), ownsChannel: channel !== null && channel === defaults?.channel }
}
