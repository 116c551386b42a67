import { entryId } from '../entries'
import type { SyncLogEntry } from '../entries/types'
import { createToken } from '../server/auth'
import { createSyncService } from '../server/service'
import type { SyncService } from '../server/service'
import { SqliteDocStore } from '../server/store/sqlite'
import { InvalidSharedLogArgumentError } from './arguments'
import { makeEntries, makeEntry } from './entry-factory'
import { HttpSharedSyncLog, HttpSyncServiceError } from './http'
import type { HttpSharedSyncLogOptions, SyncIdStore } from './http'
import type { SharedLogCursor, SharedSyncLog } from './types'

function syncIdStore(initial: string | null = null): SyncIdStore & { value: string | null } {
    const holder = {
        value: initial,
        get: async () => holder.value,
        set: async (syncId: string) => {
            holder.value = syncId
        },
    }
    return holder
}

async function readAll(log: SharedSyncLog, deviceId: string, cursor: SharedLogCursor | null, limit?: number) {
    const entries: SyncLogEntry[] = []
    for (;;) {
        const page = await log.readEntries({ deviceId, cursor, limit })
        entries.push(...page.entries)
        cursor = page.cursor
        if (!page.hasMore) {
            return { entries, cursor }
        }
    }
}

describe('HttpSharedSyncLog against the service (SQLite :memory:)', () => {
    let service: SyncService
    let store: SqliteDocStore
    let url: string

    beforeEach(async () => {
        store = new SqliteDocStore({ filename: ':memory:' })
        service = await createSyncService({ store, port: 0 })
        url = (await service.listen()).url
    })

    afterEach(() => service.close())

    const newLog = (options: Partial<HttpSharedSyncLogOptions> = {}) =>
        new HttpSharedSyncLog({ url, retry: { retries: 0 }, ...options })
    const storedCount = async () => (await store.listDocs({ userId: 'default', afterSeq: 0, limit: 1000 })).length

    it('retries network errors, 5xx and 429 with exponential backoff and jitter', async () => {
        const sleeps: number[] = []
        const failures: Array<() => Response> = [
            () => { throw new TypeError('fetch failed') },
            () => new Response(JSON.stringify({ error: { code: 'INTERNAL', message: 'x' } }), { status: 503 }),
            () => new Response('<html>bad gateway</html>', { status: 502 }),
            () => new Response('{}', { status: 429 }),
            () => { throw new TypeError('socket hang up') },
        ]
        const log = newLog({
            fetch: async (input, init) => (failures.length ? failures.shift()!() : fetch(input, init)),
            retry: { retries: 5, baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.5, sleep: async (ms) => { sleeps.push(ms) } },
        })
        await log.registerDevice({ deviceId: 'a' })
        expect(sleeps).toEqual([75, 150, 300, 600, 750])
    })

    it('gives up after the retries with SERVICE_UNREACHABLE, and never retries a 4xx', async () => {
        let calls = 0
        const unreachable = newLog({
            fetch: async () => { calls++; throw new TypeError('connection refused') },
            retry: { retries: 2, sleep: async () => {} },
        })
        await expect(unreachable.registerDevice({ deviceId: 'a' })).rejects.toMatchObject({ code: 'SERVICE_UNREACHABLE', status: 0 })
        expect(calls).toBe(3)

        calls = 0
        const counting = newLog({ fetch: async (input, init) => { calls++; return fetch(input, init) }, retry: { retries: 3, sleep: async () => {} } })
        const tooLong = makeEntry({ deviceId: 'a', collection: 'x'.repeat(1100) })
        await expect(counting.writeEntries({ deviceId: 'a', entries: [tooLong] })).rejects.toBeInstanceOf(HttpSyncServiceError)
        await expect(counting.writeEntries({ deviceId: 'a', entries: [tooLong] })).rejects.toMatchObject({ code: 'VALIDATION', status: 400 })
        // One reconcile (first contact) plus one attempt per write.
        expect(calls).toBe(3)
    })

    it('stores a push once when its answer was lost and the retry repeats it', async () => {
        let lost = 1
        const log = newLog({
            fetch: async (input, init) => {
                const response = await fetch(input, init)
                if (String(input).endsWith('/Docs') && lost-- > 0) {
                    throw new TypeError('connection reset after the request was processed')
                }
                return response
            },
            retry: { retries: 2, sleep: async () => {} },
        })
        const entries = makeEntries(3, { deviceId: 'a' })
        await log.writeEntries({ deviceId: 'a', entries })
        expect(lost).toBe(-1)
        expect(await storedCount()).toBe(3)
        expect((await readAll(log, 'b', null)).entries).toEqual(entries)
        expect((await store.listDocs({ userId: 'default', afterSeq: 0, limit: 10 })).map((doc) => doc.seq)).toEqual([1, 2, 3])
    })

    it('on 409 reconciles with the full state, adopts the server SyncId and completes the write', async () => {
        const phone = makeEntries(2, { deviceId: 'phone' })
        const ids = syncIdStore('a-syncid-from-another-server')
        const log = newLog({ syncIdStore: ids, getFullState: async () => phone })
        const fresh = makeEntry({ deviceId: 'phone' })
        await log.writeEntries({ deviceId: 'phone', entries: [fresh] })
        expect(ids.value).toBe(await store.getSyncId())
        const laptop = newLog()
        expect(new Set((await readAll(laptop, 'laptop', null)).entries.map(entryId))).toEqual(new Set([...phone, fresh].map(entryId)))
    })

    it('gives a wiped client everything back, including what it wrote itself under the same device id', async () => {
        const before = newLog()
        const mine = makeEntries(2, { deviceId: 'phone' })
        const theirs = makeEntries(2, { deviceId: 'laptop' })
        await before.writeEntries({ deviceId: 'phone', entries: mine })
        await newLog().writeEntries({ deviceId: 'laptop', entries: theirs })

        const wiped = newLog({ syncIdStore: syncIdStore(null), getFullState: async () => [] })
        const { entries, cursor } = await readAll(wiped, 'phone', null, 3)
        expect(entries).toEqual([...mine, ...theirs])
        // Later changes follow after the returned cursor, and only once.
        const later = makeEntry({ deviceId: 'laptop' })
        await newLog().writeEntries({ deviceId: 'laptop', entries: [later] })
        expect((await readAll(wiped, 'phone', cursor)).entries).toEqual([later])
    })

    it('pages a reconciliation batch with offset cursors that survive a restart by reconciling again', async () => {
        const theirs = makeEntries(4, { deviceId: 'laptop' })
        await newLog().writeEntries({ deviceId: 'laptop', entries: theirs })
        const ids = syncIdStore(null)
        const applied: SyncLogEntry[] = []
        let requests = 0
        const options = {
            syncIdStore: ids,
            getFullState: async () => applied,
            fetch: async (input: string | URL | Request, init?: RequestInit) => { requests++; return fetch(input, init) },
        }
        const phone = newLog(options)
        const first = await phone.readEntries({ deviceId: 'phone', cursor: null, limit: 1 })
        const second = await phone.readEntries({ deviceId: 'phone', cursor: first.cursor, limit: 1 })
        expect([...first.entries, ...second.entries]).toEqual(theirs.slice(0, 2))
        expect(second.cursor).toMatch(new RegExp(`^${ids.value}:4:[0-9a-f]+\\.2$`))
        expect(second.hasMore).toBe(true)
        applied.push(...first.entries, ...second.entries)
        // Inside a batch there is nothing the service could resume from: no request.
        const before = requests
        await phone.acknowledge({ deviceId: 'phone', cursor: second.cursor! })
        expect(requests).toBe(before)

        // After a restart the batch is gone: the next read reconciles with what was applied.
        const restarted = newLog(options)
        expect((await readAll(restarted, 'phone', second.cursor)).entries).toEqual(theirs.slice(2))
    })

    it('refills a reset server from its clients, and a stale cursor then gets what the device lacks', async () => {
        const phoneState = makeEntries(3, { deviceId: 'phone' })
        const laptopState = makeEntries(2, { deviceId: 'laptop' })
        const phone = newLog({ syncIdStore: syncIdStore(), getFullState: async () => phoneState })
        const laptop = newLog({ syncIdStore: syncIdStore(), getFullState: async () => [...laptopState, ...phoneState] })
        await phone.writeEntries({ deviceId: 'phone', entries: phoneState })
        await laptop.writeEntries({ deviceId: 'laptop', entries: laptopState })
        const laptopCursor = (await readAll(laptop, 'laptop', null)).cursor
        const phoneCursor = (await readAll(phone, 'phone', null)).cursor

        await store.reset()
        expect(await storedCount()).toBe(0)
        // The phone's next write is refused (409), it reconciles: the server has its state again.
        const newer = makeEntry({ deviceId: 'phone' })
        await phone.writeEntries({ deviceId: 'phone', entries: [newer] })
        expect(await storedCount()).toBe(4)
        // The laptop reads with a cursor from before the reset: it reconciles too (uploading its
        // entries) and receives exactly what it lacks.
        expect((await readAll(laptop, 'laptop', laptopCursor)).entries).toEqual([newer])
        expect(await storedCount()).toBe(6)
        // The phone receives the laptop's entries again: refilled after the reset, they are new
        // to the server. Receiving an entry twice changes nothing (invariant 2).
        expect((await readAll(phone, 'phone', phoneCursor)).entries).toEqual(laptopState)
    })

    it('sends the token in multi-user mode; a missing token fails with UNAUTHORIZED', async () => {
        const authStore = new SqliteDocStore({ filename: ':memory:' })
        const authService = await createSyncService({ store: authStore, port: 0, auth: true })
        try {
            const authUrl = (await authService.listen()).url
            const token = await createToken({ store: authStore, userId: 'alice' })
            const entries = makeEntries(2, { deviceId: 'a' })
            await new HttpSharedSyncLog({ url: authUrl, token }).writeEntries({ deviceId: 'a', entries })
            expect((await readAll(new HttpSharedSyncLog({ url: authUrl, token }), 'b', null)).entries).toEqual(entries)
            await expect(new HttpSharedSyncLog({ url: authUrl, retry: { retries: 0 } }).registerDevice()).rejects.toMatchObject({
                code: 'UNAUTHORIZED',
                status: 401,
            })
        } finally {
            await authService.close()
        }
    })

    it('refuses cursors it did not issue', async () => {
        const log = newLog()
        for (const cursor of ['3', 'abc', 'x:-1', 'x:1:2:3', '']) {
            await expect(log.readEntries({ deviceId: 'b', cursor })).rejects.toThrow(InvalidSharedLogArgumentError)
        }
    })
})
