import type { SyncLogEntry } from '../entries/types'
import { entryObjectKey, fieldKeyOf } from '../entries/keys'

/**
 * The entries of one write. They all share one version, so two steps of one `executeBatch` that
 * touch the same object field would produce two entries with the same id and no order between
 * them. Folding keeps what the write as a whole did: a later entry for the same key replaces an
 * earlier one, and a modify of an object created in this same write goes into the create's value.
 */
export class WriteEntries {
    private readonly byKey = new Map<string, SyncLogEntry>()
    /** The modify keys held per object, so a create or delete drops them without scanning every key. */
    private readonly modifyKeys = new Map<string, Set<string>>()

    add(entry: SyncLogEntry): void {
        const objectKey = entryObjectKey(entry)
        const key = fieldKeyOf(objectKey, entry)
        if (entry.operation === 'modify') {
            const lifecycle = this.byKey.get(objectKey + '#')
            if (lifecycle?.operation === 'create') {
                lifecycle.value = { ...(lifecycle.value as Record<string, unknown>), [entry.field as string]: entry.value }
                return
            }
            let keys = this.modifyKeys.get(objectKey)
            if (!keys) {
                keys = new Set()
                this.modifyKeys.set(objectKey, keys)
            }
            keys.add(key)
        } else {
            // A create or delete resets the object: modifies made earlier in this write no longer matter.
            for (const modifyKey of this.modifyKeys.get(objectKey) ?? []) {
                this.byKey.delete(modifyKey)
            }
            this.modifyKeys.delete(objectKey)
        }
        this.byKey.delete(key)
        this.byKey.set(key, entry)
    }

    list(): SyncLogEntry[] {
        return [...this.byKey.values()]
    }
}
