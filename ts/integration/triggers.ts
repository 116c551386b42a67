/** The timer functions the loop uses; inject fakes in tests. Default: the global ones. */
export interface Timers {
    setTimeout(callback: () => void, ms: number): unknown
    clearTimeout(handle: unknown): void
}

export const systemTimers: Timers = {
    setTimeout: (callback, ms) => setTimeout(callback, ms),
    clearTimeout: handle => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

/** One pending callback at most: scheduling again replaces it. */
export class Timer {
    private handle: unknown = null
    private dueAt: number | null = null

    constructor(private readonly timers: Timers, private readonly now: () => number) {}

    schedule(ms: number, callback: () => void): void {
        this.cancel()
        this.dueAt = this.now() + ms
        this.handle = this.timers.setTimeout(() => {
            this.handle = null
            this.dueAt = null
            callback()
        }, ms)
    }

    cancel(): void {
        if (this.handle !== null) {
            this.timers.clearTimeout(this.handle)
        }
        this.handle = null
        this.dueAt = null
    }

    get pending(): boolean {
        return this.handle !== null
    }

    /** When the callback will run (ms, on the `now` clock), or null. */
    get due(): number | null {
        return this.dueAt
    }
}

/**
 * Fires `quietMs` after the last `touch()`, or `maxMs` after the first touch since it last fired,
 * whichever comes first, so a steady stream of writes still gets synced.
 */
export class Debouncer {
    private readonly quiet: Timer
    private readonly max: Timer
    /** A fire queued as a microtask (quietMs 0), and whether it was cancelled since. */
    private queued: { cancelled: boolean } | null = null

    constructor(timers: Timers, now: () => number, private readonly options: { quietMs: number; maxMs: number; fire: () => void }) {
        this.quiet = new Timer(timers, now)
        this.max = new Timer(timers, now)
    }

    touch(): void {
        const fire = () => {
            this.cancel()
            this.options.fire()
        }
        if (this.options.quietMs === 0) {
            // No quiet time: fire once the current task's code has run, which still gathers the
            // touches of one task. A 0 ms timer would wait for the event loop's timer phase,
            // about 1 ms in Node (4 ms in a browser once timers nest), added to every change.
            if (!this.queued) {
                const queued = { cancelled: false }
                this.queued = queued
                queueMicrotask(() => {
                    if (!queued.cancelled) {
                        fire()
                    }
                })
            }
            return
        }
        if (!this.max.pending) {
            this.max.schedule(this.options.maxMs, fire)
        }
        this.quiet.schedule(this.options.quietMs, fire)
    }

    cancel(): void {
        if (this.queued) {
            this.queued.cancelled = true
            this.queued = null
        }
        this.quiet.cancel()
        this.max.cancel()
    }

    get pending(): boolean {
        return this.quiet.pending || this.queued !== null
    }
}
