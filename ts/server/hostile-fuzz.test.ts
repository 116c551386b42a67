/**
 * A small fuzz over every route but the `GET /Live` stream, with the inputs issue 14 found harmful
 * (NUL, lone surrogates, deep nesting, bytes that are not UTF-8, foreign charsets), on SQLite and
 * PostgreSQL. The property: no answer is a 5xx (clients retry those forever), every refusal is a
 * JSON error with a code, and the service still answers afterwards. fast-check prints the seed of
 * a failure.
 */
import fc from 'fast-check'
import { createSyncService } from './service'
import type { SyncService } from './service'
import { postgresKind, sqliteKind } from './test-stores'
import type { TestStoreKind } from './test-stores'

const RUNS_PER_STORE = 200

const nasty = ['\u0000', '\ud800', '\udbff', '\udc00', '\udfff', '\ud83c\udf89', '\ud83c', '\ufffd', '"', '\\', '/', '%', '?', '#', 'é']
const hostileString = fc
    .array(fc.oneof(fc.constantFrom(...nasty), fc.string({ maxLength: 4 }), fc.string({ unit: 'binary', maxLength: 3 })), { maxLength: 5 })
    .map((parts) => parts.join(''))

/** Mostly plain identifiers (so requests get through to the stores), sometimes hostile ones. */
const identifier = fc.oneof({ arbitrary: fc.string({ minLength: 1, maxLength: 8 }), weight: 3 }, { arbitrary: hostileString.filter((value) => value.length > 0), weight: 1 })

/** A JSON value nested `depth` levels, with hostile strings at the bottom. */
const nestedValue = fc.tuple(fc.integer({ min: 1, max: 140 }), hostileString, fc.boolean()).map(([depth, leaf, arrays]) => {
    let value: unknown = leaf
    for (let level = 0; level < depth; level++) {
        value = arrays && level % 2 === 0 ? [value] : { [leaf]: value }
    }
    return value
})

const data = fc.oneof(
    fc.constant(null),
    fc.dictionary(hostileString, fc.oneof(hostileString, fc.integer(), fc.constant(null)), { maxKeys: 3 }),
    nestedValue.map((value) => ({ v: value })),
)
const doc = fc.record({ id: identifier, clientVersion: fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER)), data, deleted: fc.boolean() })

const routes = [
    'POST /Docs',
    'POST /Docs/Query',
    'POST /Docs/Query?sinceUtc=:id',
    'POST /Docs/Query?origin=:id&since=:id&limit=:id',
    'POST /Reconcile',
    'POST /Devices',
    'GET /Devices/:id',
    'POST /Devices/:id/Ack',
    'GET /SyncId',
    'GET /health',
    'POST /Pairing',
    'POST /Pairing/Join',
] as const

/** The fields any route takes, with hostile values; `bodyFor` keeps those of one route. */
const shapedBody = fc.record({
    clientId: identifier,
    syncId: fc.option(hostileString, { nil: undefined, freq: 4 }),
    docs: fc.array(doc, { maxLength: 3 }),
    deviceId: identifier,
    cursor: fc.nat(),
    code: identifier,
})
type Fields = typeof shapedBody extends fc.Arbitrary<infer T> ? T : never

const FIELDS_OF: Record<string, Array<keyof Fields>> = {
    '/Docs': ['clientId', 'syncId', 'docs'],
    '/Docs/Query': ['clientId', 'syncId'],
    '/Reconcile': ['clientId', 'docs'],
    '/Devices': ['deviceId'],
    '/Devices/:id/Ack': ['cursor', 'syncId'],
    '/Pairing/Join': ['code'],
}

/** The route's own fields (so most bodies pass the schema and reach the routes and stores). */
function bodyFor(template: string, fields: Fields): Record<string, unknown> {
    const names = FIELDS_OF[template.split('?')[0]] ?? []
    return Object.fromEntries(names.filter((name) => fields[name] !== undefined).map((name) => [name, fields[name]]))
}

const encodeText = (text: string) => new TextEncoder().encode(text)

/** Raw bytes: JSON with invalid UTF-8 spliced in, JSON in UTF-16, or noise. */
const rawBody = fc.oneof(
    fc.tuple(shapedBody, fc.uint8Array({ minLength: 1, maxLength: 4 }), fc.nat()).map(([body, bytes, at]) => {
        const text = encodeText(JSON.stringify(body))
        const cut = at % (text.length + 1)
        return new Uint8Array([...text.slice(0, cut), ...bytes, ...text.slice(cut)])
    }),
    shapedBody.map((body) => new Uint8Array(Buffer.from(JSON.stringify(body), 'utf16le'))),
    fc.uint8Array({ maxLength: 64 }),
    fc.integer({ min: 100, max: 6_000 }).map((depth) => encodeText(`{"clientId":"c","docs":[{"id":"d","clientVersion":1,"data":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}]}`)),
)

const contentType = fc.constantFrom(
    'application/json',
    'application/json',
    'application/json',
    'application/json',
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=utf-16',
    'application/json; charset=iso-8859-1',
    'application/json; charset="UTF-8"',
    'text/plain',
    'application/x-www-form-urlencoded',
)

const request = fc.record({
    route: fc.constantFrom(...routes),
    pathId: identifier,
    body: fc.oneof({ arbitrary: shapedBody, weight: 3 }, { arbitrary: rawBody, weight: 1 }),
    contentType,
})

/** A path segment as a hostile client could send it, lone surrogates as raw (WTF-8) bytes. */
function encodeSegment(value: string): string {
    let out = ''
    for (const char of value) {
        const code = char.codePointAt(0)!
        if (code >= 0xd800 && code <= 0xdfff) {
            out += `%${(0xe0 | (code >> 12)).toString(16)}%${(0x80 | ((code >> 6) & 0x3f)).toString(16)}%${(0x80 | (code & 0x3f)).toString(16)}`
        } else {
            out += encodeURIComponent(char)
        }
    }
    return out || '%00'
}

const kinds: TestStoreKind[] = [sqliteKind(), postgresKind('fuzz')]

describe.each(kinds)('fuzzed hostile input on $name', (kind) => {
    let service: SyncService
    let url: string

    beforeAll(async () => {
        service = await createSyncService({ store: await kind.open(), port: 0 })
        url = (await service.listen()).url
    })
    afterAll(async () => {
        await service.close()
        await kind.dropAll()
    })

    it(`answers ${RUNS_PER_STORE} hostile requests over every route without a 5xx`, async () => {
        await fc.assert(
            fc.asyncProperty(request, async ({ route, pathId, body, contentType }) => {
                const [method, template] = route.split(' ')
                const path = template.replace(/:id/g, encodeSegment(pathId))
                const bytes = body instanceof Uint8Array ? body : encodeText(JSON.stringify(bodyFor(template, body)))
                const response = await fetch(url + path, {
                    method,
                    headers: method === 'POST' ? { 'content-type': contentType } : {},
                    body: method === 'POST' ? bytes : undefined,
                })
                const text = await response.text()
                if (response.status >= 500) {
                    throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 300)}`)
                }
                if (response.status >= 400) {
                    const parsed = JSON.parse(text) as { error?: { code?: unknown } }
                    expect(typeof parsed.error?.code).toBe('string')
                }
            }),
            { numRuns: RUNS_PER_STORE },
        )
        expect((await fetch(`${url}/health`)).status).toBe(200)
    })
})
