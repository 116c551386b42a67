import { createSyncService } from './service'
import type { SyncService, SyncServiceOptions } from './service'
import { SqliteDocStore } from './store/sqlite'
import { sendRequest } from './test-client'
import type { TestRequest, TestResponse } from './test-client'

const T0 = Date.parse('2026-01-01T00:00:00.000Z')

describe('sync service routes (SQLite :memory:)', () => {
    let service: SyncService
    let app: { inject(options: TestRequest): Promise<TestResponse> }
    let store: SqliteDocStore
    let clock: number

    async function start(options: Partial<SyncServiceOptions> = {}) {
        store = new SqliteDocStore({ filename: ':memory:' })
        clock = T0
        let devices = 0
        service = await createSyncService({ store, port: 0, now: () => clock, generateDeviceId: () => `generated-${++devices}`, ...options })
        const { url } = await service.listen()
        app = { inject: (request) => sendRequest(url, request) }
    }

    afterEach(async () => {
        await service?.close()
    })

    const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
        app.inject({ method: 'POST', url, payload: payload as object, headers })
    const docs = (clientId: string, list: unknown[], extra: object = {}) => post('/Docs', { clientId, docs: list, ...extra })
    const query = async (clientId: string, qs = '') => (await post(`/Docs/Query${qs}`, { clientId })).json()
    const doc = (id: string, clientVersion: number, data: object | null = { v: clientVersion }) => ({ id, clientVersion, data })
    const errorOf = (response: TestResponse) => ({ status: response.statusCode, code: response.json().error?.code })

    describe('single user', () => {
        beforeEach(() => start())

        it('answers /health and /SyncId', async () => {
            expect((await app.inject({ url: '/health' })).json()).toEqual({ status: 'ok' })
            const { syncId } = (await app.inject({ url: '/SyncId' })).json()
            expect(syncId).toBe(await store.getSyncId())
        })

        it('runs the seed workflow: upload, then query changes of other clients since a time', async () => {
            const first = await docs('client-a', [doc('note-1', 1), doc('note-2', 1)])
            expect(first.statusCode).toBe(200)
            const syncId = await store.getSyncId()
            expect(first.json()).toEqual({
                syncId,
                results: [
                    { id: 'note-1', status: 'created', lastUpdateUtc: '2026-01-01T00:00:00.000Z' },
                    { id: 'note-2', status: 'created', lastUpdateUtc: '2026-01-01T00:00:00.000Z' },
                ],
            })
            clock = T0 + 60_000
            await docs('client-b', [doc('note-3', 5), { ...doc('note-1', 2, null), deleted: true }])

            const forA = await query('client-a', '?origin=other&sinceUtc=2026-01-01T00:00:00.000Z')
            expect(forA.docs).toEqual([
                { id: 'note-3', clientVersion: 5, data: { v: 5 }, deleted: false, lastUpdateUtc: '2026-01-01T00:01:00.000Z', seq: 3 },
                { id: 'note-1', clientVersion: 2, data: null, deleted: true, lastUpdateUtc: '2026-01-01T00:01:00.000Z', seq: 4 },
            ])
            expect(forA).toMatchObject({ syncId, cursor: 4, hasMore: false })
            // origin defaults to 'other'; B sees what A last wrote, not its own documents.
            expect((await query('client-b')).docs.map((d: { id: string }) => d.id)).toEqual(['note-2'])
            expect((await query('client-b', '?origin=all')).docs.map((d: { id: string }) => d.id)).toEqual(['note-2', 'note-3', 'note-1'])
        })

        it('takes sinceUtc as ISO-8601 or ms since epoch, inclusive', async () => {
            await docs('a', [doc('early', 1)])
            clock = T0 + 1000
            await docs('a', [doc('late', 1)])
            for (const since of ['2026-01-01T00:00:01.000Z', String(T0 + 1000), '2026-01-01T01:00:01%2B01:00']) {
                expect((await query('b', `?sinceUtc=${since}`)).docs.map((d: { id: string }) => d.id)).toEqual(['late'])
            }
            expect((await query('b', `?sinceUtc=${T0 + 1001}`)).docs).toEqual([])
            expect((await query('b', '?sinceUtc=2026-01-01')).docs).toHaveLength(2)
            expect(errorOf(await post('/Docs/Query?sinceUtc=yesterday', { clientId: 'b' }))).toEqual({ status: 400, code: 'VALIDATION' })
        })

        it('discards older and equal versions, but lets clientVersion 0 overwrite 0', async () => {
            await docs('a', [doc('x', 5), doc('zero', 0, { n: 1 })])
            clock = T0 + 5
            const response = (await docs('b', [doc('x', 4), doc('x', 5, { other: true }), doc('zero', 0, { n: 2 })])).json()
            expect(response.results.map((r: { status: string }) => r.status)).toEqual(['discarded', 'updated', 'updated'])
            // Equal versions are ordered by clientId, like the library orders (version, deviceId).
            clock = T0 + 9
            const retry = (await docs('a', [doc('x', 5)])).json()
            expect(retry.results[0]).toEqual({ id: 'x', status: 'discarded', lastUpdateUtc: '2026-01-01T00:00:00.005Z' })
            const stored = await store.getDocs({ userId: 'default', ids: ['x', 'zero'] })
            expect(stored.map((d) => [d.id, d.clientVersion, d.clientId, d.data])).toEqual([
                ['x', 5, 'b', { other: true }],
                ['zero', 0, 'b', { n: 2 }],
            ])
            // The same client retrying the same version is a no-op.
            const again = (await docs('b', [doc('x', 5, { other: true })])).json()
            expect(again.results[0].status).toBe('discarded')
            expect(again.results[0].lastUpdateUtc).toBe('2026-01-01T00:00:00.005Z')
        })

        it('pages with since, limit, cursor and hasMore', async () => {
            await docs('a', Array.from({ length: 7 }, (_, i) => doc(`d${i}`, 1)))
            const first = await query('b', '?limit=3')
            expect([first.docs.length, first.cursor, first.hasMore]).toEqual([3, 3, true])
            const second = await query('b', `?since=${first.cursor}&limit=3`)
            expect(second.docs.map((d: { id: string }) => d.id)).toEqual(['d3', 'd4', 'd5'])
            const last = await query('b', `?since=${second.cursor}&limit=3`)
            expect([last.docs.length, last.cursor, last.hasMore]).toEqual([1, 7, false])
            expect(await query('b', '?since=7')).toMatchObject({ docs: [], cursor: 7, hasMore: false })
        })

        it('answers 409 with the server SyncId on a mismatching SyncId (body or header) and stores nothing', async () => {
            const syncId = await store.getSyncId()
            for (const response of [
                await docs('a', [doc('x', 1)], { syncId: 'stale' }),
                await post('/Docs', { clientId: 'a', docs: [doc('x', 1)] }, { 'x-sync-id': 'stale' }),
                await post('/Docs/Query', { clientId: 'a', syncId: 'stale' }),
                await post('/Devices/d/Ack', { cursor: 0 }, { 'x-sync-id': 'stale' }),
            ]) {
                expect(response.statusCode).toBe(409)
                expect(response.json()).toEqual({ error: { code: 'SYNC_ID_MISMATCH', message: expect.any(String) }, syncId })
            }
            expect(await store.getDocs({ userId: 'default', ids: ['x'] })).toEqual([])
            expect((await post('/Docs', { clientId: 'a', syncId, docs: [doc('x', 1)] }, { 'x-sync-id': syncId })).statusCode).toBe(200)
        })

        it('refuses malformed JSON, wrong types and unknown fields with a JSON 400, storing nothing', async () => {
            const bad = [
                app.inject({ method: 'POST', url: '/Docs', payload: '{"clientId": "a", "docs": [', headers: { 'content-type': 'application/json' } }),
                app.inject({ method: 'POST', url: '/Docs', payload: '', headers: { 'content-type': 'application/json' } }),
                docs('a', [doc('x', 1)], { extra: 1 }),
                docs('a', [{ ...doc('x', 1), extra: 1 }]),
                docs('a', [doc('x', -1)]),
                docs('a', [doc('x', 1.5)]),
                docs('a', [{ id: 'x', clientVersion: '1', data: {} }]),
                docs('a', [{ id: 'x', clientVersion: Number.MAX_SAFE_INTEGER + 2, data: {} }]),
                docs('a', [{ id: 'x', clientVersion: 1, data: [1] }]),
                docs('a', [{ id: 'x', clientVersion: 1, data: 'text' }]),
                docs('a', [{ id: '', clientVersion: 1, data: {} }]),
                docs('a', [{ ...doc('x', 1), deleted: 'yes' }]),
                docs('a', [{ id: 'x', clientVersion: 1 }]),
                post('/Docs', { docs: [doc('x', 1)] }),
                post('/Docs', { clientId: 7, docs: [doc('x', 1)] }),
                post('/Docs', [doc('x', 1)]),
                post('/Docs/Query', { clientId: 'a', unknown: true }),
                post('/Docs/Query?origin=mine', { clientId: 'a' }),
                post('/Docs/Query?limit=0', { clientId: 'a' }),
                post('/Docs/Query?since=-1', { clientId: 'a' }),
                post('/Docs/Query?what=1', { clientId: 'a' }),
                post('/Devices', { deviceId: 5 }),
                post('/Devices/d/Ack', { cursor: 'x' }),
                post('/Reconcile', { clientId: 'a', docs: [doc('x', 1)], extra: true }),
            ]
            for (const response of await Promise.all(bad)) {
                expect(response.statusCode).toBe(400)
                expect(response.json()).toEqual({ error: { code: expect.stringMatching(/^(MALFORMED_JSON|VALIDATION)$/), message: expect.any(String) } })
            }
            expect(await store.listDocs({ userId: 'default', afterSeq: 0, limit: 10 })).toEqual([])
        })

        it('answers other content types, bodiless posts and over-long path parameters with JSON errors', async () => {
            const form = await app.inject({ method: 'POST', url: '/Docs', payload: 'clientId=a', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
            expect(errorOf(form)).toEqual({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' })
            expect(errorOf(await app.inject({ method: 'POST', url: '/Docs' }))).toEqual({ status: 400, code: 'VALIDATION' })
            expect(errorOf(await app.inject({ method: 'POST', url: '/Docs', payload: 'null' }))).toEqual({ status: 400, code: 'VALIDATION' })
            expect(errorOf(await app.inject({ url: `/Devices/${'x'.repeat(257)}` }))).toEqual({ status: 400, code: 'VALIDATION' })
            expect(errorOf(await app.inject({ url: `/Devices/${'x'.repeat(1025)}` }))).toEqual({ status: 414, code: 'URI_TOO_LONG' })
            const proto = await app.inject({ method: 'POST', url: '/Docs', payload: '{"clientId":"a","docs":[],"__proto__":{"x":1}}' })
            expect(errorOf(proto)).toEqual({ status: 400, code: 'MALFORMED_JSON' })
        })

        it('answers unknown routes and methods with a JSON 404', async () => {
            for (const response of [await app.inject({ url: '/nope' }), await app.inject({ method: 'DELETE', url: '/Docs' })]) {
                expect(errorOf(response)).toEqual({ status: 404, code: 'NOT_FOUND' })
            }
        })

        it('registers devices, issuing an id when none is given, and keeps acknowledged cursors', async () => {
            expect((await post('/Devices', {})).json()).toEqual({ deviceId: 'generated-1' })
            expect((await post('/Devices', { deviceId: 'phone' })).json()).toEqual({ deviceId: 'phone' })
            expect((await app.inject({ url: '/Devices/phone' })).json()).toMatchObject({ deviceId: 'phone', cursor: 0 })
            await docs('a', [doc('x', 1), doc('y', 1)])
            expect((await post('/Devices/phone/Ack', { cursor: 2 })).json()).toMatchObject({ deviceId: 'phone', cursor: 2 })
            expect((await app.inject({ url: '/Devices/phone' })).json()).toMatchObject({ cursor: 2 })
            expect((await app.inject({ url: '/Devices/unknown' })).json()).toMatchObject({ cursor: null })
        })
    })

    describe('limits', () => {
        beforeEach(() => start({ limits: { bodyBytes: 2000, docsPerRequest: 3, idLength: 10, dataBytes: 50, reconcileDocs: 4 } }))

        it('answers 413 for a too large body and too many documents, 400 for long ids and large data', async () => {
            const big = await docs('a', [doc('x', 1, { text: 'x'.repeat(3000) })])
            expect(errorOf(big)).toEqual({ status: 413, code: 'BODY_TOO_LARGE' })
            expect(errorOf(await docs('a', [doc('a', 1), doc('b', 1), doc('c', 1), doc('d', 1)]))).toEqual({ status: 413, code: 'TOO_MANY_DOCS' })
            expect(errorOf(await post('/Reconcile', { clientId: 'a', docs: ['a', 'b', 'c', 'd', 'e'].map((id) => doc(id, 1)) }))).toEqual({
                status: 413,
                code: 'TOO_MANY_DOCS',
            })
            expect(errorOf(await docs('a', [doc('x'.repeat(11), 1)]))).toEqual({ status: 400, code: 'VALIDATION' })
            expect(errorOf(await docs('a', [doc('ok', 1), doc('x', 1, { text: 'y'.repeat(50) })]))).toEqual({ status: 400, code: 'DATA_TOO_LARGE' })
            expect((await docs('a', [doc('x'.repeat(10), 1, { text: 'y'.repeat(30) })])).statusCode).toBe(200)
            expect((await store.listDocs({ userId: 'default', afterSeq: 0, limit: 10 })).map((d) => d.id)).toEqual(['x'.repeat(10)])
        })
    })
})
