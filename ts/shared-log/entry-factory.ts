import type { SyncLogEntry } from '../entries/types'

let counter = 0

/**
 * A valid entry for tests. Each call without overrides gets its own object (`pk`) and a higher
 * `version`, so entries made this way never supersede each other, whatever a backend compacts.
 */
export function makeEntry(overrides: Partial<SyncLogEntry> = {}): SyncLogEntry {
    counter++
    return {
        collection: 'note',
        pk: `note-${counter}`,
        operation: 'modify',
        field: 'title',
        value: `title ${counter}`,
        version: 1_700_000_000_000 + counter,
        deviceId: 'device-a',
        schemaVersion: 1_767_225_600_000,
        ...overrides,
    }
}

/** `count` distinct entries (see `makeEntry`), all with `overrides` applied. */
export function makeEntries(count: number, overrides: Partial<SyncLogEntry> = {}): SyncLogEntry[] {
    return Array.from({ length: count }, () => makeEntry(overrides))
}
