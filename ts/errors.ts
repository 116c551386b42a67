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
    constructor(message: string) {
        super('SYNC_CONFIGURATION', message)
    }
}
