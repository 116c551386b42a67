import type { SyncLogEntry } from '../entries/types'
import { entryFieldKey, entryObjectKey } from '../entries/keys'

/**
 * The entries of one write. They all share one version, so two steps of one `executeBatch` that
 * touch the same object field would produce two entries with the same id and no order between
 * them. Folding keeps what the write as a whole did: a later entry for the same key replaces an
 * earlier one, and a modify of an object created in this same write goes into the create's value.
 */
export class WriteEntries {
    private readonly byKey = new Map<string, SyncLogEntry>()

    add(entry: SyncLogEntry): void {
        if (entry.operation === 'modify') {
            const lifecycle = this.byKey.get(entryObjectKey(entry) + '#')
            if (lifecycle?.operation === 'create') {
                lifecycle.value = { ...(lifecycle.value as Record<string, unknown>), [entry.field as string]: entry.value }
                return
            }
        } else {
            // A create or delete resets the object: modifies made earlier in this write no longer matter.
            const prefix = entryObjectKey(entry) + '#'
            for (const key of this.byKey.keys()) {
                if (key.startsWith(prefix) && key !== prefix) {
                    this.byKey.delete(key)
                }
            }
        }
        const key = entryFieldKey(entry)
        this.byKey.delete(key)
        this.byKey.set(key, entry)
    }

    list(): SyncLogEntry[] {
        return [...this.byKey.values()]
    }
}
