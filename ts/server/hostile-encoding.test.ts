/**
 * Regression tests for issue 14's service findings, on SQLite and PostgreSQL: strings in `data`
 * with lone surrogates or NUL (kept exactly, never refused), and bodies that are not UTF-8 or
 * declare another charset (refused with a 4xx, never replaced). A refused request stores nothing.
 */
import { createSyncService } from './service'
import { postgresKind, serviceForEachTest, sqliteKind } from './test-stores'
import type { RawAnswer, TestStoreKind } from './test-stores'

const T0 = Date.parse('2026-01-01T00:00:00.000Z')
const USER = 'default'

const kinds: TestStoreKind[] = [sqliteKind(), postgresKind('encoding')]

describe.each(kinds)('hostile strings and encodings on $name', (kind) => {
    const service = serviceForEachTest(kind, () => T0)
    const { send, post } = service
    const stored = async () => service.store.listDocs({ userId: USER, afterSeq: 0, limit: 1000 })
    const errorOf = (answer: RawAnswer) => ({ status: answer.status, code: answer.body?.error?.code })

    describe('strings inside data', () => {
        const hostile = {
            lone: ['\ud800', '\udbff', '\udc00', '\udfff', 'title cut in an emoji \ud83c', '\udf89 tail first', 'x\ud800y\udc00z'],
            nul: ['\u0000', 'a\u0000b', '\u0000\u0000'],
            pairs: ['\ud83c\udf89', '𝄞', '\ufffd', '\uffff'],
            'key\u0000with nul': 1,
            'key \ud800 lone': { inner: '\udfff' },
            '\ud83c\udf89': ['\u0000', '\ud800'],
        }

        it('round-trip exactly through POST /Docs, /Docs/Query and /Reconcile (never refused, never replaced)', async () => {
            const written = await post('/Docs', { clientId: 'a', docs: [{ id: 'n1', clientVersion: 1, data: hostile }] })
            expect(written.status).toBe(200)
            const query = await post('/Docs/Query', { clientId: 'b' })
            expect(query.body.docs[0].data).toStrictEqual(hostile)
            expect(JSON.stringify(query.body.docs[0].data)).toBe(JSON.stringify(hostile)) // key order, every code unit
            expect(query.text).toContain('\\ud800') // escaped on the wire: the answer is valid UTF-8
            expect((await service.store.getDocs({ userId: USER, ids: ['n1'] }))[0].data).toStrictEqual(hostile)

            const reconcile = await post('/Reconcile', { clientId: 'b', docs: [{ id: 'n2', clientVersion: 1, data: { t: '\ud800\u0000' } }] })
            expect(reconcile.body.docs.map((doc: { data: unknown }) => doc.data)).toStrictEqual([hostile])
            expect((await service.store.getDocs({ userId: USER, ids: ['n2'] }))[0].data).toStrictEqual({ t: '\ud800\u0000' })
            // Equal content is recognised as equal: a client holding exactly this gets nothing back.
            expect((await post('/Reconcile', { clientId: 'b', docs: [{ id: 'n1', clientVersion: 1, data: hostile }, { id: 'n2', clientVersion: 1, data: { t: '\ud800\u0000' } }] })).body.docs).toEqual([])
            const differs = await post('/Reconcile', { clientId: 'b', docs: [{ id: 'n1', clientVersion: 1, data: { ...hostile, lone: ['\ud801'] } }] })
            expect(differs.body.docs.map((doc: { id: string; data: unknown }) => [doc.id, doc.data])).toStrictEqual([['n1', hostile], ['n2', { t: '\ud800\u0000' }]])
        })
    })

    describe('body encoding', () => {
        const ascii = (text: string) => new TextEncoder().encode(text)
        const withBytes = (before: string, bytes: number[], after: string) => new Uint8Array([...ascii(before), ...bytes, ...ascii(after)])
        const prefix = '{"clientId":"c","docs":[{"id":"n","clientVersion":1,"data":{"t":"'
        const suffix = '"}}]}'

        it('refuses bytes that are not UTF-8 with 400 INVALID_ENCODING instead of replacing them', async () => {
            const invalid = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0x80]]
            for (const bytes of invalid) {
                for (const path of ['/Docs', '/Reconcile']) {
                    expect(errorOf(await send('POST', path, withBytes(prefix, bytes, suffix)))).toEqual({ status: 400, code: 'INVALID_ENCODING' })
                }
            }
            expect(errorOf(await send('POST', '/Devices', withBytes('{"deviceId":"', [0xfe], '"}')))).toEqual({ status: 400, code: 'INVALID_ENCODING' })
            expect(await stored()).toEqual([])
            // Valid multi-byte UTF-8 is fine.
            expect((await send('POST', '/Docs', withBytes(prefix, [0xf0, 0x9f, 0x8e, 0x89, 0xc3, 0xbc], suffix))).status).toBe(200)
            expect((await stored())[0].data).toEqual({ t: '🎉ü' })
        })

        it('refuses a body declaring a charset other than UTF-8 with 415 UNSUPPORTED_CHARSET, accepts UTF-8 spelled any way', async () => {
            const json = JSON.stringify({ clientId: 'c', docs: [{ id: 'n', clientVersion: 1, data: { t: 'ü' } }] })
            const utf16 = new Uint8Array(Buffer.from(json, 'utf16le'))
            for (const contentType of ['application/json; charset=utf-16', 'application/json; charset=UTF-16LE', 'application/json;charset="latin1"']) {
                const answer = await send('POST', '/Docs', utf16, contentType)
                expect([contentType, errorOf(answer)]).toEqual([contentType, { status: 415, code: 'UNSUPPORTED_CHARSET' }])
            }
            expect(errorOf(await send('POST', '/Docs', ascii(json), 'application/json; charset=utf-8; charset=utf-16'))).toEqual({
                status: 415,
                code: 'UNSUPPORTED_CHARSET',
            })
            expect(await stored()).toEqual([])
            for (const contentType of ['application/json; charset=utf-8', 'application/json; charset=UTF-8', 'application/json;charset="utf-8"', 'Application/JSON']) {
                expect([contentType, (await send('POST', '/Docs', ascii(json), contentType)).status]).toEqual([contentType, 200])
            }
        })

        it('keeps the other refusals: 413 too large, 400 malformed or empty JSON or prototype poisoning, 415 other media types', async () => {
            const small = await createSyncService({ store: await kind.open(), port: 0, limits: { bodyBytes: 1000 } })
            try {
                const smallUrl = (await small.listen()).url
                const big = JSON.stringify({ clientId: 'c', docs: [{ id: 'n', clientVersion: 1, data: { t: 'x'.repeat(2000) } }] })
                const answer = await fetch(`${smallUrl}/Docs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big })
                expect([answer.status, ((await answer.json()) as { error: { code: string } }).error.code]).toEqual([413, 'BODY_TOO_LARGE'])
            } finally {
                await small.close()
            }
            expect(errorOf(await post('/Docs', '{"clientId":'))).toEqual({ status: 400, code: 'MALFORMED_JSON' })
            expect(errorOf(await post('/Docs', ''))).toEqual({ status: 400, code: 'MALFORMED_JSON' })
            expect(errorOf(await post('/Docs', '{"clientId":"c","docs":[],"__proto__":{"x":1}}'))).toEqual({ status: 400, code: 'MALFORMED_JSON' })
            expect(errorOf(await send('POST', '/Docs', '<docs/>', 'application/xml'))).toEqual({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' })
            expect(await stored()).toEqual([])
        })
    })
})
