import type { DocStore } from '../store/types'
import type { LiveNotification } from './hub'

/**
 * The store as the routes see it, reporting every committed write. `upsertDocs` resolves only
 * after its transaction committed (both stores), so by the time a device hears of seq N a read
 * "after seq < N" finds it. Writes that stored nothing (all discarded: an idempotent retry) are
 * not announced. Wrapping the store instead of adding a hook to each store keeps every store,
 * present and future, announcing the same way.
 */
export function observeCommits(store: DocStore, onCommitted: (notification: LiveNotification) => void): DocStore {
    const upsertDocs: DocStore['upsertDocs'] = async options => {
        const results = await store.upsertDocs(options)
        let seq = -1
        for (const result of results) {
            if (result.status !== 'discarded' && result.seq > seq) {
                seq = result.seq
            }
        }
        if (seq >= 0) {
            try {
                onCommitted({ userId: options.userId, seq, writer: options.clientId })
            } catch {
                // Announcing is a hint; the write has succeeded either way.
            }
        }
        return results
    }
    return new Proxy(store, {
        get(target, property) {
            if (property === 'upsertDocs') {
                return upsertDocs
            }
            const value = Reflect.get(target, property, target)
            return typeof value === 'function' ? value.bind(target) : value
        },
    })
}
