import type StorageManager from '@worldbrain/storex'
import { closeStorageManager, createDexieStorageManager, createSqliteStorageManager } from '../integration/devices'
import { createBackendAdapter } from '../backend'
import type { BackendAdapter, StoredObject } from '../backend/types'
import type { SyncLogEntry } from '../entries/types'
import { entryId, objectKey } from '../entries/keys'
import { ClientSyncLog } from './client-log'
import { VERSION_BOUND_STATE_KEY } from './version-bound'
import { CLIENT_LOG_COLLECTIONS, prepareClientLogCollections, registerClientLogCollections } from './collections'
import { entryToRow } from './rows'
import { LEGACY_CLIENT_LOG_COLLECTION } from './legacy-layout'
import { moveLegacyClientLogRows } from './legacy-move'

async function setup(): Promise<{ log: ClientSyncLog; adapter: BackendAdapter }> {
    const manager = createDexieStorageManager()
    registerClientLogCollections(manager.registry)
    await manager.finishInitialization()
    const adapter = createBackendAdapter(manager)
    await adapter.prepare()
    return { log: new ClientSyncLog({ adapter }), adapter }
}

function entry(overrides: Partial<SyncLogEntry> & Pick<SyncLogEntry, 'version'>): SyncLogEntry {
    return { collection: 'note', pk: 'n1', operation: 'modify', field: 'title', value: `v${overrides.version}`, deviceId: 'a', schemaVersion: 1, ...overrides }
}

type Flags = { shared: boolean; needsIntegration: boolean }
const OWN: Flags = { shared: false, needsIntegration: false }
const RECEIVED: Flags = { shared: true, needsIntegration: false }
const HELD: Flags = { shared: true, needsIntegration: true }

/** Held entries go in as the sync pass holds them: with their quarantine records. */
async function insert(log: ClientSyncLog, adapter: BackendAdapter, entries: SyncLogEntry[], flags: Flags): Promise<void> {
    await adapter.atomic([CLIENT_LOG_COLLECTIONS.entry, CLIENT_LOG_COLLECTIONS.quarantine, CLIENT_LOG_COLLECTIONS.state], ops =>
        flags.needsIntegration ? log.holdEntries(ops, entries.map(item => ({ entry: item, code: 'TEST', reason: 'held by the test', at: 0 }))) : log.insertEntries(ops, entries, flags),
    )
}

async function compact(log: ClientSyncLog, adapter: BackendAdapter, keys: string[]): Promise<number> {
    return adapter.atomic([CLIENT_LOG_COLLECTIONS.entry, CLIENT_LOG_COLLECTIONS.state], ops => log.compactObjects(ops, keys))
}

const versions = (entries: Array<Pick<SyncLogEntry, 'version'>>) => entries.map(item => item.version)

/** The same adapter, with the log's row reads and key lookups inside transactions counted. */
function counted(adapter: BackendAdapter): { adapter: BackendAdapter; reads: StoredObject[]; keyLookups: () => number; lookups: StoredObject[] } {
    const reads: StoredObject[] = []
    const lookups: StoredObject[] = []
    const counting: BackendAdapter = Object.create(adapter)
    counting.atomic = (collections, body) =>
        adapter.atomic(collections, ops =>
            body({
                ...ops,
                findObjects: (collection, where, options) => {
                    if (collection === CLIENT_LOG_COLLECTIONS.entry) {
                        reads.push(where)
                    }
                    return ops.findObjects(collection, where, options)
                },
                findKeys: ops.findKeys && ((collection, where) => (lookups.push(where), ops.findKeys!(collection, where))),
            }),
        )
    return { adapter: counting, reads, keyLookups: () => lookups.length, lookups }
}

describe('ClientSyncLog on Dexie (fake-indexeddb)', () => {
    let log: ClientSyncLog
    let adapter: BackendAdapter

    beforeEach(async () => {
        ;({ log, adapter } = await setup())
    })

    it('stores entries as they were given, with flags as ints', async () => {
        const created = entry({ version: 5, operation: 'create', field: null, value: { title: 'x', tags: ['a'] }, pk: ['s', 'k'], collection: 'setting' })
        await insert(log, adapter, [created], OWN)
        expect(await log.getUnsharedEntries({ limit: 10 })).toEqual([created])
        const [row] = await log.getRowsForObjects([objectKey('setting', ['s', 'k'])])
        expect(row).toMatchObject({ id: entryId(created), objectKey: 'setting/["s","k"]', shared: 0, needsIntegration: 0 })
    })

    it('returns unshared entries in commit order, at most limit, never received ones', async () => {
        for (const version of [30, 10, 50]) {
            await insert(log, adapter, [entry({ version, field: `f${version}` })], OWN)
        }
        await insert(log, adapter, [entry({ version: 5, deviceId: 'b' }), entry({ version: 15, deviceId: 'b' })], RECEIVED)
        await insert(log, adapter, [20, 40].map(version => entry({ version, field: `f${version}` })), OWN)
        expect(versions(await log.getUnsharedEntries({ limit: 3 }))).toEqual([30, 10, 50])
        expect(versions(await log.getUnsharedEntries({ limit: 100 }))).toEqual([30, 10, 50, 20, 40])
    })

    it('marks a push batch by the watermark: no row is rewritten, later rows stay unshared', async () => {
        await insert(log, adapter, [1, 2, 3, 4].map(version => entry({ version, field: `f${version}` })), OWN)
        const batch = await log.getUnsharedEntries({ limit: 3 })
        await insert(log, adapter, [entry({ version: 5, field: 'f5' })], OWN)
        const before = await adapter.findObjects(CLIENT_LOG_COLLECTIONS.entry, {})
        await log.markAsShared(batch.slice(0, 2))
        // Stored rows are untouched; the watermark covers the first two.
        expect(await adapter.findObjects(CLIENT_LOG_COLLECTIONS.entry, {})).toEqual(before)
        expect(versions(await log.getUnsharedEntries({ limit: 10 }))).toEqual([3, 4, 5])
        expect(await log.countEntries({ shared: 1 })).toBe(2)
    })

    it('marks entries one by one when they are not the first of one read', async () => {
        await insert(log, adapter, [1, 2, 3].map(version => entry({ version, field: `f${version}` })), OWN)
        const read = await log.getUnsharedEntries({ limit: 10 })
        // The second and third only: a watermark at the third would cover the first.
        await log.markAsShared(read.slice(1))
        expect(versions(await log.getUnsharedEntries({ limit: 10 }))).toEqual([1])
        // Entries made elsewhere (not read here) are found by key.
        await log.markAsShared([entry({ version: 1, field: 'f1' })])
        expect(await log.getUnsharedEntries({ limit: 10 })).toEqual([])
        expect(await log.countEntries({ shared: 1 })).toBe(3)
    })

    it('reads past rows marked one by one when filling a batch', async () => {
        await insert(log, adapter, [1, 2, 3, 4, 5].map(version => entry({ version, field: `f${version}` })), OWN)
        const read = await log.getUnsharedEntries({ limit: 10 })
        await log.markAsShared(read.slice(0, 1).concat(read.slice(2, 4)))
        expect(versions(await log.getUnsharedEntries({ limit: 1 }))).toEqual([2])
        expect(versions(await log.getUnsharedEntries({ limit: 2 }))).toEqual([2, 5])
        expect(await log.countUnshared()).toBe(2)
    })

    it('pushes an own entry older than those already pushed (another tab with a slower clock)', async () => {
        await insert(log, adapter, [entry({ version: 50 }), entry({ version: 60, field: 'body' })], OWN)
        await log.markAsShared(await log.getUnsharedEntries({ limit: 10 }))
        await insert(log, adapter, [entry({ version: 5, field: 'rank' })], OWN)
        expect(versions(await log.getUnsharedEntries({ limit: 10 }))).toEqual([5])
        const flags = async () => Object.fromEntries((await log.getRowsForObjects(['note/"n1"'])).map(row => [row.version, row.shared]))
        expect(await flags()).toEqual({ 5: 0, 50: 1, 60: 1 })
        await log.markAsShared(await log.getUnsharedEntries({ limit: 10 }))
        expect(await flags()).toEqual({ 5: 1, 50: 1, 60: 1 })
        expect(await log.countUnshared()).toBe(0)
    })

    it('an own row stays unshared and uncompacted until pushed, whatever newer rows were pushed', async () => {
        await insert(log, adapter, [entry({ version: 1 }), entry({ version: 2 }), entry({ version: 3 })], OWN)
        const [oldest, ...rest] = await log.getUnsharedEntries({ limit: 10 })
        await log.markAsShared(rest)
        expect(Object.fromEntries((await log.getRowsForObjects(['note/"n1"'])).map(row => [row.version, row.shared]))).toEqual({ 1: 0, 3: 1 })
        await log.markAsShared([oldest])
        expect(versions(await log.getRowsForObjects(['note/"n1"']))).toEqual([3])
    })

    it('marks entries as shared', async () => {
        const entries = [1, 2, 3].map(version => entry({ version, field: `f${version}` }))
        await insert(log, adapter, entries, OWN)
        await log.markAsShared(entries.slice(0, 2))
        expect(versions(await log.getUnsharedEntries({ limit: 10 }))).toEqual([3])
        expect(await log.countEntries({ shared: 1 })).toBe(2)
        await log.markAsShared([])
        expect(await log.countEntries()).toBe(3)
    })

    it('compacts what marking as shared superseded', async () => {
        await insert(log, adapter, [entry({ version: 1 }), entry({ version: 2 })], OWN)
        await log.markAsShared([entry({ version: 1 })])
        // Version 1 is now shared and version 2 supersedes it, so it can never win again.
        expect(versions(await log.getRowsForObjects(['note/"n1"']))).toEqual([2])
        await log.markAsShared([entry({ version: 2 })])
        expect(await log.getRowsForObjects(['note/"n1"'])).toEqual([expect.objectContaining({ version: 2, shared: 1 })])
    })

    it('marks entries read by getUnsharedEntries without reading them again, and compacts alike', async () => {
        await insert(log, adapter, [entry({ version: 1 }), entry({ version: 2, field: 'body' })], OWN)
        await log.markAsShared(await log.getUnsharedEntries({ limit: 10 }))
        await insert(log, adapter, [entry({ version: 3 }), entry({ version: 4, pk: 'n2' })], OWN)
        const pending = await log.getUnsharedEntries({ limit: 10 })
        await log.markAsShared(pending)
        // The title at version 1 (shared, superseded by 3) is gone; the body and the new rows stay.
        expect(versions(await log.getRowsForObjects(['note/"n1"', 'note/"n2"'])).sort()).toEqual([2, 3, 4])
        expect(await log.countEntries({ shared: 1 })).toBe(3)
        expect(await log.countUnshared()).toBe(0)
    })

    it('does not write back a row that was compacted away after getUnsharedEntries read it', async () => {
        await insert(log, adapter, [entry({ version: 1 })], OWN)
        const stale = await log.getUnsharedEntries({ limit: 10 })
        // Meanwhile another pass pushes it, and a newer title is pushed and compacts it away.
        await log.markAsShared(await log.getUnsharedEntries({ limit: 10 }))
        await insert(log, adapter, [entry({ version: 2 })], OWN)
        await log.markAsShared(await log.getUnsharedEntries({ limit: 10 }))
        expect(versions(await log.getRowsForObjects(['note/"n1"']))).toEqual([2])
        await log.markAsShared(stale)
        expect(await log.getRowsForObjects(['note/"n1"'])).toEqual([expect.objectContaining({ version: 2, shared: 1 })])
    })

    it('pushes new objects without looking their other rows up, and does not write back a create compacted away meanwhile', async () => {
        const created = (version: number, pk: string) => entry({ version, pk, operation: 'create', field: null, value: { title: pk } })
        await insert(log, adapter, [created(1, 'n1'), created(2, 'n2')], OWN)
        const stale = await log.getUnsharedEntries({ limit: 10 })
        // Another pass pushes both; n1 is deleted and the delete pushed, which compacts n1's create away.
        await log.markAsShared(await log.getUnsharedEntries({ limit: 10 }))
        await insert(log, adapter, [entry({ version: 3, pk: 'n1', operation: 'delete', field: null, value: null })], OWN)
        await log.markAsShared(await log.getUnsharedEntries({ limit: 10 }))
        await log.markAsShared(stale)
        expect(await log.getRowsForObjects(['note/"n1"'])).toEqual([expect.objectContaining({ version: 3, operation: 'delete', shared: 1 })])
        expect(await log.getRowsForObjects(['note/"n2"'])).toEqual([expect.objectContaining({ version: 2, shared: 1 })])
    })

    it('pushes objects created and then edited in one batch without looking their rows up, and compacts alike', async () => {
        const { adapter: counting, reads, lookups } = counted(adapter)
        const pusher = new ClientSyncLog({ adapter: counting })
        await insert(log, adapter, [entry({ version: 1, operation: 'create', field: null, value: { title: 'a', body: 'b' } }), entry({ version: 2, field: 'body' })], OWN)
        await insert(log, adapter, [entry({ version: 3, field: 'body' }), entry({ version: 4, pk: 'n2', operation: 'create', field: null, value: { title: 'c' } })], OWN)
        await pusher.markAsShared(await pusher.getUnsharedEntries({ limit: 10 }))
        // One probe of the batch's own keys (are the rows still there), no lookup by object, no read.
        expect(lookups).toEqual([{ seq: { $in: [1, 2, 3, 4] } }])
        expect(reads).toEqual([])
        expect(versions(await log.getRowsForObjects(['note/"n1"'])).sort()).toEqual([1, 3])
        expect(await log.countEntries({ shared: 0 })).toBe(0)
    })

    describe('an entry id that two tabs made in one millisecond', () => {
        it('is logged again one version later when the later row is pushed after the earlier', async () => {
            await insert(log, adapter, [entry({ version: 5, value: 'a' })], OWN)
            await log.markAsShared(await log.getUnsharedEntries({ limit: 10 }))
            // The other tab, whose clock said 5 too.
            await insert(log, adapter, [entry({ version: 5, value: 'b' })], OWN)
            await log.markAsShared(await log.getUnsharedEntries({ limit: 10 }))
            expect(await log.getUnsharedEntries({ limit: 10 })).toEqual([entry({ version: 6, value: 'b' })])
            await log.markAsShared(await log.getUnsharedEntries({ limit: 10 }))
            expect(await log.getRowsForObjects(['note/"n1"'])).toEqual([expect.objectContaining({ version: 6, value: 'b', shared: 1 })])
        })

        it('is logged again when both rows are in one push, past the versions its field holds', async () => {
            await insert(log, adapter, [entry({ version: 5, value: 'a' }), entry({ version: 6, value: 'c', deviceId: 'b' })], OWN)
            await insert(log, adapter, [entry({ version: 5, value: 'b' }), entry({ version: 6, value: 'x' })], OWN)
            await insert(log, adapter, [entry({ version: 5, value: 'b2' })], OWN)
            await log.markAsShared(await log.getUnsharedEntries({ limit: 10 }))
            // The rows at 5 after the first go to 7 and 8 (6 of this device is taken), in commit order.
            expect(await log.getUnsharedEntries({ limit: 10 })).toEqual([entry({ version: 7, value: 'b' }), entry({ version: 8, value: 'b2' })])
        })

        it('is logged again when the push marks its entries one by one', async () => {
            await insert(log, adapter, [entry({ version: 5, value: 'a' })], OWN)
            await log.markAsShared(await log.getUnsharedEntries({ limit: 10 }))
            await insert(log, adapter, [entry({ version: 5, value: 'b' })], OWN)
            // Entries not read by getUnsharedEntries: marked one by one.
            await log.markAsShared([entry({ version: 5, value: 'b' })])
            expect(await log.getUnsharedEntries({ limit: 10 })).toEqual([entry({ version: 6, value: 'b' })])
            expect(await log.countEntries()).toBe(1)
        })
    })

    it('compacts what a re-created object left behind when a change to it is pushed next', async () => {
        await insert(log, adapter, [entry({ version: 1, operation: 'create', field: null, value: { title: 'a' } }), entry({ version: 2, operation: 'delete', field: null, value: null })], OWN)
        await log.markAsShared(await log.getUnsharedEntries({ limit: 10 }))
        expect(versions(await log.getRowsForObjects(['note/"n1"']))).toEqual([2])
        // The key is used again: the push of the create alone does not look for the tombstone...
        await insert(log, adapter, [entry({ version: 3, operation: 'create', field: null, value: { title: 'b' } })], OWN)
        await log.markAsShared(await log.getUnsharedEntries({ limit: 10 }))
        expect(versions(await log.getRowsForObjects(['note/"n1"'])).sort()).toEqual([2, 3])
        // ...the push of the next change does, and the tombstone goes.
        await insert(log, adapter, [entry({ version: 4 })], OWN)
        await log.markAsShared(await log.getUnsharedEntries({ limit: 10 }))
        expect(versions(await log.getRowsForObjects(['note/"n1"'])).sort()).toEqual([3, 4])
    })

    it('remembers the own rows a push marked: the next push finds them without reading them, and compacts alike', async () => {
        const { adapter: counting, reads } = counted(adapter)
        const pusher = new ClientSyncLog({ adapter: counting })
        await insert(log, adapter, [entry({ version: 1, operation: 'create', field: null, value: { title: 'a', body: 'b' } }), entry({ version: 2 })], OWN)
        await pusher.markAsShared(await pusher.getUnsharedEntries({ limit: 10 }))
        await insert(log, adapter, [entry({ version: 3 })], OWN)
        reads.length = 0
        await pusher.markAsShared(await pusher.getUnsharedEntries({ limit: 10 }))
        // The create and the title at 2 were found by key through the objectKey index, and not read again.
        expect(reads).toEqual([])
        expect(versions(await log.getRowsForObjects(['note/"n1"'])).sort()).toEqual([1, 3])
    })

    it("reads an older object's rows with its lookup when it remembers none of them, and compacts alike", async () => {
        const { adapter: counting, reads, keyLookups } = counted(adapter)
        await insert(log, adapter, [entry({ version: 1, operation: 'create', field: null, value: { title: 'a', body: 'b' } }), entry({ version: 2 })], OWN)
        await log.markAsShared(await log.getUnsharedEntries({ limit: 10 }))
        // Another process (or tab) pushes the next edit: it remembers none of the object's rows.
        const pusher = new ClientSyncLog({ adapter: counting })
        await insert(log, adapter, [entry({ version: 3 })], OWN)
        await pusher.markAsShared(await pusher.getUnsharedEntries({ limit: 10 }))
        expect(reads).toEqual([{ objectKey: { $in: ['note/"n1"'] } }])
        expect(keyLookups()).toBe(0)
        expect(versions(await log.getRowsForObjects(['note/"n1"'])).sort()).toEqual([1, 3])
        expect(await log.countEntries({ shared: 0 })).toBe(0)
    })

    it('uses no remembered row that another tab compacted away meanwhile', async () => {
        const otherTab = new ClientSyncLog({ adapter })
        await insert(log, adapter, [entry({ version: 1, operation: 'create', field: null, value: { title: 'a' } }), entry({ version: 2 })], OWN)
        await log.markAsShared(await log.getUnsharedEntries({ limit: 10 }))
        // The other tab pushes a newer title, which drops the title at 2 that this one remembers.
        await insert(otherTab, adapter, [entry({ version: 3 })], OWN)
        await otherTab.markAsShared(await otherTab.getUnsharedEntries({ limit: 10 }))
        expect(versions(await log.getRowsForObjects(['note/"n1"'])).sort()).toEqual([1, 3])
        await insert(log, adapter, [entry({ version: 4 }), entry({ version: 5, field: 'body' })], OWN)
        await log.markAsShared(await log.getUnsharedEntries({ limit: 10 }))
        expect(versions(await log.getRowsForObjects(['note/"n1"'])).sort()).toEqual([1, 4, 5])
        expect(await log.countEntries()).toBe(3)
    })

    it('returns every row of the given objects, held ones included', async () => {
        await insert(log, adapter, [entry({ version: 1 }), entry({ version: 2, pk: 'n2' })], OWN)
        await insert(log, adapter, [entry({ version: 3, deviceId: 'b' })], HELD)
        await insert(log, adapter, [entry({ version: 4, collection: 'user' })], RECEIVED)
        const rows = await log.getRowsForObjects(['note/"n1"', 'note/"n1"', 'note/"missing"'])
        expect(rows.map(row => [row.version, row.needsIntegration]).sort()).toEqual([[1, 0], [3, 1]])
        expect(await log.getRowsForObjects([])).toEqual([])
    })

    describe('compactObjects', () => {
        const n1 = ['note/"n1"']

        it('drops shared entries superseded by a newer entry of the same field, keeping the newest', async () => {
            await insert(log, adapter, [entry({ version: 1 }), entry({ version: 2, deviceId: 'b' }), entry({ version: 3, field: 'body' })], RECEIVED)
            await insert(log, adapter, [entry({ version: 4 })], OWN)
            expect(await compact(log, adapter, n1)).toBe(2)
            expect(versions(await log.getRowsForObjects(n1)).sort()).toEqual([3, 4])
        })

        it('never drops unshared entries, even superseded ones', async () => {
            await insert(log, adapter, [entry({ version: 1 }), entry({ version: 2 })], OWN)
            await insert(log, adapter, [entry({ version: 3, deviceId: 'b' })], RECEIVED)
            expect(await compact(log, adapter, n1)).toBe(0)
            expect(await log.countEntries()).toBe(3)
        })

        it('never drops held entries, and a held entry supersedes nothing', async () => {
            await insert(log, adapter, [entry({ version: 1 })], RECEIVED)
            await insert(log, adapter, [entry({ version: 0, deviceId: 'b' }), entry({ version: 2, deviceId: 'b' })], HELD)
            expect(await compact(log, adapter, n1)).toBe(0)
            expect(versions(await log.getRowsForObjects(n1)).sort()).toEqual([0, 1, 2])
        })

        it('drops modifies and lifecycle entries older than a newer create or delete', async () => {
            await insert(
                log,
                adapter,
                [
                    entry({ version: 1, operation: 'create', field: null, value: { title: 'a' } }),
                    entry({ version: 2 }),
                    entry({ version: 3, operation: 'delete', field: null, value: null }),
                    entry({ version: 4, field: 'body' }),
                ],
                RECEIVED,
            )
            expect(await compact(log, adapter, n1)).toBe(2)
            // The delete stays (tombstone); the body change after it stays too.
            expect(versions(await log.getRowsForObjects(n1)).sort()).toEqual([3, 4])
        })

        it('breaks version ties by device id, and touches only the given objects', async () => {
            await insert(log, adapter, [entry({ version: 7, deviceId: 'a' }), entry({ version: 7, deviceId: 'b' })], RECEIVED)
            await insert(log, adapter, [entry({ version: 1, pk: 'n2' }), entry({ version: 2, pk: 'n2' })], RECEIVED)
            expect(await compact(log, adapter, n1)).toBe(1)
            expect((await log.getRowsForObjects(n1)).map(row => row.deviceId)).toEqual(['b'])
            expect(await log.getRowsForObjects(['note/"n2"'])).toHaveLength(2)
        })

        it('handles compound keys', async () => {
            const key = objectKey('setting', ['ui', 'theme'])
            const setting = (version: number) => entry({ version, collection: 'setting', pk: ['ui', 'theme'], field: 'value' })
            await insert(log, adapter, [setting(1), setting(2), entry({ version: 3, collection: 'setting', pk: ['ui', 'font'], field: 'value' })], RECEIVED)
            expect(await compact(log, adapter, [key])).toBe(1)
            expect(versions(await log.getRowsForObjects([key]))).toEqual([2])
            expect(await log.countEntries()).toBe(2)
        })
    })

    it('held entries: oldest first, then integrated', async () => {
        await insert(log, adapter, [entry({ version: 9, deviceId: 'b' }), entry({ version: 8, deviceId: 'b', field: 'x' })], HELD)
        await insert(log, adapter, [entry({ version: 7, deviceId: 'b', field: 'y' })], RECEIVED)
        const held = await log.getHeldEntries({ limit: 10 })
        expect(versions(held)).toEqual([8, 9])
        expect(versions(await log.getAllEntries())).toEqual([7])
        await adapter.atomic([CLIENT_LOG_COLLECTIONS.entry], ops => log.markIntegrated(ops, held.slice(0, 1)))
        expect(versions(await log.getHeldEntries({ limit: 10 }))).toEqual([9])
        expect(versions(await log.getAllEntries()).sort()).toEqual([7, 8])
    })

    it('finds a held row whose quarantine record names no object (an older layout\'s) once, and forgets a record whose row is gone', async () => {
        await insert(log, adapter, [entry({ version: 9, deviceId: 'b' })], HELD)
        const [held] = await log.getHeldEntries({ limit: 10 })
        // As the layouts before 2026-12-04 wrote the records: no object named.
        const unnamed = [
            { id: entryId(held), code: 'TEST', reason: 'held by the test', at: 0 },
            { id: 'b@3:note/"gone"#title', code: 'TEST', reason: 'its row is gone', at: 0 },
        ]
        await adapter.atomic([CLIENT_LOG_COLLECTIONS.quarantine], ops => log.quarantine(ops, unnamed))
        expect(await log.getHeldEntries({ limit: 10 })).toEqual([held])
        const records = (await adapter.findObjects(CLIENT_LOG_COLLECTIONS.quarantine, {})) as Array<{ id: string; objectKey?: string }>
        expect(records.map(record => [record.id, record.objectKey]).sort()).toEqual([[unnamed[1].id, ''], [entryId(held), 'note/"n1"']].sort())
        expect(await log.getHeldEntries({ limit: 10 })).toEqual([held])
        expect(await log.getQuarantine()).toEqual(expect.arrayContaining(unnamed))
    })

    it('knows the newest version it holds', async () => {
        expect(await log.getMaxVersion()).toBe(0)
        await insert(log, adapter, [entry({ version: 3 }), entry({ version: 12, field: 'b' })], OWN)
        await insert(log, adapter, [entry({ version: 40, deviceId: 'b' })], HELD)
        expect(await log.getMaxVersion()).toBe(40)
    })

    describe('the newest version, without an index on versions', () => {
        const bound = async () => (await adapter.findObjects(CLIENT_LOG_COLLECTIONS.state, { key: VERSION_BOUND_STATE_KEY }))[0]?.value
        // The rows hold no index on `version`: the bound covers received rows and pushed own
        // rows, and the rows above the watermark (not yet pushed) are read.
        it('counts own rows not yet pushed, in any commit order (two tabs with their own clocks)', async () => {
            await insert(log, adapter, [entry({ version: 90 })], OWN)
            await insert(log, adapter, [entry({ version: 70, field: 'b' })], OWN)
            expect(await bound()).toBeUndefined()
            expect(await log.getMaxVersion()).toBe(90)
        })

        it('keeps a pushed row\'s version once the watermark covers it', async () => {
            await insert(log, adapter, [entry({ version: 90 }), entry({ version: 70, field: 'b' })], OWN)
            await log.markAsShared(await log.getUnsharedEntries({ limit: 10 }))
            expect(await bound()).toBe(90)
            await insert(log, adapter, [entry({ version: 95, deviceId: 'b' })], RECEIVED)
            await compact(log, adapter, ['note/"n1"'])
            expect((await log.getRowsForObjects(['note/"n1"'])).map(row => row.version).sort()).toEqual([70, 95])
            expect(await log.getMaxVersion()).toBe(95)
            await insert(log, adapter, [entry({ version: 60, field: 'c' })], OWN)
            await log.markAsShared(await log.getUnsharedEntries({ limit: 10 }))
            expect(await log.getMaxVersion()).toBe(95)
        })

        it('raises the bound with received rows, and a lower version leaves it', async () => {
            await insert(log, adapter, [entry({ version: 50, deviceId: 'b' })], RECEIVED)
            await insert(log, adapter, [entry({ version: 20, deviceId: 'c', field: 'b' })], RECEIVED)
            expect(await bound()).toBe(50)
            expect(await log.getMaxVersion()).toBe(50)
        })

        it('counts own rows pushed one by one (not as the first rows of a read)', async () => {
            await insert(log, adapter, [entry({ version: 10 }), entry({ version: 80, field: 'b' })], OWN)
            const [, second] = await log.getUnsharedEntries({ limit: 10 })
            await log.markAsShared([{ ...second }])
            expect(await log.getMaxVersion()).toBe(80)
        })
    })

    it('keeps sync state by key', async () => {
        expect(await log.getState('cursor')).toBeNull()
        await log.setState('cursor', '17')
        await log.setState('device', { id: 'a', since: [1, 2] })
        await log.setState('cursor', '18')
        expect(await log.getState('cursor')).toBe('18')
        expect(await log.getState('device')).toEqual({ id: 'a', since: [1, 2] })
        await adapter.atomic([CLIENT_LOG_COLLECTIONS.state], ops => log.setState('cursor', '19', ops))
        expect(await log.getState('cursor')).toBe('19')
    })

    it('quarantines entries and releases them', async () => {
        const items = [
            { id: 'e1', reason: 'unknown collection', code: 'UNKNOWN_COLLECTION', at: 1 },
            { id: 'e2', reason: 'newer schema', code: 'SCHEMA_VERSION', at: 2 },
        ]
        const inQuarantine = () => adapter.atomic([CLIENT_LOG_COLLECTIONS.quarantine], ops => log.quarantine(ops, items))
        await inQuarantine()
        // Quarantining again replaces, never duplicates.
        await inQuarantine()
        expect((await log.getQuarantine()).sort((a, b) => a.id.localeCompare(b.id))).toEqual(items)
        await adapter.atomic([CLIENT_LOG_COLLECTIONS.quarantine], async ops => {
            await log.releaseQuarantine(ops, [])
            await log.releaseQuarantine(ops, ['e1'])
        })
        expect(await log.getQuarantine()).toEqual([items[1]])
    })
})

describe.each([
    ['dexie', createDexieStorageManager],
    ['sqlite', createSqliteStorageManager],
])('ClientSyncLog rows of the first layout (%s)', (_name, createManager) => {
    let log: ClientSyncLog
    let adapter: BackendAdapter
    let manager: StorageManager

    beforeEach(async () => {
        manager = createManager()
        registerClientLogCollections(manager.registry)
        await manager.finishInitialization()
        adapter = createBackendAdapter(manager)
        await adapter.prepare()
        await prepareClientLogCollections(adapter, manager.registry)
        log = new ClientSyncLog({ adapter })
    })

    afterEach(() => closeStorageManager(manager))

    it('keeps a received entry stored twice (the id index is not unique) until compaction leaves one row of it', async () => {
        // Own rows with one id are logged again at a push (see "two tabs" above).
        await insert(log, adapter, [entry({ version: 3, deviceId: 'b', field: 'rank' })], RECEIVED)
        await insert(log, adapter, [entry({ version: 3, deviceId: 'b', field: 'rank' }), entry({ version: 4, deviceId: 'b' })], RECEIVED)
        expect(await log.countEntries()).toBe(3)
        await compact(log, adapter, ['note/"n1"'])
        expect(versions(await log.getRowsForObjects(['note/"n1"'])).sort()).toEqual([3, 4])
        // Idempotent.
        await prepareClientLogCollections(adapter, manager.registry)
    })

    /**
     * Rows as the first layout stored them: keyed by id, `pendingVersion` while unpushed; rows
     * written before 2026-12 hold null markers, later ones 0; a pushed row says `shared` 1.
     */
    async function insertLegacyRows(entries: SyncLogEntry[], flags: Flags, markers: 'null' | 'zero'): Promise<void> {
        const none = markers === 'null' ? null : 0
        const rows = entries.map(item => {
            const { seq: _seq, ...row } = entryToRow(item, flags)
            return { ...row, pendingVersion: flags.shared ? none : item.version, heldVersion: flags.needsIntegration ? item.version : none }
        })
        await adapter.atomic([LEGACY_CLIENT_LOG_COLLECTION], ops => ops.createObjects(LEGACY_CLIENT_LOG_COLLECTION, rows as unknown as StoredObject[]))
    }

    it('moves every row once; moved rows read, push, compact and release like new ones', async () => {
        await insertLegacyRows([entry({ version: 1 })], OWN, 'null')
        await insertLegacyRows([entry({ version: 2, field: 'body' })], OWN, 'zero')
        await insertLegacyRows([entry({ version: 3, deviceId: 'b', field: 'rank' })], RECEIVED, 'null')
        await insertLegacyRows([entry({ version: 4, deviceId: 'b', field: 'tags' })], HELD, 'zero')
        await insertLegacyRows([entry({ version: 6, field: 'color' })], { shared: true, needsIntegration: false }, 'zero')

        expect(await moveLegacyClientLogRows(adapter, log)).toBe(5)
        expect(await moveLegacyClientLogRows(adapter, log)).toBe(0)
        expect(await adapter.findObjects(LEGACY_CLIENT_LOG_COLLECTION, {})).toEqual([])
        await insert(log, adapter, [entry({ version: 5 })], OWN)

        expect(versions(await log.getUnsharedEntries({ limit: 10 }))).toEqual([1, 2, 5])
        expect(await log.countUnshared()).toBe(3)
        expect(await log.countEntries({ shared: 1 })).toBe(3)
        expect(versions(await log.getHeldEntries({ limit: 10 }))).toEqual([4])
        // Written here without its quarantine record: the move gives it one, so it is still retried.
        expect((await log.getQuarantine()).map(item => item.code)).toEqual(['HELD'])

        // Pushing 1, 2 and 5 marks them shared; 5 supersedes 1 (same field), which compaction drops.
        await log.markAsShared(await log.getUnsharedEntries({ limit: 10 }))
        expect(await log.countUnshared()).toBe(0)
        const rows = await log.getRowsForObjects(['note/"n1"'])
        expect(versions(rows).sort()).toEqual([2, 3, 4, 5, 6])
        expect(rows.filter(row => row.version !== 4).every(row => row.shared === 1)).toBe(true)

        await adapter.atomic([CLIENT_LOG_COLLECTIONS.entry], ops => log.markIntegrated(ops, [entry({ version: 4, deviceId: 'b', field: 'tags' })]))
        expect(await log.getHeldEntries({ limit: 10 })).toEqual([])
        expect(versions(await log.getAllEntries()).sort()).toEqual([2, 3, 4, 5, 6])
    })

    it('moves a log larger than one page, unpushed rows in version order', async () => {
        const own = Array.from({ length: 1_200 }, (_, index) => entry({ version: index + 1, pk: `n${index}` }))
        const received = Array.from({ length: 300 }, (_, index) => entry({ version: index + 1, pk: `r${index}`, deviceId: 'b' }))
        await insertLegacyRows(own, OWN, 'zero')
        await insertLegacyRows(received, RECEIVED, 'zero')

        expect(await moveLegacyClientLogRows(adapter, log)).toBe(1_500)
        expect(await log.countEntries()).toBe(1_500)
        expect(await log.countUnshared()).toBe(1_200)
        const pushed: number[] = []
        for (let batch = await log.getUnsharedEntries({ limit: 500 }); batch.length; batch = await log.getUnsharedEntries({ limit: 500 })) {
            pushed.push(...versions(batch))
            await log.markAsShared(batch)
        }
        expect(pushed.length).toBe(1_200)
        expect(new Set(pushed).size).toBe(1_200)
        expect(await log.countEntries({ shared: 1 })).toBe(1_500)
    })
})
