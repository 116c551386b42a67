/**
 * Databases that earlier client-log layouts wrote: the commit-order layout (2026-12-02), whose
 * `id` index was unique, and the plain-id layout (2026-12-03). The app updates the library and
 * calls `setupSync` on them. The `id` and `version` indices are dropped (Dexie's schema upgrade;
 * on SQLite by `prepareClientLogCollections`), every row stays where it was, and the log goes on
 * working: unpushed rows push once, a held row is still found (its quarantine record, which
 * named no object then, gets its object once), and the clock continues past the newest version
 * the log holds, which is read once from the whole log (those layouts recorded no version bound).
 */
import type StorageManager from '@worldbrain/storex'
import type { StorageRegistry } from '@worldbrain/storex'
import { openDexieDatabase } from '../backend/dexie-upgrade'
import { CLIENT_LOG_COLLECTIONS, prepareClientLogCollections } from '../client-log/collections'
import { ClientSyncLog } from '../client-log/client-log'
import { VERSION_BOUND_STATE_KEY } from '../client-log/version-bound'
import type { SyncLogEntry } from '../entries/types'
import { entryId } from '../entries/keys'
import { MemorySharedSyncLog } from '../shared-log/memory'
import { REOPENABLE_BACKENDS, createDevice, dump } from './devices'
import { noteCreate, openWithLayout, registerCommitOrderLayout, registerPlainIdLayout } from './old-layouts'

/** The fields the log's rows are indexed by besides their key, as the database itself has them (not as the schema declares). */
async function indexedFields(storageManager: StorageManager): Promise<string[]> {
    const backend = storageManager.backend as unknown as { dexie?: { backendDB(): IDBDatabase }; connection?: { query(sql: string): Promise<Array<{ sql: string }>> } }
    if (backend.dexie) {
        await openDexieDatabase(storageManager)
        const store = backend.dexie.backendDB().transaction(CLIENT_LOG_COLLECTIONS.entry).objectStore(CLIENT_LOG_COLLECTIONS.entry)
        return Array.from(store.indexNames).map(name => `${name}${store.index(name).unique ? ' (unique)' : ''}`).sort()
    }
    const indices = await backend.connection!.query(`SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sync_log' AND sql IS NOT NULL`)
    return indices.map(index => `${/\("([^"]+)"\)$/.exec(index.sql)?.[1] ?? index.sql}${/CREATE UNIQUE/i.test(index.sql) ? ' (unique)' : ''}`).sort()
}

const LAYOUTS: Array<[string, (registry: StorageRegistry) => void, string[]]> = [
    ['commit-order (2026-12-02)', registerCommitOrderLayout, ['id (unique)', 'objectKey', 'version']],
    ['plain-id (2026-12-03)', registerPlainIdLayout, ['id', 'objectKey', 'version']],
]

describe.each(Object.keys(REOPENABLE_BACKENDS))('a database of an earlier client-log layout (%s)', backend => {
    it.each(LAYOUTS)('of the %s layout loses the id and version indices on upgrade, keeps every row and goes on syncing', async (_name, register, oldIndices) => {
        const database = REOPENABLE_BACKENDS[backend]()
        const old = database.open()
        const adapter = await openWithLayout(old, register)
        await prepareClientLogCollections(adapter, old.registry)
        expect(await indexedFields(old)).toEqual(oldIndices)

        const deviceId = 'old-device'
        const note = (id: string, title: string, version: number, device = deviceId) => noteCreate(id, title, version, device)
        const pushed = note('n-pushed', 'pushed before', 1_000)
        const unpushed = note('n-unpushed', 'written offline', 1_002)
        const received = note('n-received', 'from another device', 1_001, 'other-device')
        // The newest version the log holds is a held row's: the clock must continue past it.
        const held = { ...note('n-held', 'from a newer schema', 5_000, 'other-device'), schemaVersion: 99 }
        const log = new ClientSyncLog({ adapter })
        await adapter.atomic(['note', CLIENT_LOG_COLLECTIONS.entry, CLIENT_LOG_COLLECTIONS.state, CLIENT_LOG_COLLECTIONS.quarantine], async ops => {
            for (const entry of [pushed, unpushed, received]) {
                await ops.createObject('note', { id: entry.pk, title: (entry.value as { title: string }).title })
            }
            await log.insertEntries(ops, [pushed, unpushed], { shared: false, needsIntegration: false })
            await log.insertEntries(ops, [received], { shared: true, needsIntegration: false })
            // As those layouts held an entry: its row and a record that names no object.
            await log.insertEntries(ops, [held], { shared: true, needsIntegration: true })
            await ops.putObject(CLIENT_LOG_COLLECTIONS.quarantine, { id: entryId(held), code: 'SCHEMA_VERSION', reason: 'newer schema', at: 1 })
            await ops.putObject(CLIENT_LOG_COLLECTIONS.state, { key: 'deviceId', value: deviceId })
        })
        await log.markAsShared(await log.getUnsharedEntries({ limit: 1 }))
        // Those layouts recorded no version bound.
        await adapter.atomic([CLIENT_LOG_COLLECTIONS.state], ops => ops.deleteObjects(CLIENT_LOG_COLLECTIONS.state, { key: VERSION_BOUND_STATE_KEY }))
        const before = await adapter.findObjects(CLIENT_LOG_COLLECTIONS.entry, {})
        database.close?.(old)

        const sharedLog = new MemorySharedSyncLog()
        // A wall clock behind the log's newest version: only the log tells the clock where to continue.
        const upgraded = await createDevice({ sharedLog, storageManager: database.open(), now: () => 100 })
        expect(await indexedFields(upgraded.storageManager)).toEqual(['objectKey'])
        expect(upgraded.deviceId).toBe(deviceId)
        // The same rows under the same keys.
        expect(await upgraded.adapter.findObjects(CLIENT_LOG_COLLECTIONS.entry, {})).toEqual(before)
        expect((await upgraded.adapter.findObjects(CLIENT_LOG_COLLECTIONS.state, { key: VERSION_BOUND_STATE_KEY }))[0]?.value).toBe(5_000)
        expect(await upgraded.clientLog.countUnshared()).toBe(1)
        expect(await upgraded.clientLog.getHeldEntries({ limit: 10 })).toEqual([held])
        expect(await upgraded.adapter.findObjects(CLIENT_LOG_COLLECTIONS.quarantine, {})).toEqual([expect.objectContaining({ id: entryId(held), objectKey: 'note/"n-held"' })])
        expect(await upgraded.clientLog.getHeldEntries({ limit: 10 })).toEqual([held])
        const sent: SyncLogEntry[] = []
        upgraded.events.on('sending', ({ entries }) => sent.push(...entries))
        expect((await upgraded.syncNow()).pushed).toBe(1)
        expect(sent).toEqual([unpushed])

        await upgraded.storageManager.collection('note').createObject({ id: 'n-new', title: 'after the upgrade' })
        expect((await upgraded.syncNow()).pushed).toBe(1)
        expect(sent[1].version).toBeGreaterThan(5_000)
        const other = await createDevice({ sharedLog })
        await other.syncNow()
        expect(((await dump(other, 'note')) as Array<{ id: string }>).map(object => object.id).sort()).toEqual(['n-new', 'n-unpushed'])
    })
})
