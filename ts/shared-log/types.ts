import type { SyncLogEntry } from '../entries/types'

/**
 * The place all devices of one user send their changes to and read other devices' changes from.
 *
 * Contract (checked by `runSharedSyncLogContractTests` from `storex-synclog/testing`):
 * - `writeEntries` is idempotent: an entry (identified by `entryId()`) written twice is stored once.
 * - `readEntries` returns entries written by *other* devices, in the order the log stored them,
 *   at most `limit` per call, after the given cursor. The returned cursor, passed back in, resumes
 *   exactly after the last returned entry; `hasMore` says whether another call would return more.
 * - A cursor never skips an entry that is stored after it was handed out (invariant 4).
 * - A backend may compact: an entry superseded by a newer entry with the same `entryFieldKey()`
 *   (or a newer create/delete of the same object) may be dropped instead of delivered, because the
 *   last-write-wins reconciler gives the same result either way.
 */
export interface SharedSyncLog {
    /**
     * Optional. Registers a device with the log. With a `deviceId` the log adopts that id
     * (idempotent); without one it issues a new id. `setupSync` makes the device id locally and
     * the sync pass calls this (with the id) at its first contact, so a log that needs no
     * registration may leave it out.
     */
    registerDevice?(options?: { deviceId?: string }): Promise<{ deviceId: string }>

    /** Stores entries made on `deviceId`. */
    writeEntries(options: { deviceId: string; entries: SyncLogEntry[] }): Promise<void>

    /**
     * Reads entries other devices wrote after `cursor`. A `null` cursor reads from the beginning
     * (or from the device's last acknowledged cursor, if the backend keeps one and `cursor` is
     * omitted).
     */
    readEntries(options: { deviceId: string; cursor?: SharedLogCursor | null; limit?: number }): Promise<SharedLogReadResult>

    /** Records that `deviceId` has applied everything up to `cursor`; backends may use it to prune. */
    acknowledge(options: { deviceId: string; cursor: SharedLogCursor }): Promise<void>

    /**
     * Optional. `setupSync` calls it once with access to the device's own state, for logs that
     * need it (the HTTP log sends the full state to the service's reconciliation and keeps the
     * last known SyncId in the app's database).
     */
    attachClient?(client: SharedLogClient): void

    /**
     * Optional. Live notifications: calls `onChange` whenever another device of the same user
     * may have written something new (a hint, never data: the device then reads as usual). It is
     * also called after a dropped connection is re-opened, since announcements may have been
     * missed meanwhile. `ContinuousSync` uses it for its live trigger.
     */
    subscribe?(options: SharedLogSubscribeOptions): SharedLogSubscription
}

/** What a live subscription reports about its connection. */
export type SharedLogLiveStatus = 'connecting' | 'open' | 'closed' | 'failed'

export interface SharedLogSubscribeOptions {
    /** The subscribing device: its own writes are not announced to it. */
    deviceId: string
    /** Something new may be readable. */
    onChange(): void
    /**
     * Connection changes: `closed` (dropped, being re-opened with backoff), `failed` (given up,
     * e.g. a refused token or a service without live notifications; with the error).
     */
    onStatus?(status: SharedLogLiveStatus, error?: unknown): void
}

export interface SharedLogSubscription {
    /** Ends the subscription; no callback runs after it returns. */
    close(): void
}

/** What a shared log may use of the device it serves. */
export interface SharedLogClient {
    /** Every entry the device has applied (at least the newest per field key). */
    getFullState(): Promise<SyncLogEntry[]>
    /** Small persistent key-value state in the app's database. */
    getState(key: string): Promise<unknown>
    setState(key: string, value: unknown): Promise<void>
}

/** Opaque position in a shared log; only the log that issued it interprets it. */
export type SharedLogCursor = string

export interface SharedLogReadResult {
    entries: SyncLogEntry[]
    /** Pass this back to continue after the returned entries. Equals the input when nothing was returned. */
    cursor: SharedLogCursor | null
    hasMore: boolean
}
