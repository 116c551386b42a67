import type { SyncLogEntry } from './types'

/**
 * The one total order of the library (invariant 3): by version, then by device id, so every tie
 * has the same answer on every device. Negative when `a` is older than `b`.
 */
export function compareEntryVersions(
    a: Pick<SyncLogEntry, 'version' | 'deviceId'>,
    b: Pick<SyncLogEntry, 'version' | 'deviceId'>,
): number {
    if (a.version !== b.version) {
        return a.version < b.version ? -1 : 1
    }
    if (a.deviceId === b.deviceId) {
        return 0
    }
    return a.deviceId < b.deviceId ? -1 : 1
}

export function isNewer(a: Pick<SyncLogEntry, 'version' | 'deviceId'>, b: Pick<SyncLogEntry, 'version' | 'deviceId'>): boolean {
    return compareEntryVersions(a, b) > 0
}
