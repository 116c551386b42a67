/**
 * A database that the first client-log layout (before 2026-12-02) wrote: the app updates the
 * library and calls `setupSync` on it. The new store is added by a schema upgrade (Dexie) or a
 * table (SQLite), the old rows move across, what was unpushed is pushed once, and what was pushed
 * or received is not sent again.
 */
import type { StoredObject } from '../backend/types'
import { CLIENT_LOG_COLLECTIONS } from '../client-log/collections'
import { LEGACY_CLIENT_LOG_COLLECTION } from '../client-log/legacy-layout'
import { entryToRow } from '../client-log/rows'
import type { SyncLogEntry } from '../entries/types'
import { MemorySharedSyncLog } from '../shared-log/memory'
import { REOPENABLE_BACKENDS, createDevice, dump } from './devices'
import { noteCreate, openWithLayout, registerFirstLayout } from './old-layouts'

function legacyRow(entry: SyncLogEntry, state: 'unpushed' | 'pushed' | 'received'): StoredObject {
    const { seq: _seq, ...row } = entryToRow(entry, { shared: state !== 'unpushed', needsIntegration: false })
    return { ...row, pendingVersion: state === 'unpushed' ? entry.version : 0 }
}

describe.each(Object.keys(REOPENABLE_BACKENDS))('a database of the first client-log layout (%s)', backend => {
    it('is upgraded in place: rows moved once, the unpushed one pushed once, nothing lost', async () => {
        const database = REOPENABLE_BACKENDS[backend]()
        const old = database.open()
        const adapter = await openWithLayout(old, registerFirstLayout)
        const deviceId = 'old-device'
        const note = (id: string, title: string, version: number, device = deviceId) => noteCreate(id, title, version, device)
        const pushed = note('n-pushed', 'pushed before', 1_000)
        const received = note('n-received', 'from another device', 1_001, 'other-device')
        const unpushed = note('n-unpushed', 'written offline', 1_002)
        await adapter.atomic(['note', LEGACY_CLIENT_LOG_COLLECTION, CLIENT_LOG_COLLECTIONS.state], async ops => {
            for (const entry of [pushed, received, unpushed]) {
                await ops.createObject('note', { id: entry.pk, title: (entry.value as { title: string }).title })
            }
            await ops.createObjects(LEGACY_CLIENT_LOG_COLLECTION, [legacyRow(pushed, 'pushed'), legacyRow(received, 'received'), legacyRow(unpushed, 'unpushed')])
            await ops.putObject(CLIENT_LOG_COLLECTIONS.state, { key: 'deviceId', value: deviceId })
        })
        database.close?.(old)

        const sharedLog = new MemorySharedSyncLog()
        const upgraded = await createDevice({ sharedLog, storageManager: database.open() })
        expect(upgraded.deviceId).toBe(deviceId)
        expect(await upgraded.adapter.findObjects(LEGACY_CLIENT_LOG_COLLECTION, {})).toEqual([])
        expect(await upgraded.clientLog.countEntries()).toBe(3)
        expect(await upgraded.clientLog.countUnshared()).toBe(1)
        const sent: SyncLogEntry[] = []
        upgraded.events.on('sending', ({ entries }) => sent.push(...entries))
        expect((await upgraded.syncNow()).pushed).toBe(1)
        expect(sent).toEqual([unpushed])
        expect((await upgraded.syncNow()).pushed).toBe(0)

        // A write after the upgrade is logged in the new store and pushed next.
        await upgraded.storageManager.collection('note').createObject({ id: 'n-new', title: 'after the upgrade' })
        expect((await upgraded.syncNow()).pushed).toBe(1)

        const other = await createDevice({ sharedLog })
        await other.syncNow()
        expect(((await dump(other, 'note')) as Array<{ id: string }>).map(object => object.id).sort()).toEqual(['n-new', 'n-unpushed'])
    })
})
