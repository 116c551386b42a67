/**
 * Regression tests for issue 14's service findings, on SQLite and PostgreSQL: deep `data` and
 * identifiers with NUL or lone surrogates (strings in data and body encodings are in
 * hostile-encoding.test.ts). None of them may answer 5xx (clients retry 5xx forever) and a refused
 * request stores nothing.
 */
import { main } from './cli'
import { jsonEqual } from './json-values'
import { postgresKind, serviceForEachTest, sqliteKind } from './test-stores'
import type { RawAnswer, TestStoreKind } from './test-stores'

const T0 = Date.parse('2026-01-01T00:00:00.000Z')
const USER = 'default'

/** `levels` nested objects (`{"a":{"a":…1}}`), as JSON text: the depth of the value is `levels`. */
function nestedJson(levels: number): string {
    return '{"a":'.repeat(levels - 1) + '{"a":1}' + '}'.repeat(levels - 1)
}

const kinds: TestStoreKind[] = [sqliteKind(), postgresKind('hostile')]

describe.each(kinds)('hostile input on $name', (kind) => {
    const service = serviceForEachTest(kind, () => T0)
    const { send, post } = service
    const docsBody = (dataJson: string, id = 'deep', clientId = 'c') =>
        `{"clientId":${JSON.stringify(clientId)},"docs":[{"id":${JSON.stringify(id)},"clientVersion":1,"data":${dataJson}}]}`
    const stored = async () => service.store.listDocs({ userId: USER, afterSeq: 0, limit: 1000 })
    const errorOf = (answer: RawAnswer) => ({ status: answer.status, code: answer.body?.error?.code })

    describe('nesting depth of data (limit 128)', () => {
        it('POST /Docs stores data 128 levels deep and refuses 129 and far deeper with 400 DATA_TOO_DEEP', async () => {
            const ok = await post('/Docs', docsBody(nestedJson(128)))
            expect(ok.status).toBe(200)
            expect(ok.body.results[0].status).toBe('created')
            const arrays = '['.repeat(127) + '{}' + ']'.repeat(127) // an object as data holding 126 arrays and an object
            expect((await post('/Docs', docsBody(`{"list":${arrays}}`, 'arrays'))).status).toBe(400)
            expect((await post('/Docs', docsBody(`{"list":${'['.repeat(126)}1${']'.repeat(126)}}`, 'arrays'))).status).toBe(200)
            for (const levels of [129, 4_200, 100_000]) {
                const answer = await post('/Docs', docsBody(nestedJson(levels), `deep-${levels}`))
                expect(errorOf(answer)).toEqual({ status: 400, code: 'DATA_TOO_DEEP' })
            }
            expect((await stored()).map((doc) => doc.id)).toEqual(['deep', 'arrays'])
            const query = await post('/Docs/Query?origin=all', { clientId: 'other' })
            expect(query.body.docs[0].data).toEqual(JSON.parse(nestedJson(128)))
        })

        it('POST /Reconcile merges 128 levels, and refuses 129 levels with 400 before storing anything', async () => {
            const tooDeep = await post('/Reconcile', docsBody(nestedJson(129)))
            expect(errorOf(tooDeep)).toEqual({ status: 400, code: 'DATA_TOO_DEEP' })
            // One deep document among valid ones: the whole request is refused.
            const mixed = `{"clientId":"c","docs":[{"id":"fine","clientVersion":1,"data":{}},{"id":"deep","clientVersion":1,"data":${nestedJson(5_000)}}]}`
            expect(errorOf(await post('/Reconcile', mixed))).toEqual({ status: 400, code: 'DATA_TOO_DEEP' })
            expect(await stored()).toEqual([])

            const ok = await post('/Reconcile', docsBody(nestedJson(128)))
            expect(ok.status).toBe(200)
            expect(ok.body.docs).toEqual([])
            expect((await stored()).map((doc) => doc.id)).toEqual(['deep'])
        })

        it('a client holding a deep document reconciles with a reset server: stored once, answered 200 (it used to commit, then 500)', async () => {
            const body = docsBody(nestedJson(128), 'deep', 'holder')
            expect((await post('/Docs', body)).status).toBe(200)
            await service.store.reset()
            const first = await post('/Reconcile', body)
            expect(first.status).toBe(200)
            expect(first.body.docs).toEqual([])
            const again = await post('/Reconcile', body) // the client's retry changes nothing
            expect(again.status).toBe(200)
            expect(again.body.docs).toEqual([])
            expect((await stored()).map((doc) => [doc.id, doc.seq])).toEqual([['deep', 2]]) // seqs survive a reset; the retry wrote nothing
            // The original finding: a document ~2,700 levels deep was stored by the reconcile, which then
            // answered 500 and was retried forever. Now it is refused before the write.
            await service.store.reset()
            const tooDeep = await post('/Reconcile', docsBody(nestedJson(2_700), 'deeper', 'holder'))
            expect(errorOf(tooDeep)).toEqual({ status: 400, code: 'DATA_TOO_DEEP' })
            expect(await stored()).toEqual([])
            expect((await post('/Reconcile', body)).status).toBe(200)
            // Another client holding an older, different version gets the deep one back.
            const other = await post('/Reconcile', { clientId: 'other', docs: [{ id: 'deep', clientVersion: 1, data: { a: 2 } }] })
            expect(other.status).toBe(200)
            expect(other.body.docs).toHaveLength(1)
            expect(other.body.docs[0].data).toEqual(JSON.parse(nestedJson(128)))
        })

        it('serves a document an older service stored far deeper than the limit, without 500 on /Docs/Query or /Reconcile', async () => {
            const levels = 20_000 // beyond what JSON.stringify handles on the stack
            const dataJson = nestedJson(levels)
            await kind.insertRaw(service.store, { userId: USER, id: 'legacy', clientVersion: 5, clientId: 'old', dataJson, lastUpdateMs: T0 })
            const expected = JSON.parse(dataJson)

            const query = await post('/Docs/Query', { clientId: 'c' })
            expect(query.status).toBe(200)
            expect(query.contentType).toBe('application/json; charset=utf-8')
            expect(jsonEqual(query.body.docs[0].data, expected)).toBe(true)

            for (const held of [[], [{ id: 'legacy', clientVersion: 5, data: JSON.parse(nestedJson(128)) }], [{ id: 'legacy', clientVersion: 4, data: {} }]]) {
                const answer = await post('/Reconcile', { clientId: 'c', docs: held })
                expect([answer.status, answer.contentType]).toEqual([200, 'application/json; charset=utf-8'])
                expect(answer.body.docs.map((doc: { id: string }) => doc.id)).toEqual(['legacy'])
                expect(jsonEqual(answer.body.docs[0].data, expected)).toBe(true)
            }
            // The client cannot send such a document back: it is over the limit now.
            const same = await send('POST', '/Reconcile', `{"clientId":"c","docs":[{"id":"legacy","clientVersion":5,"data":${dataJson}}]}`)
            expect(errorOf(same)).toEqual({ status: 400, code: 'DATA_TOO_DEEP' })
        })

        it('refuses a deep body on routes without documents with a 400, not a 500', async () => {
            const deep = '['.repeat(10_000) + ']'.repeat(10_000)
            for (const path of ['/Docs/Query', '/Devices', '/Devices/d/Ack']) {
                expect(errorOf(await post(path, `{"clientId":${deep}}`))).toEqual({ status: 400, code: 'DATA_TOO_DEEP' })
            }
        })
    })

    describe('identifiers', () => {
        const paired = 'note-\ud83c\udf89' // a valid surrogate pair (🎉)

        it('accepts surrogate pairs and astral characters in every identifier', async () => {
            const answer = await post('/Docs', { clientId: `c-${paired}`, docs: [{ id: paired, clientVersion: 1, data: {} }, { id: 'note-\ud83c\udf8a', clientVersion: 1, data: {} }] })
            expect(answer.status).toBe(200)
            expect((await stored()).map((doc) => doc.id)).toEqual([paired, 'note-\ud83c\udf8a'])
            expect((await post('/Devices', { deviceId: `d-${paired}` })).body).toEqual({ deviceId: `d-${paired}` })
            expect((await send('GET', `/Devices/${encodeURIComponent(`d-${paired}`)}`)).body.cursor).toBe(0)
            expect((await post(`/Devices/${encodeURIComponent(`d-${paired}`)}/Ack`, { cursor: 2 })).body.cursor).toBe(2)
        })

        it('refuses two ids that differ only in a lone surrogate, instead of merging them (last-write-wins stays intact)', async () => {
            const first = await post('/Docs', { clientId: 'c', docs: [{ id: 'k\ud800', clientVersion: 100, data: { v: 100 } }] })
            const second = await post('/Docs', { clientId: 'c', docs: [{ id: 'k\ud801', clientVersion: 1, data: { v: 1 } }] })
            for (const answer of [first, second]) {
                expect(answer.status).toBe(400)
                expect(answer.body.error).toMatchObject({ code: 'INVALID_IDENTIFIER', field: 'body/docs/0/id' })
            }
            expect(await stored()).toEqual([])
        })

        const bad = ['nul\u0000inside', '\u0000', 'lone-high-\ud800', '\udc00lone-low', 'reversed-\udf89\ud83c', 'cut-emoji-\ud83c']
        const doc = (id: string) => ({ id, clientVersion: 1, data: {} })

        it.each(bad.map((value) => [JSON.stringify(value), value]))('refuses %s in every identifier of every route with 400 INVALID_IDENTIFIER', async (_, value) => {
            const cases: Array<[string, string, unknown, string]> = [
                ['POST', '/Docs', { clientId: 'c', docs: [doc('fine'), doc(value)] }, 'body/docs/1/id'],
                ['POST', '/Docs', { clientId: value, docs: [doc('fine')] }, 'body/clientId'],
                ['POST', '/Docs', { clientId: 'c', syncId: value, docs: [doc('fine')] }, 'body/syncId'],
                ['POST', '/Docs/Query', { clientId: value }, 'body/clientId'],
                ['POST', '/Docs/Query', { clientId: 'c', syncId: value }, 'body/syncId'],
                ['POST', '/Reconcile', { clientId: 'c', docs: [doc(value)] }, 'body/docs/0/id'],
                ['POST', '/Reconcile', { clientId: value, docs: [doc('fine')] }, 'body/clientId'],
                ['POST', '/Devices', { deviceId: value }, 'body/deviceId'],
                ['POST', '/Devices/d/Ack', { cursor: 1, syncId: value }, 'body/syncId'],
            ]
            for (const [method, path, body, field] of cases) {
                const answer = await send(method, path, JSON.stringify(body))
                expect([path, answer.status, answer.body?.error]).toEqual([path, 400, { code: 'INVALID_IDENTIFIER', field, message: expect.stringContaining(field) }])
            }
            expect(await stored()).toEqual([])
            expect(await service.store.getDeviceCursor({ userId: USER, deviceId: 'd' })).toBeNull()
        })

        it('refuses NUL in path parameters with 400, and undecodable (lone-surrogate WTF-8) path bytes with 400 BAD_URL', async () => {
            for (const [method, path] of [['GET', '/Devices/a%00b'], ['POST', '/Devices/%00/Ack']]) {
                const answer = await send(method, path, method === 'POST' ? '{"cursor":1}' : undefined)
                expect(answer.status).toBe(400)
                expect(answer.body.error).toMatchObject({ code: 'INVALID_IDENTIFIER', field: 'params/deviceId' })
            }
            for (const [method, path] of [['GET', '/Devices/k%ED%A0%80'], ['POST', '/Devices/k%ED%A0%80/Ack'], ['GET', '/Devices/%FF']]) {
                const answer = await send(method, path, method === 'POST' ? '{"cursor":1}' : undefined)
                expect([path, errorOf(answer)]).toEqual([path, { status: 400, code: 'BAD_URL' }])
            }
        })
    })

})

    it('synclog token create refuses a user name with NUL or a lone surrogate (exit 2), and takes one with a surrogate pair', async () => {
        for (const user of ['a\u0000b', 'a\ud800']) {
            const errors: string[] = []
            const result = await main(['token', 'create', '--user', user, '--db', ':memory:'], { stdout: () => undefined, stderr: (line) => errors.push(line) })
            expect(result.exitCode).toBe(2)
            expect(errors[0]).toContain('--user must be well-formed Unicode')
        }
        const out: string[] = []
        expect((await main(['token', 'create', '--user', 'user-\ud83c\udf89', '--db', ':memory:'], { stdout: (line) => out.push(line) })).exitCode).toBe(0)
    })
