/**
 * A database that the commit-order client-log layout (2026-12-02) wrote, whose `id` index was
 * unique: the app updates the library and calls `setupSync` on it. The index is rebuilt as a plain
 * one (Dexie's schema upgrade; on SQLite the unique index is dropped and a plain one made), every
 * row stays where it was, and the log goes on working: unpushed rows push once, held rows are
 * still found by id.
 */
import type StorageManager from '@worldbrain/storex'
import { openDexieDatabase } from '../backend/dexie-upgrade'
import { CLIENT_LOG_COLLECTIONS, prepareClientLogCollections } from '../client-log/collections'
import { ClientSyncLog } from '../client-log/client-log'
import type { SyncLogEntry } from '../entries/types'
import { MemorySharedSyncLog } from '../shared-log/memory'
import { REOPENABLE_BACKENDS, createDevice, dump } from './devices'
import { noteCreate, openWithLayout, registerCommitOrderLayout } from './old-layouts'

/** Whether the log's `id` index is unique, as the database itself has it (not as the schema declares). */
async function idIndexIsUnique(storageManager: StorageManager): Promise<boolean> {
    const backend = storageManager.backend as unknown as { dexie?: { backendDB(): IDBDatabase }; connection?: { query(sql: string): Promise<Array<{ name: string; sql: string | null }>> } }
    if (backend.dexie) {
        await openDexieDatabase(storageManager)
        return backend.dexie.backendDB().transaction(CLIENT_LOG_COLLECTIONS.entry).objectStore(CLIENT_LOG_COLLECTIONS.entry).index('id').unique
    }
    const indices = await backend.connection!.query(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sync_log' AND sql LIKE '%("id")%'`)
    expect(indices).toHaveLength(1)
    return /CREATE UNIQUE/i.test(indices[0].sql ?? '')
}

describe.each(Object.keys(REOPENABLE_BACKENDS))('a database of the commit-order client-log layout (%s)', backend => {
    it('gets a plain id index on upgrade, keeps every row and goes on syncing', async () => {
        const database = REOPENABLE_BACKENDS[backend]()
        const old = database.open()
        const adapter = await openWithLayout(old, registerCommitOrderLayout)
        await prepareClientLogCollections(adapter, old.registry)
        expect(await idIndexIsUnique(old)).toBe(true)

        const deviceId = 'old-device'
        const note = (id: string, title: string, version: number, device = deviceId) => noteCreate(id, title, version, device)
        const pushed = note('n-pushed', 'pushed before', 1_000)
        const unpushed = note('n-unpushed', 'written offline', 1_002)
        const received = note('n-received', 'from another device', 1_001, 'other-device')
        const held = { ...note('n-held', 'from a newer schema', 1_003, 'other-device'), schemaVersion: 99 }
        const log = new ClientSyncLog({ adapter })
        await adapter.atomic(['note', CLIENT_LOG_COLLECTIONS.entry, CLIENT_LOG_COLLECTIONS.state, CLIENT_LOG_COLLECTIONS.quarantine], async ops => {
            for (const entry of [pushed, unpushed, received]) {
                await ops.createObject('note', { id: entry.pk, title: (entry.value as { title: string }).title })
            }
            await log.insertEntries(ops, [pushed, unpushed], { shared: false, needsIntegration: false })
            await log.insertEntries(ops, [received], { shared: true, needsIntegration: false })
            await log.holdEntries(ops, [{ entry: held, code: 'SCHEMA_VERSION', reason: 'newer schema', at: 1 }])
            await ops.putObject(CLIENT_LOG_COLLECTIONS.state, { key: 'deviceId', value: deviceId })
        })
        await log.markAsShared(await log.getUnsharedEntries({ limit: 1 }))
        const before = await adapter.findObjects(CLIENT_LOG_COLLECTIONS.entry, {})
        database.close?.(old)

        const sharedLog = new MemorySharedSyncLog()
        const upgraded = await createDevice({ sharedLog, storageManager: database.open() })
        expect(await idIndexIsUnique(upgraded.storageManager)).toBe(false)
        expect(upgraded.deviceId).toBe(deviceId)
        // The same rows under the same keys.
        expect(await upgraded.adapter.findObjects(CLIENT_LOG_COLLECTIONS.entry, {})).toEqual(before)
        expect(await upgraded.clientLog.countUnshared()).toBe(1)
        expect(await upgraded.clientLog.getHeldEntries({ limit: 10 })).toEqual([held])
        const sent: SyncLogEntry[] = []
        upgraded.events.on('sending', ({ entries }) => sent.push(...entries))
        expect((await upgraded.syncNow()).pushed).toBe(1)
        expect(sent).toEqual([unpushed])

        await upgraded.storageManager.collection('note').createObject({ id: 'n-new', title: 'after the upgrade' })
        expect((await upgraded.syncNow()).pushed).toBe(1)
        const other = await createDevice({ sharedLog })
        await other.syncNow()
        expect(((await dump(other, 'note')) as Array<{ id: string }>).map(object => object.id).sort()).toEqual(['n-new', 'n-unpushed'])
    })
})
