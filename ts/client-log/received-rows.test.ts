import fc from 'fast-check'
import type StorageManager from '@worldbrain/storex'
import { closeStorageManager, createDexieStorageManager, createSqliteStorageManager } from '../integration/devices'
import { FIELD_VALUES, fieldAndValue } from '../integration/value-arbitraries'
import { createBackendAdapter } from '../backend'
import type { AtomicOperations, BackendAdapter, StoredObject } from '../backend/types'
import type { SyncLogEntry } from '../entries/types'
import { ClientSyncLog } from './client-log'
import { CLIENT_LOG_COLLECTIONS, prepareClientLogCollections, registerClientLogCollections } from './collections'
import { planReceivedRows } from './received-rows'
import { entryToRow } from './rows'
import { VERSION_BOUND_STATE_KEY } from './version-bound'

/** `PROPERTY_RUNS` raises the run count; `PROPERTY_SEED` replays the seed a failure printed. */
const RUNS = Number(process.env.PROPERTY_RUNS ?? 60)
const SEED = process.env.PROPERTY_SEED === undefined ? undefined : Number(process.env.PROPERTY_SEED)
const PARAMETERS: fc.Parameters<unknown> = { numRuns: RUNS, verbose: 1, ...(SEED === undefined ? {} : { seed: SEED }) }

const LOG = [CLIENT_LOG_COLLECTIONS.entry, CLIENT_LOG_COLLECTIONS.quarantine, CLIENT_LOG_COLLECTIONS.state]
const RECEIVED = { shared: true, needsIntegration: false }
const OWN = { shared: false, needsIntegration: false }

function entry(overrides: Partial<SyncLogEntry> & Pick<SyncLogEntry, 'version'>): SyncLogEntry {
    return { collection: 'note', pk: 'n1', operation: 'modify', field: 'title', value: `v${overrides.version}`, deviceId: 'b', schemaVersion: 1, ...overrides }
}

const received = (entries: SyncLogEntry[]) => entries.map(item => entryToRow(item, RECEIVED))

describe('planReceivedRows', () => {
    it('writes a received row over a stored received row it supersedes, and drops none', () => {
        const [stored] = received([entry({ version: 1 })])
        stored.seq = -4
        const [fresh] = received([entry({ version: 2 })])
        const plan = planReceivedRows([fresh], [stored])
        expect(plan.overwrite).toEqual([{ ...fresh, seq: -4 }])
        expect(plan).toMatchObject({ add: [], remove: [] })
        // The caller's row is not changed.
        expect(fresh.seq).toBeUndefined()
    })

    it('never writes over an own row (its key is commit order, and pushes remember it)', () => {
        const own = { ...entryToRow(entry({ version: 1, deviceId: 'a' }), OWN), seq: 7, shared: 1 }
        const [fresh] = received([entry({ version: 2 })])
        expect(planReceivedRows([fresh], [own])).toEqual({ overwrite: [], add: [fresh], remove: [own] })
    })

    it('does not write a received row that is obsolete at once', () => {
        const [stored] = received([entry({ version: 5 })])
        stored.seq = -1
        const [older, newer, other] = received([entry({ version: 3 }), entry({ version: 4, field: 'body' }), entry({ version: 2, field: 'body' })])
        expect(planReceivedRows([older, newer, other], [stored])).toEqual({ overwrite: [], add: [newer], remove: [] })
    })

    it('reuses any dropped key below zero, for any received row, and deletes the rest', () => {
        const stored = received([entry({ version: 1 }), entry({ version: 1, field: 'body' }), entry({ version: 1, field: 'rank' })])
        stored.forEach((row, index) => (row.seq = -1 - index))
        const fresh = received([entry({ version: 2, operation: 'delete', field: null, value: null })])
        const plan = planReceivedRows(fresh, stored)
        expect(plan.overwrite.map(row => row.seq)).toEqual([-1])
        expect(plan.remove.map(row => row.seq)).toEqual([-2, -3])
    })
})

describe.each([
    ['dexie', createDexieStorageManager],
    ['sqlite', createSqliteStorageManager],
])('ClientSyncLog.storeReceived (%s)', (_name, createManager) => {
    const managers: StorageManager[] = []

    async function openLog(): Promise<{ log: ClientSyncLog; adapter: BackendAdapter }> {
        const manager = createManager()
        managers.push(manager)
        registerClientLogCollections(manager.registry)
        await manager.finishInitialization()
        const adapter = createBackendAdapter(manager)
        await adapter.prepare()
        await prepareClientLogCollections(adapter, manager.registry)
        return { log: new ClientSyncLog({ adapter }), adapter }
    }

    afterEach(async () => {
        await Promise.all(managers.splice(0).map(closeStorageManager))
    })

    /** `storeReceived` as the apply step calls it: the objects' rows read in the same transaction. */
    function store(log: ClientSyncLog, adapter: BackendAdapter, entries: SyncLogEntry[], count?: { deletes: number }): Promise<void> {
        return adapter.atomic(LOG, async ops => {
            const fresh = received(entries)
            const counting: AtomicOperations = count ? { ...ops, deleteObjects: (collection, where) => (count.deletes++, ops.deleteObjects(collection, where)) } : ops
            await log.storeReceived(counting, fresh, await log.getRowsForObjects(fresh.map(row => row.objectKey), ops))
        })
    }

    it('puts a superseding received row at the old row\'s key, with no delete, and raises the version bound', async () => {
        const { log, adapter } = await openLog()
        await store(log, adapter, [entry({ version: 1 }), entry({ version: 1, field: 'body' })])
        const before = await log.getRowsForObjects(['note/"n1"'])
        const titleKey = before.find(row => row.field === 'title')!.seq
        const count = { deletes: 0 }
        await store(log, adapter, [entry({ version: 9, value: 'newest' })], count)
        const after = await log.getRowsForObjects(['note/"n1"'])
        expect(after.map(row => [row.field, row.version, row.value]).sort()).toEqual([['body', 1, 'v1'], ['title', 9, 'newest']])
        expect(after.find(row => row.field === 'title')!.seq).toBe(titleKey)
        expect(count.deletes).toBe(0)
        expect((await adapter.findObjects(CLIENT_LOG_COLLECTIONS.state, { key: VERSION_BOUND_STATE_KEY }))[0]?.value).toBe(9)
        expect(await log.getMaxVersion()).toBe(9)
    })

    it('keeps unshared own rows, deletes superseded shared own rows, and gives the received row a key below zero', async () => {
        const { log, adapter } = await openLog()
        await adapter.atomic(LOG, ops => log.insertEntries(ops, [entry({ version: 1, deviceId: 'a' })], OWN))
        await log.markAsShared(await log.getUnsharedEntries({ limit: 10 }))
        await adapter.atomic(LOG, ops => log.insertEntries(ops, [entry({ version: 2, deviceId: 'a', field: 'body' })], OWN))
        await store(log, adapter, [entry({ version: 3 }), entry({ version: 1, field: 'body' })])
        const rows = await log.getRowsForObjects(['note/"n1"'])
        expect(rows.map(row => [row.field, row.version, row.deviceId, row.seq! < 0]).sort()).toEqual([
            ['body', 2, 'a', false],
            ['title', 3, 'b', true],
        ])
        expect(await log.countUnshared()).toBe(1)
    })

    interface Generated {
        pk: string
        operation: SyncLogEntry['operation']
        modified: [string, unknown]
        created: Record<string, unknown>
        version: number
        deviceId: string
    }
    const generatedArb: fc.Arbitrary<Generated> = fc.record({
        pk: fc.constantFrom('n1', 'n2'),
        operation: fc.constantFrom<SyncLogEntry['operation']>('create', 'modify', 'modify', 'modify', 'delete'),
        modified: fieldAndValue,
        created: fc.record(FIELD_VALUES as unknown as Record<string, fc.Arbitrary<unknown>>, { requiredKeys: [] }),
        // Few versions and devices, so that supersedes and ties are common. This device is 'a'
        // (its own rows); a pull brings the other devices' entries only.
        version: fc.integer({ min: 1, max: 8 }),
        deviceId: fc.constantFrom('b', 'c'),
    })
    const storedArb = fc.array(fc.record({ generated: generatedArb, as: fc.constantFrom('own', 'pushed', 'received', 'received', 'held') }), { maxLength: 12 })
    const incomingArb = fc.array(generatedArb, { maxLength: 12 })

    /**
     * The entries, one per (object, version, device, field or lifecycle): one write makes one
     * entry per field, and an entry id names one entry, so two entries that compare equal are the
     * same entry delivered again (else which of them compaction keeps would depend on the order
     * rows are read in). `seen` carries them from the stored entries to the incoming ones.
     */
    function toEntries(items: Generated[], seen: Map<string, SyncLogEntry>): SyncLogEntry[] {
        return items.map(({ pk, operation, modified: [field, value], created, version, deviceId }) => {
            const key = JSON.stringify([pk, version, deviceId, operation === 'modify' ? field : null])
            const made = seen.get(key) ?? entry({ pk, operation, field: operation === 'modify' ? field : null, value: operation === 'modify' ? value : operation === 'create' ? created : null, version, deviceId })
            seen.set(key, made)
            return { ...made }
        })
    }

    /** What a log holds, keys aside: the same rows in any order. */
    async function contents(log: ClientSyncLog): Promise<string[]> {
        const rows = await log.getRowsForObjects(['note/"n1"', 'note/"n2"'])
        return rows.map(({ seq: _seq, ...row }) => JSON.stringify(row)).sort()
    }

    it('ends with the rows that adding the received rows and then compacting leaves, for entries of every field type', async () => {
        await fc.assert(
            fc.asyncProperty(storedArb, incomingArb, async (storedItems, incomingItems) => {
                const seen = new Map<string, SyncLogEntry>()
                const storedEntries = toEntries(storedItems.map(({ generated, as }) => (as === 'own' || as === 'pushed' ? { ...generated, deviceId: 'a' } : generated)), seen)
                const incoming = toEntries(incomingItems, seen)
                const touched = [...new Set(received(incoming).map(row => row.objectKey))]
                const [plain, planned] = [await openLog(), await openLog()]
                for (const { log, adapter } of [plain, planned]) {
                    for (const [index, { as }] of storedItems.entries()) {
                        const made = storedEntries[index]
                        if (as === 'held') {
                            await adapter.atomic(LOG, ops => log.holdEntries(ops, [{ entry: made, code: 'TEST', reason: 'held by the test', at: 0 }]))
                        } else {
                            await adapter.atomic(LOG, ops => log.insertEntries(ops, [made], as === 'received' ? RECEIVED : OWN))
                        }
                        if (as === 'pushed') {
                            await log.markAsShared(await log.getUnsharedEntries({ limit: 100 }))
                        }
                    }
                }
                // The way before: every row added, then their objects compacted.
                await plain.adapter.atomic(LOG, async ops => {
                    await plain.log.insertRows(ops, received(incoming))
                    await plain.log.compactObjects(ops, touched)
                })
                await store(planned.log, planned.adapter, incoming)
                expect(await contents(planned.log)).toEqual(await contents(plain.log))
                const keys = (await planned.adapter.findObjects(CLIENT_LOG_COLLECTIONS.entry, {})).map(row => (row as StoredObject).seq as number)
                expect(new Set(keys).size).toBe(keys.length)
                expect(await planned.log.getMaxVersion()).toBe(await plain.log.getMaxVersion())
                // A push after it compacts the same way (it must not take a received row for an own row it remembers).
                for (const { log, adapter } of [plain, planned]) {
                    const edits = touched.map(key => entry({ pk: JSON.parse(key.slice('note/'.length)) as string, version: 9, deviceId: 'a' }))
                    await adapter.atomic(LOG, ops => log.insertEntries(ops, edits, OWN))
                    await log.markAsShared(await log.getUnsharedEntries({ limit: 100 }))
                }
                expect(await contents(planned.log)).toEqual(await contents(plain.log))
                await Promise.all(managers.splice(0).map(closeStorageManager))
            }),
            PARAMETERS,
        )
    }, 120_000)
})
