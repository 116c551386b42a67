/// <reference types="jest" />
import { compareEntryVersions, entryFieldKey, entryId, entryObjectKey } from '../entries'
import type { SyncLogEntry } from '../entries/types'
import { makeEntries, makeEntry } from './entry-factory'
import type { SharedLogCursor, SharedLogReadResult, SharedSyncLog } from './types'

/** A fresh, empty log for one test, and how to dispose of it afterwards. */
export interface SharedSyncLogContractSubject {
    log: SharedSyncLog
    /** Called after the test, also when it failed. */
    cleanup?: () => Promise<void>
}

export interface SharedSyncLogContractOptions {
    /** Entries the large-batch test writes in one call. Default: 5000. */
    largeBatchSize?: number
    /** Page size the large-batch test reads them back with. Default: 500. */
    largePageSize?: number
    /** Jest timeout (ms) of the large-batch test. Default: 60000. */
    largeBatchTimeoutMs?: number
    /**
     * Whether a read that reaches the end of the log hands back a cursor past the reader's own
     * entries too, so that a device that is the only writer does not walk them again on every
     * read (the library's backends do). Default: false, and then only correctness is checked.
     */
    cursorPassesOwnEntries?: boolean
}

/**
 * The behaviour every `SharedSyncLog` backend must have, as a Jest suite. Call it at the top level
 * of a test file; `createLog` runs before each test. Backends may compact (drop superseded
 * entries), so exact delivery is only asserted for entries that supersede nothing.
 */
export function runSharedSyncLogContractTests(
    name: string,
    createLog: () => Promise<SharedSyncLogContractSubject>,
    options: SharedSyncLogContractOptions = {},
): void {
    const largeBatchSize = options.largeBatchSize ?? 5000
    const largePageSize = options.largePageSize ?? 500

    describe(`SharedSyncLog contract: ${name}`, () => {
        let subject: SharedSyncLogContractSubject | null = null
        let log: SharedSyncLog
        let a: string
        let b: string
        let c: string

        beforeEach(async () => {
            subject = await createLog()
            log = subject.log
            a = await register('device-a')
            b = await register('device-b')
            c = await register('device-c')
        })

        afterEach(async () => {
            await subject?.cleanup?.()
            subject = null
        })

        // Registration is optional: a log without it must serve devices it has never seen.
        const register = async (deviceId: string) => (log.registerDevice ? (await log.registerDevice({ deviceId })).deviceId : deviceId)
        const write = (deviceId: string, entries: SyncLogEntry[]) => log.writeEntries({ deviceId, entries })
        const entriesOf = (deviceId: string, count: number) => makeEntries(count, { deviceId })
        const readAll = (deviceId: string, cursor: SharedLogCursor | null, limit?: number) =>
            readToEnd(log, { deviceId, cursor, limit })

        it('reads nothing from an empty log, with the cursor unchanged', async () => {
            expect(await log.readEntries({ deviceId: a, cursor: null })).toEqual({ entries: [], cursor: null, hasMore: false })
            expect(await log.readEntries({ deviceId: a })).toEqual({ entries: [], cursor: null, hasMore: false })
        })

        it('issues distinct device ids and adopts given ones idempotently (or needs no registration)', async () => {
            if (!log.registerDevice) {
                const written = entriesOf('never-registered-1', 2)
                await write('never-registered-1', written)
                expect((await readAll('never-registered-2', null)).entries).toEqual(written)
                expect((await readAll('never-registered-1', null)).entries).toEqual([])
                return
            }
            const first = await log.registerDevice()
            const second = await log.registerDevice({})
            expect(typeof first.deviceId).toBe('string')
            expect(first.deviceId.length).toBeGreaterThan(0)
            expect(second.deviceId).not.toBe(first.deviceId)
            expect(await log.registerDevice({ deviceId: a })).toEqual({ deviceId: a })
            expect(await log.registerDevice({ deviceId: 'device-ü 🌍' })).toEqual({ deviceId: 'device-ü 🌍' })

            const written = entriesOf(first.deviceId, 2)
            await write(first.deviceId, written)
            expect((await readAll(second.deviceId, null)).entries).toEqual(written)
            expect((await readAll(first.deviceId, null)).entries).toEqual([])
        })

        it('delivers entries one device wrote to another, and not back to the writer', async () => {
            const written = entriesOf(a, 3)
            await write(a, written)
            const read = await log.readEntries({ deviceId: b, cursor: null })
            expect(read.entries).toEqual(written)
            expect(read.hasMore).toBe(false)
            expect(read.cursor).not.toBeNull()
            expect(await log.readEntries({ deviceId: a, cursor: null })).toMatchObject({ entries: [], hasMore: false })
        })

        it("a read that meets only the reader's own entries leaves a cursor from which the others' later entries arrive, once", async () => {
            await write(a, entriesOf(a, 5))
            const own = await readAll(a, null, 2)
            expect(own.entries).toEqual([])
            if (options.cursorPassesOwnEntries) {
                expect(own.cursor).not.toBeNull()
            }
            const theirs = [...entriesOf(b, 2), ...entriesOf(c, 1)]
            await write(a, entriesOf(a, 3))
            await write(b, theirs.slice(0, 2))
            await write(a, entriesOf(a, 2))
            await write(c, theirs.slice(2))
            await write(a, entriesOf(a, 2))
            for (const limit of [1, 2, 10]) {
                expect((await readAll(a, own.cursor, limit)).entries).toEqual(theirs)
            }
            const after = await readAll(a, own.cursor, 1)
            const later = entriesOf(b, 1)
            await write(a, entriesOf(a, 1))
            await write(b, later)
            expect((await readAll(a, after.cursor)).entries).toEqual(later)
            expect((await readAll(a, after.cursor)).cursor).not.toBeNull()
        })

        it('delivers each device exactly the entries of the other devices, in write order', async () => {
            const batches = [entriesOf(a, 2), entriesOf(b, 3), entriesOf(c, 1), entriesOf(a, 2), entriesOf(b, 1)]
            const writers = [a, b, c, a, b]
            for (const [index, batch] of batches.entries()) {
                await write(writers[index], batch)
            }
            for (const reader of [a, b, c]) {
                const expected = batches.filter((_, index) => writers[index] !== reader).flat()
                expect((await readAll(reader, null)).entries).toEqual(expected)
                expect((await readAll(reader, null, 2)).entries).toEqual(expected)
            }
        })

        it('pages with limit, and hasMore is false exactly when nothing is left', async () => {
            const written = entriesOf(a, 25)
            await write(a, written)
            const pages = await readPages(log, { deviceId: b, cursor: null, limit: 10 })
            expect(pages.map((page) => page.entries.length)).toEqual([10, 10, 5])
            expect(pages.map((page) => page.hasMore)).toEqual([true, true, false])
            expect(pages.flatMap((page) => page.entries)).toEqual(written)

            const exact = await readPages(log, { deviceId: b, cursor: null, limit: 25 })
            expect(exact.map((page) => [page.entries.length, page.hasMore])).toEqual([[25, false]])
            const single = await log.readEntries({ deviceId: b, cursor: null, limit: 1 })
            expect(single.entries).toEqual(written.slice(0, 1))
            expect(single.hasMore).toBe(true)
        })

        it('counts only other devices\' entries towards limit and hasMore', async () => {
            const early = entriesOf(b, 5)
            const late = entriesOf(b, 5)
            await write(a, entriesOf(a, 5))
            await write(b, early)
            await write(a, entriesOf(a, 7))
            await write(b, late)
            await write(a, entriesOf(a, 6))

            const pages = await readPages(log, { deviceId: a, cursor: null, limit: 5 })
            expect(pages.map((page) => page.hasMore)).toEqual([true, false])
            expect(pages.flatMap((page) => page.entries)).toEqual([...early, ...late])
            const ones = await readPages(log, { deviceId: a, cursor: null, limit: 1 })
            expect(ones.map((page) => page.hasMore)).toEqual([true, true, true, true, true, true, true, true, true, false])
        })

        it('resumes from a returned cursor without duplicates or gaps while writes go on', async () => {
            const expected: SyncLogEntry[] = []
            const received: SyncLogEntry[] = []
            let cursor: SharedLogCursor | null = null
            for (let round = 0; round < 6; round++) {
                const writer = round % 2 ? a : c
                const batch = entriesOf(writer, 3 + round)
                await write(writer, batch)
                expected.push(...batch)
                await write(b, entriesOf(b, 2))
                const read = await log.readEntries({ deviceId: b, cursor, limit: 4 })
                received.push(...read.entries)
                cursor = read.cursor
            }
            const rest = await readAll(b, cursor, 4)
            expect([...received, ...rest.entries]).toEqual(expected)
            expect(await log.readEntries({ deviceId: b, cursor: rest.cursor })).toEqual({
                entries: [],
                cursor: rest.cursor,
                hasMore: false,
            })
        })

        it('a cursor handed out before later writes still sees them', async () => {
            const empty = await log.readEntries({ deviceId: b, cursor: null })
            const first = entriesOf(a, 3)
            await write(a, first)
            const afterEmpty = await readAll(b, empty.cursor)
            expect(afterEmpty.entries).toEqual(first)

            const second = [...entriesOf(a, 2), ...entriesOf(c, 2)]
            await write(a, second.slice(0, 2))
            await write(b, entriesOf(b, 3))
            await write(c, second.slice(2))
            expect((await readAll(b, afterEmpty.cursor)).entries).toEqual(second)
            expect((await readAll(b, afterEmpty.cursor, 1)).entries).toEqual(second)
        })

        it('stores an entry written twice once, including retried batches', async () => {
            const batch = entriesOf(a, 4)
            await write(a, batch)
            const firstRead = await readAll(b, null)
            await write(a, batch)
            await write(a, [batch[1], batch[1]])
            const retried = [...batch.slice(2), ...entriesOf(a, 2)]
            await write(a, retried)
            const rest = await readAll(b, firstRead.cursor)
            expect(rest.entries).toEqual(retried.slice(2))
            expect((await readAll(b, null)).entries).toEqual([...batch, ...retried.slice(2)])

            const twiceInOneCall = makeEntry({ deviceId: c })
            await write(c, [twiceInOneCall, { ...twiceInOneCall }])
            expect((await readAll(b, rest.cursor)).entries).toEqual([twiceInOneCall])
        })

        it(
            `writes ${largeBatchSize} entries in one call and reads them back in pages of ${largePageSize}`,
            async () => {
                const written = entriesOf(a, largeBatchSize)
                await write(a, written)
                const pages = await readPages(log, { deviceId: b, cursor: null, limit: largePageSize })
                const pageCount = Math.ceil(largeBatchSize / largePageSize)
                expect(pages.map((page) => page.hasMore)).toEqual(Array.from({ length: pageCount }, (_, i) => i < pageCount - 1))
                expect(pages.flatMap((page) => page.entries)).toEqual(written)
            },
            options.largeBatchTimeoutMs ?? 60_000,
        )

        it('resumes from the acknowledged cursor when the cursor is omitted', async () => {
            const written = entriesOf(a, 6)
            await write(a, written)
            const first = await log.readEntries({ deviceId: b, limit: 4 })
            expect(first.entries).toEqual(written.slice(0, 4))
            expect((await log.readEntries({ deviceId: b, limit: 4 })).entries).toEqual(written.slice(0, 4))

            await log.acknowledge({ deviceId: b, cursor: first.cursor as SharedLogCursor })
            expect((await log.readEntries({ deviceId: b })).entries).toEqual(written.slice(4))
            expect(await register(b)).toEqual(b)
            expect((await log.readEntries({ deviceId: b })).entries).toEqual(written.slice(4))
            expect((await readAll(b, null)).entries).toEqual(written)
            expect((await log.readEntries({ deviceId: c })).entries).toEqual(written)

            const later = entriesOf(c, 2)
            await write(c, later)
            expect((await readAll(b, first.cursor)).entries).toEqual([...written.slice(4), ...later])
            expect((await log.readEntries({ deviceId: b })).entries).toEqual([...written.slice(4), ...later])
        })

        it('round-trips every entry field exactly', async () => {
            const written: SyncLogEntry[] = [
                makeEntry({ deviceId: a, value: 'Grüße, 世界 🌍 — עברית 👩‍💻 "quoted" \\ back\nslash' }),
                makeEntry({ deviceId: a, field: 'tïtle_✓', value: { a: [1, 2.5, -3, { b: null, c: 'x' }], d: true, e: { f: { g: [] } } } }),
                makeEntry({ deviceId: a, value: null }),
                makeEntry({ deviceId: a, value: '' }),
                makeEntry({ deviceId: a, value: 0.1 + 0.2 }),
                makeEntry({ deviceId: a, pk: 42, value: false }),
                makeEntry({ deviceId: a, pk: ['user-1', 7], collection: 'membership', value: [] }),
                makeEntry({ deviceId: a, operation: 'create', field: null, value: { title: 'ü', body: null, tags: ['x'], n: 0 } }),
                makeEntry({ deviceId: a, operation: 'delete', field: null, value: null, version: Number.MAX_SAFE_INTEGER }),
                makeEntry({ deviceId: a, pk: 'pk with spaces/and#marks', schemaVersion: Number.MAX_SAFE_INTEGER, value: {} }),
            ]
            await write(a, written)
            expect((await readAll(b, null)).entries).toEqual(written)
        })

        it('delivers the newest entry per field and object to every other device (compaction allowed)', async () => {
            const base = makeEntry({ deviceId: a })
            const at = (deviceId: string, version: number, overrides: Partial<SyncLogEntry> = {}) =>
                makeEntry({ ...base, deviceId, version: base.version + version, ...overrides })
            const lifecycle = { field: null, value: null }
            const writes: Array<[string, SyncLogEntry[]]> = [
                [a, [at(a, 1, { operation: 'create', ...lifecycle, value: { title: 'v1' } }), at(a, 10, { value: 'a10' })]],
                [b, [at(b, 20, { value: 'b20' }), at(b, 20, { field: 'body', value: 'b20' })]],
                [a, [at(a, 15, { value: 'a15' }), at(a, 30, { field: 'body', value: 'a30' })]],
                [c, [at(c, 20, { value: 'c20' }), at(c, 40, { operation: 'delete', ...lifecycle })]],
                [b, [at(b, 35, { field: 'body', value: 'b35' })]],
                [a, [at(a, 50, { operation: 'create', ...lifecycle, value: { title: 'v50' } }), at(a, 50, { field: 'body', value: 'a50' })]],
                [c, [at(c, 60, { value: 'c60' }), at(c, 45, { field: 'body', value: 'c45' })]],
            ]
            for (const [writer, entries] of writes) {
                await write(writer, entries)
            }
            const all = writes.flatMap(([, entries]) => entries)
            for (const reader of [a, b, c]) {
                const delivered = (await readAll(reader, null, 2)).entries
                const others = all.filter((entry) => entry.deviceId !== reader)
                expect(new Set(delivered.map(entryId)).size).toBe(delivered.length)
                const positions = delivered.map((entry) => others.findIndex((other) => entryId(other) === entryId(entry)))
                expect(positions.every((position, index) => position >= 0 && (index === 0 || position > positions[index - 1]))).toBe(true)
                const required = newestPerKey(all).filter((entry) => entry.deviceId !== reader)
                expect(delivered).toEqual(expect.arrayContaining(required))
            }
        })
    })
}

/** The entries last-write-wins needs: newest per field key, minus modifies older than a newer create/delete. */
function newestPerKey(entries: SyncLogEntry[]): SyncLogEntry[] {
    const newest = new Map<string, SyncLogEntry>()
    for (const entry of entries) {
        const current = newest.get(entryFieldKey(entry))
        if (!current || compareEntryVersions(entry, current) > 0) {
            newest.set(entryFieldKey(entry), entry)
        }
    }
    return [...newest.values()].filter((entry) => {
        const lifecycle = newest.get(entryObjectKey(entry) + '#')
        return entry.operation !== 'modify' || !lifecycle || compareEntryVersions(lifecycle, entry) <= 0
    })
}

async function readPages(
    log: SharedSyncLog,
    options: { deviceId: string; cursor: SharedLogCursor | null; limit?: number },
) {
    const pages: SharedLogReadResult[] = []
    let cursor = options.cursor
    for (;;) {
        const page = await log.readEntries({ deviceId: options.deviceId, cursor, limit: options.limit })
        pages.push(page)
        cursor = page.cursor
        if (!page.hasMore) {
            return pages
        }
        if (pages.length > 100_000 || page.entries.length === 0) {
            throw new Error(`readEntries said hasMore but returned ${page.entries.length} entries`)
        }
    }
}

async function readToEnd(
    log: SharedSyncLog,
    options: { deviceId: string; cursor: SharedLogCursor | null; limit?: number },
): Promise<{ entries: SyncLogEntry[]; cursor: SharedLogCursor | null }> {
    const pages = await readPages(log, options)
    return { entries: pages.flatMap((page) => page.entries), cursor: pages[pages.length - 1].cursor }
}
