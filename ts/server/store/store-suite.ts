/**
 * The one behaviour suite every DocStore passes (SQLite and PostgreSQL run it). Uses jest globals.
 *
 * `createStore` returns a fresh, initialized, empty store. `reopenStore`, when given, opens a new
 * store on the same database as a closed one (to check the SyncId survives a restart).
 */
import { userInfo } from 'os'
import { SyncError } from '../../errors'
import { InvalidDocumentError, SyncIdMismatchError } from './doc-rules'
import { DocStore, IncomingDoc, StoredDoc } from './types'

/**
 * The PostgreSQL database tests use: SYNCLOG_TEST_POSTGRES_URL, else database `test` on
 * 127.0.0.1:5432 as PGUSER or the OS user (the way psql connects on this machine and in CI).
 */
export function testPostgresUrl(): string {
    return process.env.SYNCLOG_TEST_POSTGRES_URL ?? `postgres://${encodeURIComponent(process.env.PGUSER ?? userInfo().username)}@127.0.0.1:5432/test`
}

export interface DocStoreSuiteOptions {
    reopenStore?: (closed: DocStore) => Promise<DocStore>
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 678)

export function runDocStoreTests(name: string, createStore: () => Promise<DocStore>, options: DocStoreSuiteOptions = {}): void {
    describe(`DocStore: ${name}`, () => {
        let store: DocStore
        const opened: DocStore[] = []

        beforeEach(async () => {
            store = await createStore()
            opened.push(store)
        })
        afterEach(async () => {
            for (const s of opened.splice(0)) {
                await s.close()
            }
        })

        const doc = (id: string, clientVersion: number, data: unknown = { id, clientVersion }, deleted?: boolean): IncomingDoc =>
            deleted === undefined ? { id, clientVersion, data } : { id, clientVersion, data, deleted }
        const upsert = (userId: string, clientId: string, docs: IncomingDoc[], nowMs = T0) =>
            store.upsertDocs({ userId, clientId, docs, nowMs })
        const all = async (userId: string) => (await store.queryDocs({ userId, limit: 1000 })).docs
        const byId = async (userId: string, id: string): Promise<StoredDoc | undefined> => (await store.getDocs({ userId, ids: [id] }))[0]

        describe('SyncId', () => {
            it('is a uuid v4, stable across init() calls', async () => {
                const syncId = await store.getSyncId()
                expect(syncId).toMatch(UUID_V4)
                await store.init()
                expect(await store.getSyncId()).toBe(syncId)
            })

            if (options.reopenStore) {
                it('survives closing and reopening the store', async () => {
                    await upsert('u', 'c', [doc('a', 1)])
                    const syncId = await store.getSyncId()
                    await store.close()
                    opened.splice(opened.indexOf(store), 1)
                    const reopened = await options.reopenStore!(store)
                    opened.push(reopened)
                    expect(await reopened.getSyncId()).toBe(syncId)
                    expect((await reopened.getDocs({ userId: 'u', ids: ['a'] }))[0]?.clientVersion).toBe(1)
                })
            }

            it('reset() wipes docs and devices of all users, issues a new SyncId, keeps tokens and the seq', async () => {
                const before = await store.getSyncId()
                await upsert('u1', 'c', [doc('a', 1), doc('b', 1)])
                await upsert('u2', 'c', [doc('a', 1)])
                await store.registerDevice({ userId: 'u1', deviceId: 'd', nowMs: T0 })
                await store.acknowledge({ userId: 'u1', deviceId: 'd', cursor: 2 })
                await store.createToken({ userId: 'u1', tokenHash: 'h1', nowMs: T0 })

                const after = await store.reset()
                expect(after).toMatch(UUID_V4)
                expect(after).not.toBe(before)
                expect(await store.getSyncId()).toBe(after)
                expect(await all('u1')).toEqual([])
                expect(await all('u2')).toEqual([])
                expect(await store.getDeviceCursor({ userId: 'u1', deviceId: 'd' })).toBeNull()
                expect(await store.findUserByTokenHash('h1')).toBe('u1')

                const [result] = await upsert('u1', 'c', [doc('a', 1)])
                expect(result.status).toBe('created')
                expect(result.seq).toBeGreaterThan(2) // a seq never goes back, so no old cursor can match new data
            })

            it('refuses a write with a stale syncId atomically, accepts the current one', async () => {
                const syncId = await store.getSyncId()
                const error = await store
                    .upsertDocs({ userId: 'u', clientId: 'c', docs: [doc('a', 1)], nowMs: T0, syncId: 'not-the-sync-id' })
                    .catch(e => e)
                expect(error).toBeInstanceOf(SyncIdMismatchError)
                expect(error).toBeInstanceOf(SyncError)
                expect(error.code).toBe('SYNC_ID_MISMATCH')
                expect(error.serverSyncId).toBe(syncId)
                expect(await all('u')).toEqual([])
                const results = await store.upsertDocs({ userId: 'u', clientId: 'c', docs: [doc('a', 1)], nowMs: T0, syncId })
                expect(results[0].status).toBe('created')
            })
        })

        describe('upsert rules', () => {
            it('creates, updates on a higher clientVersion, discards a lower or equal one', async () => {
                expect((await upsert('u', 'c1', [doc('a', 10)]))[0].status).toBe('created')
                expect((await upsert('u', 'c2', [doc('a', 11)]))[0].status).toBe('updated')
                expect((await upsert('u', 'c1', [doc('a', 9)]))[0].status).toBe('discarded')
                expect((await upsert('u', 'c2', [doc('a', 11, { retry: true })]))[0].status).toBe('discarded') // idempotent retry
                const stored = await byId('u', 'a')
                expect(stored).toMatchObject({ clientVersion: 11, clientId: 'c2', data: { id: 'a', clientVersion: 11 } })
            })

            it('breaks clientVersion ties by clientId, so every tie has one answer', async () => {
                await upsert('u', 'm', [doc('a', 5)])
                expect((await upsert('u', 'b', [doc('a', 5)]))[0].status).toBe('discarded')
                expect((await upsert('u', 'z', [doc('a', 5)]))[0].status).toBe('updated')
                expect((await byId('u', 'a'))!.clientId).toBe('z')
            })

            it('always updates when both clientVersions are 0', async () => {
                await upsert('u', 'c', [doc('a', 0, { n: 1 })])
                expect((await upsert('u', 'c', [doc('a', 0, { n: 2 })]))[0].status).toBe('updated')
                expect((await upsert('u', 'a-lower-client', [doc('a', 0, { n: 3 })]))[0].status).toBe('updated')
                expect((await byId('u', 'a'))!.data).toEqual({ n: 3 })
                expect((await upsert('u', 'c', [doc('a', 1, { n: 4 })]))[0].status).toBe('updated')
                expect((await upsert('u', 'c', [doc('a', 0, { n: 5 })]))[0].status).toBe('discarded')
            })

            it('assigns strictly increasing seqs to accepted writes only, and stamps lastUpdateUtc from nowMs', async () => {
                const first = await upsert('u', 'c', [doc('a', 1), doc('b', 1), doc('c', 1)], T0)
                expect(first.map(r => r.seq)).toEqual([1, 2, 3])
                expect(first.map(r => r.lastUpdateUtc)).toEqual(Array(3).fill('2026-01-02T03:04:05.678Z'))
                const second = await upsert('u', 'c', [doc('a', 1), doc('b', 2)], T0 + 1000)
                expect(second).toEqual([
                    { id: 'a', status: 'discarded', lastUpdateUtc: '2026-01-02T03:04:05.678Z', seq: 1 },
                    { id: 'b', status: 'updated', lastUpdateUtc: '2026-01-02T03:04:06.678Z', seq: 4 },
                ])
                const docs = await all('u')
                expect(docs.map(d => [d.id, d.seq, d.lastUpdateUtc])).toEqual([
                    ['a', 1, '2026-01-02T03:04:05.678Z'],
                    ['c', 3, '2026-01-02T03:04:05.678Z'],
                    ['b', 4, '2026-01-02T03:04:06.678Z'],
                ])
                expect((await upsert('u', 'c', [doc('a', 1)]))[0].seq).toBe(1)
                expect((await upsert('u', 'c', [doc('d', 1)]))[0].seq).toBe(5)
            })

            it('returns one result per input doc in input order, applying repeated ids in order', async () => {
                const results = await upsert('u', 'c', [doc('x', 2, { v: 2 }), doc('y', 1), doc('x', 1, { v: 1 }), doc('x', 3, { v: 3 }), doc('x', 3)])
                expect(results.map(r => [r.id, r.status, r.seq])).toEqual([
                    ['x', 'created', 1],
                    ['y', 'created', 2],
                    ['x', 'discarded', 1],
                    ['x', 'updated', 3],
                    ['x', 'discarded', 3],
                ])
                const docs = await all('u')
                expect(docs.map(d => [d.id, d.seq, d.data])).toEqual([
                    ['y', 2, { id: 'y', clientVersion: 1 }],
                    ['x', 3, { v: 3 }],
                ])
            })

            it('returns an empty result for an empty call', async () => {
                expect(await upsert('u', 'c', [])).toEqual([])
            })
        })

        describe('data', () => {
            it('round-trips arbitrary JSON, deleted flags and the largest safe clientVersion exactly', async () => {
                const data = {
                    nested: { deep: { deeper: [1, [2, [3]], { four: 4 }] } },
                    text: 'grüße, 日本語, emoji 🎉, quote " backslash \\ nul \u0000 newline \n',
                    numbers: [0, -1, 1.5, -2.25e-7, 1e21, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER],
                    flags: [true, false, null],
                    empty: {},
                    emptyList: [],
                }
                await upsert('u', 'c', [
                    { id: 'full', clientVersion: Number.MAX_SAFE_INTEGER, data },
                    { id: 'gone', clientVersion: 7, data: null, deleted: true },
                    { id: 'plain', clientVersion: 0, data: null },
                    { id: 'ünï 🎉 /?&=', clientVersion: 1, data: { a: 1 }, deleted: false },
                ])
                const docs = await store.getDocs({ userId: 'u', ids: ['full', 'gone', 'plain', 'ünï 🎉 /?&='] })
                expect(docs).toEqual([
                    { id: 'full', clientVersion: Number.MAX_SAFE_INTEGER, data, deleted: false, clientId: 'c', lastUpdateUtc: expect.any(String), seq: 1 },
                    { id: 'gone', clientVersion: 7, data: null, deleted: true, clientId: 'c', lastUpdateUtc: expect.any(String), seq: 2 },
                    { id: 'plain', clientVersion: 0, data: null, deleted: false, clientId: 'c', lastUpdateUtc: expect.any(String), seq: 3 },
                    { id: 'ünï 🎉 /?&=', clientVersion: 1, data: { a: 1 }, deleted: false, clientId: 'c', lastUpdateUtc: expect.any(String), seq: 4 },
                ])
                expect(JSON.stringify(docs[0].data)).toBe(JSON.stringify(data)) // key order too
                expect((await upsert('u', 'c', [{ id: 'full', clientVersion: Number.MAX_SAFE_INTEGER - 1, data: null }]))[0].status).toBe('discarded')
            })

            it('rejects bad documents with InvalidDocumentError and stores nothing of the call', async () => {
                const bad: unknown[] = [
                    { id: 'x', clientVersion: Number.MAX_SAFE_INTEGER + 1, data: null },
                    { id: 'x', clientVersion: 1.5, data: null },
                    { id: 'x', clientVersion: -1, data: null },
                    { id: 'x', clientVersion: NaN, data: null },
                    { id: 'x', clientVersion: '5', data: null },
                    { id: '', clientVersion: 1, data: null },
                    { id: 'x'.repeat(1025), clientVersion: 1, data: null },
                    { id: 7, clientVersion: 1, data: null },
                    { id: 'x', clientVersion: 1 },
                    { id: 'x', clientVersion: 1, data: 'text' },
                    { id: 'x', clientVersion: 1, data: null, deleted: 'yes' },
                    { id: 'x', clientVersion: 1, data: { big: BigInt(1) } },
                ]
                for (const badDoc of bad) {
                    const error = await upsert('u', 'c', [doc('good', 1), badDoc as IncomingDoc]).catch(e => e)
                    expect(error).toBeInstanceOf(InvalidDocumentError)
                    expect(error).toBeInstanceOf(SyncError)
                    expect(error.code).toBe('INVALID_DOCUMENT')
                    expect(error.index).toBe(1)
                }
                expect(await all('u')).toEqual([])
                expect((await upsert('u', 'c', [doc('x'.repeat(1024), 1)]))[0]).toMatchObject({ status: 'created', seq: 1 })
            })
        })

        describe('identifiers and hostile strings (issue 14)', () => {
            const bad = ['a\u0000b', 'k\ud800', '\udc00', 'cut\ud83c']

            it('refuses NUL and lone surrogates in every key with INVALID_IDENTIFIER, storing nothing', async () => {
                for (const value of bad) {
                    const attempts: Array<[() => Promise<unknown>, string]> = [
                        [() => upsert(value, 'c', [doc('a', 1)]), 'userId'],
                        [() => upsert('u', value, [doc('a', 1)]), 'clientId'],
                        [() => upsert('u', 'c', [doc('fine', 1), doc(value, 1)]), 'docs/1/id'],
                        [() => store.queryDocs({ userId: value, limit: 10 }), 'userId'],
                        [() => store.queryDocs({ userId: 'u', excludeClientId: value, limit: 10 }), 'excludeClientId'],
                        [() => store.getDocs({ userId: 'u', ids: ['fine', value] }), 'ids/1'],
                        [() => store.listDocs({ userId: value, afterSeq: 0, limit: 10 }), 'userId'],
                        [() => store.registerDevice({ userId: 'u', deviceId: value, nowMs: T0 }), 'deviceId'],
                        [() => store.acknowledge({ userId: 'u', deviceId: value, cursor: 1 }), 'deviceId'],
                        [() => store.getDeviceCursor({ userId: 'u', deviceId: value }), 'deviceId'],
                        [() => store.createToken({ userId: value, tokenHash: 'h', nowMs: T0 }), 'userId'],
                    ]
                    for (const [attempt, field] of attempts) {
                        const error = await attempt().then(() => undefined, (e: unknown) => e)
                        expect(error).toBeInstanceOf(SyncError)
                        expect(error).toMatchObject({ code: 'INVALID_IDENTIFIER', field })
                    }
                }
                expect(await all('u')).toEqual([])
                expect(await store.findUserByTokenHash('h')).toBeNull()
            })

            it('keeps ids that differ only after a surrogate pair apart', async () => {
                await upsert('u\ud83c\udf89', 'c\ud83c\udf89', [doc('k\ud83c\udf89', 100), doc('k\ud83c\udf8a', 1)])
                expect((await upsert('u\ud83c\udf89', 'c', [doc('k\ud83c\udf89', 1)]))[0].status).toBe('discarded')
                expect((await all('u\ud83c\udf89')).map((d) => [d.id, d.clientVersion])).toEqual([['k\ud83c\udf89', 100], ['k\ud83c\udf8a', 1]])
            })

            it('round-trips lone surrogates and NUL inside data exactly, in values and keys', async () => {
                const data = {
                    lone: ['\ud800', '\udfff', 'cut \ud83c', '\udf89 first', 'a\ud800b\udc00c'],
                    nul: ['\u0000', 'a\u0000b'],
                    'key \u0000 nul': { 'key \ud800 lone': '\udbff\u0000' },
                    pair: '\ud83c\udf89',
                }
                await upsert('u', 'c', [doc('hostile', 1, data)])
                const [read] = await store.getDocs({ userId: 'u', ids: ['hostile'] })
                expect(read.data).toStrictEqual(data)
                expect(JSON.stringify(read.data)).toBe(JSON.stringify(data))
                expect((await all('u'))[0].data).toStrictEqual(data)
            })
        })

        describe('users', () => {
            it('isolates documents and seqs per user', async () => {
                await upsert('alice', 'c', [doc('shared', 5, { owner: 'alice' }), doc('only-alice', 1)])
                const bob = await upsert('bob', 'c', [doc('shared', 1, { owner: 'bob' })])
                expect(bob[0]).toMatchObject({ status: 'created', seq: 1 })
                expect((await byId('alice', 'shared'))!.data).toEqual({ owner: 'alice' })
                expect((await all('bob')).map(d => d.id)).toEqual(['shared'])
                expect(await store.getDocs({ userId: 'bob', ids: ['only-alice'] })).toEqual([])
                expect(await store.listDocs({ userId: 'bob', afterSeq: 0, limit: 10 })).toHaveLength(1)
                expect((await store.queryDocs({ userId: 'nobody', limit: 10 })).docs).toEqual([])
            })
        })

        describe('queries', () => {
            beforeEach(async () => {
                await upsert('u', 'c1', [doc('a', 1), doc('b', 1)], T0) // seq 1, 2
                await upsert('u', 'c2', [doc('c', 1)], T0 + 10) // seq 3
                await upsert('u', 'c1', [doc('d', 1)], T0 + 20) // seq 4
                await upsert('u', 'c2', [doc('a', 2)], T0 + 30) // seq 5
                await upsert('other', 'c2', [doc('z', 1)], T0 + 30)
            })
            const ids = (docs: StoredDoc[]) => docs.map(d => d.id)

            it('returns documents in seq order, filtered by sinceSeq, excludeClientId and sinceUtcMs', async () => {
                expect(ids((await store.queryDocs({ userId: 'u', limit: 10 })).docs)).toEqual(['b', 'c', 'd', 'a'])
                expect(ids((await store.queryDocs({ userId: 'u', sinceSeq: 3, limit: 10 })).docs)).toEqual(['d', 'a'])
                expect(ids((await store.queryDocs({ userId: 'u', excludeClientId: 'c1', limit: 10 })).docs)).toEqual(['c', 'a'])
                expect(ids((await store.queryDocs({ userId: 'u', excludeClientId: 'c2', limit: 10 })).docs)).toEqual(['b', 'd'])
                expect(ids((await store.queryDocs({ userId: 'u', sinceUtcMs: T0 + 10, limit: 10 })).docs)).toEqual(['c', 'd', 'a'])
                expect(ids((await store.queryDocs({ userId: 'u', sinceUtcMs: T0 + 11, limit: 10 })).docs)).toEqual(['d', 'a'])
                expect(
                    ids((await store.queryDocs({ userId: 'u', sinceUtcMs: T0 + 10, sinceSeq: 3, excludeClientId: 'c1', limit: 10 })).docs),
                ).toEqual(['a'])
            })

            it('pages with limit, hasMore and cursor', async () => {
                const page1 = await store.queryDocs({ userId: 'u', limit: 2 })
                expect([ids(page1.docs), page1.cursor, page1.hasMore]).toEqual([['b', 'c'], 3, true])
                const page2 = await store.queryDocs({ userId: 'u', sinceSeq: page1.cursor, limit: 2 })
                expect([ids(page2.docs), page2.cursor, page2.hasMore]).toEqual([['d', 'a'], 5, false])
                const page3 = await store.queryDocs({ userId: 'u', sinceSeq: page2.cursor, limit: 2 })
                expect(page3).toEqual({ docs: [], cursor: 5, hasMore: false })
                expect(await store.queryDocs({ userId: 'u', sinceSeq: 99, limit: 2 })).toEqual({ docs: [], cursor: 99, hasMore: false })
                expect(await store.queryDocs({ userId: 'nobody', limit: 2 })).toEqual({ docs: [], cursor: 0, hasMore: false })
                const filtered = await store.queryDocs({ userId: 'u', excludeClientId: 'c2', limit: 1 })
                expect([ids(filtered.docs), filtered.cursor, filtered.hasMore]).toEqual([['b'], 2, true])
                // A page that ends the query passes the documents it left out: c2's own 'a' (seq 5)
                // is not walked again by c2's next query.
                const rest = await store.queryDocs({ userId: 'u', excludeClientId: 'c2', sinceSeq: filtered.cursor, limit: 1 })
                expect([ids(rest.docs), rest.cursor, rest.hasMore]).toEqual([['d'], 5, false])
                expect(await store.queryDocs({ userId: 'u', excludeClientId: 'c2', sinceSeq: 4, limit: 5 })).toEqual({ docs: [], cursor: 5, hasMore: false })
            })

            it('lists all documents of a user in seq order, paged', async () => {
                const page1 = await store.listDocs({ userId: 'u', afterSeq: 0, limit: 3 })
                expect(page1.map(d => [d.id, d.seq])).toEqual([['b', 2], ['c', 3], ['d', 4]])
                const page2 = await store.listDocs({ userId: 'u', afterSeq: 4, limit: 3 })
                expect(page2.map(d => [d.id, d.seq])).toEqual([['a', 5]])
                expect(await store.listDocs({ userId: 'u', afterSeq: 5, limit: 3 })).toEqual([])
            })

            it('gets documents by id, in the order asked, leaving out missing ones', async () => {
                const docs = await store.getDocs({ userId: 'u', ids: ['d', 'missing', 'a', 'd', 'z'] })
                expect(docs.map(d => [d.id, d.clientVersion, d.clientId])).toEqual([['d', 1, 'c1'], ['a', 2, 'c2']])
                expect(await store.getDocs({ userId: 'u', ids: [] })).toEqual([])
                const many = Array.from({ length: 1200 }, (_, i) => `id-${i}`).concat(['c'])
                expect((await store.getDocs({ userId: 'u', ids: many })).map(d => d.id)).toEqual(['c'])
            })
        })

        describe('devices', () => {
            it('registers idempotently and only moves the acknowledged cursor forward', async () => {
                expect(await store.getDeviceCursor({ userId: 'u', deviceId: 'd' })).toBeNull()
                await store.registerDevice({ userId: 'u', deviceId: 'd', nowMs: T0 })
                await store.registerDevice({ userId: 'u', deviceId: 'd', nowMs: T0 + 1 })
                expect(await store.getDeviceCursor({ userId: 'u', deviceId: 'd' })).toBe(0)
                await store.acknowledge({ userId: 'u', deviceId: 'd', cursor: 5 })
                await store.acknowledge({ userId: 'u', deviceId: 'd', cursor: 3 })
                expect(await store.getDeviceCursor({ userId: 'u', deviceId: 'd' })).toBe(5)
                await store.registerDevice({ userId: 'u', deviceId: 'd', nowMs: T0 + 2 })
                expect(await store.getDeviceCursor({ userId: 'u', deviceId: 'd' })).toBe(5)
                await store.acknowledge({ userId: 'u', deviceId: 'd', cursor: 8 })
                expect(await store.getDeviceCursor({ userId: 'u', deviceId: 'd' })).toBe(8)
                expect(await store.getDeviceCursor({ userId: 'other', deviceId: 'd' })).toBeNull()
            })
        })

        describe('tokens', () => {
            it('finds the user of a token hash', async () => {
                await store.createToken({ userId: 'alice', tokenHash: 'hash-a', nowMs: T0 })
                await store.createToken({ userId: 'bob', tokenHash: 'hash-b', nowMs: T0 })
                await store.createToken({ userId: 'alice', tokenHash: 'hash-a2', nowMs: T0 })
                expect(await store.findUserByTokenHash('hash-a')).toBe('alice')
                expect(await store.findUserByTokenHash('hash-a2')).toBe('alice')
                expect(await store.findUserByTokenHash('hash-b')).toBe('bob')
                expect(await store.findUserByTokenHash('unknown')).toBeNull()
                await store.createToken({ userId: 'alice', tokenHash: 'hash-a', nowMs: T0 }) // idempotent
                await expect(store.createToken({ userId: 'bob', tokenHash: 'hash-a', nowMs: T0 })).rejects.toBeInstanceOf(SyncError)
                expect(await store.findUserByTokenHash('hash-a')).toBe('alice')
            })
        })
    })
}
