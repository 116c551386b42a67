/**
 * Two tabs of one app: two storage managers on one IndexedDB database, so one device id and one
 * log, but a clock each. When both write the same field in the same millisecond they make the
 * same entry id; the device and every other device must still end with the later write.
 */
import { MemorySharedSyncLog } from '../shared-log/memory'
import { REOPENABLE_BACKENDS, createDevice, dump } from './devices'

describe('two tabs of one device', () => {
    it('writing one field in the same millisecond: every device ends with the later write', async () => {
        const T = 1_700_000_000_000
        const now = () => T
        const database = REOPENABLE_BACKENDS.dexie()
        const sharedLog = new MemorySharedSyncLog()
        const first = await createDevice({ sharedLog, storageManager: database.open(), now })
        await first.storageManager.collection('note').createObject({ id: 'n1', title: 'created', rank: 1 })
        // The second tab opens after the create: its clock starts at the log's newest version.
        const second = await createDevice({ sharedLog, storageManager: database.open(), now })
        expect(second.deviceId).toBe(first.deviceId)
        await first.storageManager.operation('updateObject', 'note', { id: 'n1' }, { title: 'first tab' })
        await second.storageManager.operation('updateObject', 'note', { id: 'n1' }, { title: 'second tab' })
        const versions = ((await first.adapter.findObjects('syncLog', { objectKey: 'note/"n1"' })) as Array<{ field: string | null; version: number }>).filter(row => row.field === 'title').map(row => row.version)
        expect(versions).toEqual([T + 1, T + 1])

        const other = await createDevice({ sharedLog })
        await first.syncNow()
        await other.syncNow()
        // The push logged the later row again one version later; the next push sends it.
        await first.syncNow()
        await other.syncNow()
        await second.syncNow()
        expect(await dump(first, 'note')).toEqual([{ id: 'n1', title: 'second tab', rank: 1 }])
        expect(await dump(other, 'note')).toEqual(await dump(first, 'note'))
        expect(await first.clientLog.countUnshared()).toBe(0)
    })
})
