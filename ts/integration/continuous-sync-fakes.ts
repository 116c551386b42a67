/**
 * Test helpers for the sync loop: a clock whose timers run when the test says, a shared log that
 * fails or blocks on demand, and an in-process Web Locks / BroadcastChannel pair.
 */
import type { SyncLogEntry } from '../entries/types'
import { MemorySharedSyncLog } from '../shared-log/memory'
import type { SharedLogCursor, SharedLogReadResult, SharedLogSubscribeOptions, SharedLogSubscription, SharedSyncLog } from '../shared-log/types'
import type { LockManagerLike, MessageChannelLike } from './multi-tab'
import type { Timers } from './triggers'

/** Real event-loop turns until `condition` holds (real time bounded, so a broken test fails instead of hanging). */
export async function waitFor(condition: () => boolean | Promise<boolean>, what = 'condition', timeoutMs = 10_000): Promise<void> {
    const started = Date.now()
    while (!(await condition())) {
        if (Date.now() - started > timeoutMs) {
            throw new Error(`waitFor: ${what} did not happen within ${timeoutMs} ms`)
        }
        await new Promise(resolve => setTimeout(resolve, 1))
    }
}

/** Timers that run only when the test advances the clock. */
export class FakeClock implements Timers {
    time = 1_000_000
    private readonly pending = new Map<number, { at: number; callback: () => void }>()
    private nextId = 1

    readonly now = (): number => this.time

    readonly setTimeout = (callback: () => void, ms: number): unknown => {
        const id = this.nextId++
        this.pending.set(id, { at: this.time + ms, callback })
        return id
    }

    readonly clearTimeout = (handle: unknown): void => {
        this.pending.delete(handle as number)
    }

    /** Delays (from now) of the timers still pending, ascending. */
    delays(): number[] {
        return [...this.pending.values()].map(timer => timer.at - this.time).sort((a, b) => a - b)
    }

    /**
     * Moves time forward by `ms`, running each due timer in order, and after each one waits
     * for `settle` (e.g. "no pass running"), so passes finish at the time they started.
     */
    async advance(ms: number, settle: () => Promise<void> = async () => undefined): Promise<void> {
        const end = this.time + ms
        await settle()
        for (;;) {
            let nextId: number | null = null
            let next: { at: number; callback: () => void } | null = null
            for (const [id, timer] of this.pending) {
                if (timer.at <= end && (next === null || timer.at < next.at)) {
                    nextId = id
                    next = timer
                }
            }
            if (nextId === null || next === null) {
                break
            }
            this.pending.delete(nextId)
            this.time = next.at
            next.callback()
            await settle()
        }
        this.time = end
    }
}

/** A memory shared log that the test can make fail or block, counting reads (one per pass) and all requests. */
export class ScriptedSharedLog implements SharedSyncLog {
    reads = 0
    /** writeEntries and readEntries calls. */
    requests = 0
    /** Thrown, one per writeEntries or readEntries call, before anything is stored or read. */
    failures: unknown[] = []
    private gate: Promise<void> | null = null
    private openGate: (() => void) | null = null

    constructor(readonly inner: MemorySharedSyncLog = new MemorySharedSyncLog()) {}

    /** Reads and writes wait until `release()`. */
    block(): void {
        this.gate = new Promise(resolve => (this.openGate = resolve))
    }

    release(): void {
        this.gate = null
        this.openGate?.()
    }

    get blocked(): boolean {
        return this.gate !== null
    }

    registerDevice(options?: { deviceId?: string }): Promise<{ deviceId: string }> {
        return this.inner.registerDevice(options)
    }

    async writeEntries(options: { deviceId: string; entries: SyncLogEntry[] }): Promise<void> {
        this.requests++
        const failure = this.failures.shift()
        if (failure !== undefined) {
            throw failure
        }
        await this.gate
        return this.inner.writeEntries(options)
    }

    async readEntries(options: { deviceId: string; cursor?: SharedLogCursor | null; limit?: number }): Promise<SharedLogReadResult> {
        this.reads++
        this.requests++
        const failure = this.failures.shift()
        if (failure !== undefined) {
            throw failure
        }
        await this.gate
        return this.inner.readEntries(options)
    }

    acknowledge(options: { deviceId: string; cursor: SharedLogCursor }): Promise<void> {
        return this.inner.acknowledge(options)
    }

    subscribe(options: SharedLogSubscribeOptions): SharedLogSubscription {
        return this.inner.subscribe(options)
    }
}

/** Web Locks within one process: exclusive locks granted in request order. */
export class FakeLockManager implements LockManagerLike {
    private readonly queues = new Map<string, Array<() => void>>()
    private readonly held = new Set<string>()

    request(name: string, options: { signal?: AbortSignal }, callback: (lock: unknown) => Promise<unknown>): Promise<unknown> {
        return new Promise((resolve, reject) => {
            const grant = () => {
                this.held.add(name)
                Promise.resolve()
                    .then(() => callback({ name }))
                    .then(resolve, reject)
                    .finally(() => {
                        this.held.delete(name)
                        this.queues.get(name)?.shift()?.()
                    })
            }
            if (!this.held.has(name)) {
                grant()
                return
            }
            const queue = this.queues.get(name) ?? []
            queue.push(grant)
            this.queues.set(name, queue)
            options.signal?.addEventListener('abort', () => {
                const index = queue.indexOf(grant)
                if (index >= 0) {
                    queue.splice(index, 1)
                    reject(new Error('AbortError'))
                }
            })
        })
    }
}

/** BroadcastChannel within one process: a message reaches every other channel of the same bus, asynchronously, as a copy. */
export class FakeChannelBus {
    private readonly channels = new Set<FakeChannel>()

    open(): FakeChannel {
        const channel = new FakeChannel(this.channels)
        this.channels.add(channel)
        return channel
    }
}

class FakeChannel implements MessageChannelLike {
    private readonly listeners = new Set<(event: { data: unknown }) => void>()
    closed = false

    constructor(private readonly all: Set<FakeChannel>) {}

    postMessage(message: unknown): void {
        const text = JSON.stringify(message)
        for (const channel of this.all) {
            if (channel !== this && !channel.closed) {
                setTimeout(() => channel.listeners.forEach(listener => listener({ data: JSON.parse(text) })), 0)
            }
        }
    }

    addEventListener(_type: 'message', listener: (event: { data: unknown }) => void): void {
        this.listeners.add(listener)
    }

    removeEventListener(_type: 'message', listener: (event: { data: unknown }) => void): void {
        this.listeners.delete(listener)
    }

    close(): void {
        this.closed = true
        this.all.delete(this)
    }
}
