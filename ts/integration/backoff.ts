import { SyncError } from '../errors'

/**
 * Capped exponential backoff with full jitter: the n-th delay (from 0) is uniform in
 * [0, min(max, base * 2^n)). Full jitter spreads the retries of many devices that lost the
 * service at the same moment, so they do not all come back in the same millisecond.
 */
export class Backoff {
    private attempt = 0

    constructor(private readonly options: { baseMs: number; maxMs: number; random: () => number }) {}

    /** The delay before the next attempt; each call moves one step up the ladder. */
    next(): number {
        const ceiling = Math.min(this.options.maxMs, this.options.baseMs * 2 ** Math.min(this.attempt, 52))
        this.attempt++
        return Math.floor(this.options.random() * ceiling)
    }

    /** After a success: the next failure starts at the bottom again. */
    reset(): void {
        this.attempt = 0
    }

    get attempts(): number {
        return this.attempt
    }
}

/**
 * How the loop reacts to a failed pass:
 * - `offline`: the service did not answer at all; no requests but the backoff probe.
 * - `transient`: it answered with an overload or a fault (5xx, 429, 408, a cut-off body); retry with backoff.
 * - `persistent`: retrying the same pass cannot help (bad token, refused data, broken setup); stop.
 */
export type FailureKind = 'offline' | 'transient' | 'persistent'

export interface ClassifiedFailure {
    kind: FailureKind
    /** The stable code of the error (`SYNC_FAILED` for errors that are not `SyncError`s). */
    code: string
    /** What the service asked for in `Retry-After`, in ms, if anything. */
    retryAfterMs?: number
}

/** Library codes that a retry of the same pass cannot fix. */
const PERSISTENT_CODES = new Set([
    'UNAUTHORIZED',
    'FORBIDDEN',
    // Thrown by HttpSharedSyncLog only after reconciling did not make the service accept the SyncId.
    'SYNC_ID_MISMATCH',
    'SYNC_CONFIGURATION',
    'SCHEMA_MISMATCH',
    'NEWER_SCHEMA',
    'INVALID_SHARED_LOG_ARGUMENT',
    'CLOCK_OVERFLOW',
    'INVALID_VERSION',
    'STORE_CORRUPT',
    'UNLOGGABLE_OPERATION',
])

/** Library codes that mean "no answer" or "try again later" whatever the status says. */
const OFFLINE_CODES = new Set(['SERVICE_UNREACHABLE'])

/**
 * Sorts an error thrown by a pass. HTTP errors go by status: 0 is offline; 408, 429 and 5xx are
 * transient; every other 4xx is persistent, because the pass would send the same request again
 * (a refused token, a document over the service's limits, a wrong URL). Errors that are not the
 * library's (a flaky local database, a custom shared log's network error) are treated as
 * transient, so the loop backs off instead of dying on something that may pass. The app's
 * `classifyError` option, where it has an answer, decides the kind instead.
 */
export function classifyFailure(error: unknown, override?: (error: unknown) => FailureKind | undefined): ClassifiedFailure {
    const base = classifyBuiltIn(error)
    const kind = override?.(error)
    return kind ? { ...base, kind } : base
}

/** A failure as the typed error the loop reports (errors that are not the library's get SYNC_FAILED). */
export function asSyncError(error: unknown): SyncError {
    return error instanceof SyncError ? error : new SyncError('SYNC_FAILED', (error as Error)?.message ?? String(error), { cause: error })
}

function classifyBuiltIn(error: unknown): ClassifiedFailure {
    const code = error instanceof SyncError ? error.code : errorCode(error)
    const status = numberField(error, 'status')
    const retryAfterMs = retryAfterOf(error)
    if (OFFLINE_CODES.has(code) || status === 0) {
        return { kind: 'offline', code }
    }
    if (status !== undefined && status >= 400) {
        if (status === 408 || status === 429 || status >= 500) {
            return { kind: 'transient', code, retryAfterMs }
        }
        return { kind: 'persistent', code }
    }
    if (code === 'BAD_RESPONSE') {
        return { kind: 'transient', code }
    }
    if (PERSISTENT_CODES.has(code)) {
        return { kind: 'persistent', code }
    }
    return { kind: 'transient', code, retryAfterMs }
}

/** A foreign error keeps its code only when it looks like an HTTP error of ours (a code and a status). */
function errorCode(error: unknown): string {
    const code = (error as { code?: unknown } | null)?.code
    return typeof code === 'string' && numberField(error, 'status') !== undefined ? code : 'SYNC_FAILED'
}

function numberField(error: unknown, name: string): number | undefined {
    const value = (error as Record<string, unknown> | null)?.[name]
    return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

/**
 * `retryAfterMs` on the error (HttpSyncServiceError, once it reads the header), else a
 * `retryAfter` in seconds in the error body, as some proxies send it.
 */
function retryAfterOf(error: unknown): number | undefined {
    const direct = numberField(error, 'retryAfterMs')
    if (direct !== undefined && direct >= 0) {
        return direct
    }
    const body = (error as { body?: unknown } | null)?.body
    const seconds = numberField(body, 'retryAfter')
    return seconds !== undefined && seconds >= 0 ? seconds * 1000 : undefined
}

/** Parses an HTTP `Retry-After` value (seconds, or an HTTP date) into ms from `nowMs`. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
    if (!value) {
        return undefined
    }
    if (/^\s*\d+\s*$/.test(value)) {
        return Number(value) * 1000
    }
    const date = Date.parse(value)
    return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs)
}
