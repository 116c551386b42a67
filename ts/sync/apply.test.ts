import { CLIENT_LOG_COLLECTIONS } from '../client-log/collections'
import { reconcileLww } from '../reconcile/lww'
import type { Reconciler } from '../reconcile/types'
import { MemorySharedSyncLog } from '../shared-log/memory'
import { BACKENDS, createDevice, dump } from '../integration/devices'

describe.each(Object.keys(BACKENDS))('applying received entries (%s)', backend => {
    it('stores each entry once when a reconciler returns entries the device holds, or one entry twice', async () => {
        // The log's id index is not unique: what keeps a row per entry is the apply step.
        const repeating: Reconciler = input => {
            const result = reconcileLww(input)
            return { ...result, newEntries: [...input.known, ...result.newEntries, ...result.newEntries] }
        }
        const sharedLog = new MemorySharedSyncLog()
        const a = await createDevice({ sharedLog, storageManager: BACKENDS[backend]() })
        const b = await createDevice({ sharedLog, storageManager: BACKENDS[backend](), reconciler: repeating })
        await a.storageManager.collection('note').createObject({ id: 'n1', title: 'first', rank: 1 })
        await a.storageManager.collection('note').createObject({ id: 'n2', title: 'other', rank: 2 })
        await a.syncNow()
        await b.syncNow()
        await a.storageManager.operation('updateObject', 'note', { id: 'n1' }, { title: 'second' })
        await a.syncNow()
        await b.syncNow()

        const ids = ((await b.adapter.findObjects(CLIENT_LOG_COLLECTIONS.entry, {})) as Array<{ id: string }>).map(row => row.id)
        expect(ids).toHaveLength(3)
        expect(new Set(ids).size).toBe(ids.length)
        expect(await dump(b, 'note')).toEqual(await dump(a, 'note'))
    })
})
