import { SyncError } from '../errors'
import type { SharedLogCursor } from './types'

/**
 * Argument checks shared by the built-in backends, whose cursors are stringified sequence
 * numbers. Checked at the boundary because a bad value would otherwise fail far away: a cursor
 * from another log silently skips entries, and a non-string device id in a Storex `where`
 * matches every row on Dexie.
 */

/** A shared-log call got an argument it cannot interpret. */
export class InvalidSharedLogArgumentError extends SyncError {
    constructor(readonly argument: string, reason: string) {
        super('INVALID_SHARED_LOG_ARGUMENT', `Invalid shared log argument '${argument}': ${reason}`)
    }
}

/** Default page size of `readEntries` when the caller gives no `limit`. */
export const DEFAULT_READ_LIMIT = 1000

export function formatSequenceCursor(seq: number): SharedLogCursor {
    return String(seq)
}

/**
 * The sequence number a cursor stands for (0 = before the first entry). Refuses cursors that
 * are not ours, and cursors ahead of the newest entry (`lastSeq`): those come from another log
 * (or a log that was reset), and honouring them would skip entries stored later.
 */
export function parseSequenceCursor(cursor: SharedLogCursor | null, lastSeq: number): number {
    if (cursor === null) {
        return 0
    }
    if (typeof cursor !== 'string' || !/^(0|[1-9][0-9]*)$/.test(cursor)) {
        throw new InvalidSharedLogArgumentError('cursor', `'${String(cursor)}' was not issued by this log`)
    }
    const seq = Number(cursor)
    if (!Number.isSafeInteger(seq) || seq > lastSeq) {
        throw new InvalidSharedLogArgumentError('cursor', `'${cursor}' is ahead of this log (last position ${lastSeq})`)
    }
    return seq
}

export function resolveReadLimit(limit: number | undefined, defaultLimit: number): number {
    const resolved = limit ?? defaultLimit
    if (!Number.isSafeInteger(resolved) || resolved < 1) {
        throw new InvalidSharedLogArgumentError('limit', `${String(limit)} is not a positive integer`)
    }
    return resolved
}

export function assertDeviceId(deviceId: unknown): asserts deviceId is string {
    if (typeof deviceId !== 'string' || deviceId.length === 0) {
        throw new InvalidSharedLogArgumentError('deviceId', 'must be a non-empty string')
    }
}
