import { ClockDriftError, SyncError } from '../errors'

export interface HybridLogicalClockOptions {
    /** Wall clock in ms since epoch. Default: `Date.now`. Inject a fake one in tests. */
    now?: () => number
    /**
     * How far (ms) a received version may be ahead of the local wall clock before it is rejected
     * with a `ClockDriftError` instead of dragging this clock forward. Default: 5 minutes.
     */
    maxDriftMs?: number
    /** Highest version this device has issued or seen before (e.g. restored from its log). Default: 0. */
    lastVersion?: number
}

export const DEFAULT_MAX_DRIFT_MS = 5 * 60 * 1000

/**
 * A hybrid logical clock whose versions are plain integers in ms units: each new version is
 * `max(wall clock, last version + 1)`. So versions stay within a few ms of real time while the
 * wall clock behaves, stay strictly increasing when it stands still or jumps back, and (through
 * `receive`) always exceed every version the device has seen, which is what makes a change made
 * after syncing win over the change it saw, whatever either wall clock says (invariant 3).
 */
export class HybridLogicalClock {
    readonly maxDriftMs: number
    private readonly now: () => number
    private last: number

    constructor(options: HybridLogicalClockOptions = {}) {
        this.now = options.now ?? Date.now
        this.maxDriftMs = options.maxDriftMs ?? DEFAULT_MAX_DRIFT_MS
        this.last = 0
        if (options.lastVersion !== undefined) {
            this.receive(options.lastVersion, { checkDrift: false })
        }
    }

    /** The newest version issued or seen; the next `tick()` is greater. */
    get lastVersion(): number {
        return this.last
    }

    /** Issues a new version, strictly greater than every version issued or received so far. */
    tick(): number {
        const next = Math.max(Math.floor(this.now()), this.last + 1)
        if (!Number.isSafeInteger(next)) {
            throw new SyncError('CLOCK_OVERFLOW', `Clock version ${next} is not a safe integer`)
        }
        this.last = next
        return next
    }

    /**
     * Takes note of a version made elsewhere so that the next local version is greater.
     * Throws `ClockDriftError` for a version further ahead of the wall clock than `maxDriftMs`.
     */
    receive(remoteVersion: number, options: { checkDrift?: boolean } = {}): void {
        if (!Number.isSafeInteger(remoteVersion) || remoteVersion < 0) {
            throw new SyncError('INVALID_VERSION', `Version ${remoteVersion} is not a non-negative safe integer`)
        }
        if (options.checkDrift !== false) {
            const wall = Math.floor(this.now())
            if (remoteVersion - wall > this.maxDriftMs) {
                throw new ClockDriftError(remoteVersion, wall, this.maxDriftMs)
            }
        }
        if (remoteVersion > this.last) {
            this.last = remoteVersion
        }
    }
}
