import fc from 'fast-check'
import { compareEntryVersions, entryFieldKey, entryId, entryObjectKey } from '../entries'
import type { SyncLogEntry } from '../entries/types'
import { makeEntries, makeEntry, runSharedSyncLogContractTests } from '../testing'
import { InvalidSharedLogArgumentError } from './arguments'
import { MemorySharedSyncLog } from './memory'
import type { SharedSyncLog } from './types'

runSharedSyncLogContractTests('MemorySharedSyncLog', async () => ({ log: new MemorySharedSyncLog() }), { cursorPassesOwnEntries: true })
runSharedSyncLogContractTests('MemorySharedSyncLog (compact)', async () => ({ log: new MemorySharedSyncLog({ compact: true }) }), { cursorPassesOwnEntries: true })

async function readEverything(log: SharedSyncLog, deviceId: string): Promise<SyncLogEntry[]> {
    const result = await log.readEntries({ deviceId, cursor: null, limit: Number.MAX_SAFE_INTEGER })
    expect(result.hasMore).toBe(false)
    return result.entries
}

/** Reference model of what compaction keeps: newest per field key, minus modifies older than the object's newest create/delete. */
function latestPerKey(entries: SyncLogEntry[]): Map<string, SyncLogEntry> {
    const newest = new Map<string, SyncLogEntry>()
    for (const entry of entries) {
        const current = newest.get(entryFieldKey(entry))
        if (!current || compareEntryVersions(entry, current) > 0) {
            newest.set(entryFieldKey(entry), entry)
        }
    }
    for (const [key, entry] of newest) {
        const lifecycle = newest.get(entryObjectKey(entry) + '#')
        if (entry.operation === 'modify' && lifecycle && compareEntryVersions(lifecycle, entry) > 0) {
            newest.delete(key)
        }
    }
    return newest
}

describe('MemorySharedSyncLog', () => {
    it('issues device ids from the injected generator', async () => {
        let next = 0
        const log = new MemorySharedSyncLog({ generateDeviceId: () => `generated-${++next}` })
        expect(await log.registerDevice()).toEqual({ deviceId: 'generated-1' })
        expect(await log.registerDevice({ deviceId: 'mine' })).toEqual({ deviceId: 'mine' })
        expect(await log.registerDevice()).toEqual({ deviceId: 'generated-2' })
    })

    it('issues UUID v4 device ids by default', async () => {
        const { deviceId } = await new MemorySharedSyncLog().registerDevice()
        expect(deviceId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    })

    it('hands out stringified, strictly increasing sequence numbers as cursors', async () => {
        const log = new MemorySharedSyncLog()
        await log.writeEntries({ deviceId: 'a', entries: makeEntries(3, { deviceId: 'a' }) })
        await log.writeEntries({ deviceId: 'a', entries: makeEntries(2, { deviceId: 'a' }) })
        const cursors = []
        for (let cursor: string | null = null, more = true; more; ) {
            const page = await log.readEntries({ deviceId: 'b', cursor, limit: 1 })
            cursors.push(page.cursor)
            cursor = page.cursor
            more = page.hasMore
        }
        expect(cursors).toEqual(['1', '2', '3', '4', '5'])
    })

    it('refuses cursors it did not issue, and bad limits and device ids', async () => {
        const log = new MemorySharedSyncLog()
        await log.writeEntries({ deviceId: 'a', entries: makeEntries(2, { deviceId: 'a' }) })
        for (const cursor of ['3', '-1', '1.5', 'abc', '', '01']) {
            await expect(log.readEntries({ deviceId: 'b', cursor })).rejects.toThrow(InvalidSharedLogArgumentError)
            await expect(log.acknowledge({ deviceId: 'b', cursor })).rejects.toMatchObject({ code: 'INVALID_SHARED_LOG_ARGUMENT' })
        }
        for (const limit of [0, -1, 1.5, NaN]) {
            await expect(log.readEntries({ deviceId: 'b', cursor: null, limit })).rejects.toThrow(InvalidSharedLogArgumentError)
        }
        await expect(log.registerDevice({ deviceId: '' })).rejects.toThrow(InvalidSharedLogArgumentError)
        expect(() => new MemorySharedSyncLog({ defaultReadLimit: 0 })).toThrow(InvalidSharedLogArgumentError)
    })

    it('pages by the default read limit when none is given', async () => {
        const log = new MemorySharedSyncLog({ defaultReadLimit: 2 })
        await log.writeEntries({ deviceId: 'a', entries: makeEntries(3, { deviceId: 'a' }) })
        const page = await log.readEntries({ deviceId: 'b', cursor: null })
        expect(page.entries).toHaveLength(2)
        expect(page.hasMore).toBe(true)
    })

    it('keeps its own copies, unaffected by callers mutating entries', async () => {
        const log = new MemorySharedSyncLog()
        const entry = makeEntry({ deviceId: 'a', value: { nested: ['x'] } })
        const original = { ...entry, value: { nested: ['x'] } }
        await log.writeEntries({ deviceId: 'a', entries: [entry] })
        ;(entry.value as { nested: string[] }).nested.push('changed by writer')
        const [read] = await readEverything(log, 'b')
        ;(read.value as { nested: string[] }).nested.push('changed by reader')
        expect(await readEverything(log, 'b')).toStrictEqual([original])
    })

    it('with compact, drops superseded fields and modifies older than a newer create/delete', async () => {
        const log = new MemorySharedSyncLog({ compact: true })
        const base = makeEntry({ deviceId: 'a' })
        const at = (version: number, overrides: Partial<SyncLogEntry> = {}) =>
            ({ ...base, version: base.version + version, ...overrides })
        await log.writeEntries({ deviceId: 'a', entries: [at(1), at(2, { field: 'body' }), at(5, { field: 'other' })] })
        await log.writeEntries({ deviceId: 'a', entries: [at(3), at(0), at(1)] })
        expect((await readEverything(log, 'b')).map((entry) => entry.version - base.version)).toEqual([2, 5, 3])

        await log.writeEntries({ deviceId: 'a', entries: [at(4, { operation: 'delete', field: null, value: null })] })
        await log.writeEntries({ deviceId: 'a', entries: [at(3.5, { field: 'late' }), at(4, { field: 'same-write' })] })
        expect((await readEverything(log, 'b')).map((entry) => [entry.operation, entry.field, entry.version - base.version])).toEqual([
            ['modify', 'other', 5],
            ['delete', null, 4],
            ['modify', 'same-write', 4],
        ])
    })

    it('with compact, a cursor past dropped entries still resumes correctly', async () => {
        const log = new MemorySharedSyncLog({ compact: true })
        const base = makeEntry({ deviceId: 'a' })
        const kept = makeEntries(3, { deviceId: 'a' })
        await log.writeEntries({ deviceId: 'a', entries: [base, ...kept] })
        const first = await log.readEntries({ deviceId: 'b', cursor: null, limit: 2 })
        await log.writeEntries({ deviceId: 'a', entries: [{ ...base, version: base.version + 1_000_000 }] })
        const rest = await log.readEntries({ deviceId: 'b', cursor: first.cursor })
        expect(rest.entries).toStrictEqual([...kept.slice(1), { ...base, version: base.version + 1_000_000 }])
    })

    it('reading a compacted log gives the same latest-per-key set as reading the full log', async () => {
        const entryArbitrary = fc.record({
            pk: fc.constantFrom('x', 'y', 42, ['c', 1]),
            operation: fc.constantFrom<SyncLogEntry['operation']>('create', 'modify', 'modify', 'modify', 'delete'),
            field: fc.constantFrom('title', 'body'),
            version: fc.integer({ min: 1, max: 30 }),
            deviceId: fc.constantFrom('a', 'c'),
        })
        const batches = fc.array(fc.array(entryArbitrary, { maxLength: 8 }), { maxLength: 12 })
        await fc.assert(
            fc.asyncProperty(batches, async (generated) => {
                const full = new MemorySharedSyncLog()
                const compacted = new MemorySharedSyncLog({ compact: true })
                let written: SyncLogEntry[] = []
                for (const batch of generated) {
                    const entries = batch.map((spec) => makeEntry({
                        ...spec,
                        collection: 'note',
                        field: spec.operation === 'modify' ? spec.field : null,
                        value: `${spec.deviceId}${spec.version}`,
                    }))
                    written = written.concat(entries)
                    for (const log of [full, compacted]) {
                        await log.writeEntries({ deviceId: 'writer', entries })
                    }
                }
                const fullRead = await readEverything(full, 'reader')
                const compactRead = await readEverything(compacted, 'reader')
                const expected = latestPerKey(written)
                expect(latestPerKey(compactRead)).toEqual(latestPerKey(fullRead))
                expect(new Set(compactRead.map(entryId))).toEqual(new Set([...expected.values()].map(entryId)))
                expect(new Set(fullRead.map(entryId))).toEqual(new Set(written.map(entryId)))
            }),
            { seed: 20261123, numRuns: 200 },
        )
    })
})
