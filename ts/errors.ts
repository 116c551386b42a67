/**
 * Every error this library throws on purpose is a `SyncError` with a stable, machine-readable
 * `code`, so apps can branch on `error.code` instead of parsing messages.
 */
export class SyncError extends Error {
    readonly code: string
    /** The underlying error, when this one wraps another. */
    readonly cause?: unknown

    constructor(code: string, message: string, options: { cause?: unknown } = {}) {
        super(message)
        this.name = new.target.name
        this.code = code
        this.cause = options.cause
    }
}

/** A remote version is further ahead of the local wall clock than the allowed drift. */
export class ClockDriftError extends SyncError {
    constructor(readonly remoteVersion: number, readonly localWallClock: number, readonly maxDriftMs: number) {
        super(
            'CLOCK_DRIFT',
            `Received version ${remoteVersion} is ${remoteVersion - localWallClock} ms ahead of the local clock (allowed: ${maxDriftMs} ms)`,
        )
    }
}

/** A write on a synced collection that cannot be logged faithfully, so it is refused. */
export class UnloggableOperationError extends SyncError {
    constructor(readonly operation: string, readonly collection: string, reason: string) {
        super('UNLOGGABLE_OPERATION', `Refused '${operation}' on synced collection '${collection}': ${reason}`)
    }
}

/** A `where` clause that the backend would evaluate wrongly (e.g. Dexie matching every row). */
export class UnsafeWhereError extends SyncError {
    constructor(readonly collection: string, reason: string) {
        super('UNSAFE_WHERE', `Refused where clause on '${collection}': ${reason}`)
    }
}

/** The library was used in a way its setup does not allow (wrong order, missing option, ...). */
export class SyncConfigurationError extends SyncError {
    /** The option at fault, when one option is (e.g. 'uploadBatchSize'). */
    readonly option?: string

    constructor(message: string, options: { option?: string; cause?: unknown } = {}) {
        super('SYNC_CONFIGURATION', message, { cause: options.cause })
        this.option = options.option
    }
}

/**
 * A write to a synced collection while sync cannot log it: `setupSync` has not finished yet,
 * or it failed (then `cause` says why). Nothing was written.
 */
export class SyncNotReadyError extends SyncError {
    constructor(readonly collection: string, readonly setupFailed: boolean, options: { cause?: unknown } = {}) {
        super(
            'SYNC_NOT_READY',
            setupFailed
                ? `Refused a write to synced collection '${collection}': setupSync failed (${describe(options.cause)}); call setupSync again`
                : `Refused a write to synced collection '${collection}': setupSync has not finished; await it before writing`,
            options,
        )
    }
}

function describe(error: unknown): string {
    return error instanceof Error ? error.message : String(error)
}
