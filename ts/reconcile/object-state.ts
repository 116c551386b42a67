import type { SyncLogEntry } from '../entries/types'
import { compareEntryVersions } from '../entries/order'

/** The reconciled state of one object: absent, or present with its non-pk fields. */
export type ObjectState = { exists: false } | { exists: true; fields: Record<string, unknown> }

type StateEntry = Pick<SyncLogEntry, 'operation' | 'field' | 'value' | 'version' | 'deviceId'>

/**
 * Lifecycle entries of one write cannot share (version, deviceId) in practice, but the state must
 * not depend on arrival order even then, so a tombstone wins such a tie.
 */
function isNewerLifecycle(candidate: StateEntry, current: StateEntry | null): boolean {
    if (current === null) {
        return true
    }
    const order = compareEntryVersions(candidate, current)
    if (order !== 0) {
        return order > 0
    }
    return candidate.operation === 'delete' && current.operation !== 'delete'
}

/**
 * The merge rules (docs/design.md) as a function of the entry SET of one object: the newest lifecycle
 * entry decides existence; the newest modify per field that is newer than it overrides the
 * create's value. One pass, so order and duplicates cannot matter: only maxima are kept.
 */
export function objectStateFromEntries(entries: Iterable<StateEntry>): ObjectState {
    let lifecycle: StateEntry | null = null
    const newestModify = new Map<string, StateEntry>()
    for (const entry of entries) {
        if (entry.operation === 'modify') {
            const field = entry.field as string
            const current = newestModify.get(field)
            if (current === undefined || compareEntryVersions(entry, current) > 0) {
                newestModify.set(field, entry)
            }
        } else if (isNewerLifecycle(entry, lifecycle)) {
            lifecycle = entry
        }
    }
    if (lifecycle === null || lifecycle.operation === 'delete') {
        return { exists: false }
    }
    const created = lifecycle.value
    const fields: Record<string, unknown> =
        created !== null && typeof created === 'object' && !Array.isArray(created) ? { ...(created as Record<string, unknown>) } : {}
    for (const [field, modify] of newestModify) {
        // An older modify belongs to an earlier life of the object; one with the create's own
        // (version, deviceId) was made by the same write, after the create.
        if (compareEntryVersions(modify, lifecycle) >= 0) {
            fields[field] = modify.value
        }
    }
    return { exists: true, fields }
}
