/**
 * Fuzzing every route (issue 10): fast-check requests, mostly well-formed enough to reach the
 * routes and stores, with hostile identifiers, deep and oversized data, broken encodings,
 * foreign content types, wrong methods and unknown paths, on SQLite and PostgreSQL. The
 * properties: no 5xx, every refusal a JSON error with a code, the service still answering at
 * the end, and a full dump of the store unchanged by every refused request.
 * `RELIABILITY_FUZZ_REQUESTS` sets the count per store (CI: 5000); fast-check prints the seed of
 * a failure (replay with `RELIABILITY_SEED`).
 */
import fc from 'fast-check'
import { createSyncService } from '../server/service'
import { postgresAvailable, runCount } from './helpers'
import { postgresSchemaStore, sqliteMemoryStore } from './store-dump'
import type { DumpableStore } from './store-dump'

const REQUESTS = runCount('RELIABILITY_FUZZ_REQUESTS', 5000)
const BODY_LIMIT = 16 * 1024

const nasty = ['\u0000', '\ud800', '\udfff', '\ud83c\udf89', '\ufffd', '"', '\\', '/', '%', '?', '#', 'é', ' ', '..']
const hostile = fc.array(fc.oneof(fc.constantFrom(...nasty), fc.string({ maxLength: 3 })), { maxLength: 4 }).map((parts) => parts.join(''))
/** Mostly a few plain ids (so writes collide and reach the stores), sometimes hostile ones. */
const identifier = fc.oneof(
    { arbitrary: fc.constantFrom('a', 'b', 'c', 'phone', 'laptop'), weight: 4 },
    { arbitrary: fc.string({ minLength: 1, maxLength: 6 }), weight: 2 },
    { arbitrary: hostile, weight: 1 },
)
const version = fc.oneof(fc.nat({ max: 20 }), fc.constant(Number.MAX_SAFE_INTEGER), fc.constant(-1), fc.double(), fc.constant('3'))
const data = fc.oneof(
    fc.constant(null),
    fc.dictionary(hostile, fc.oneof(hostile, fc.integer(), fc.boolean(), fc.constant(null)), { maxKeys: 3 }),
    fc.integer({ min: 100, max: 200 }).map((depth) => {
        let value: unknown = 1
        for (let level = 0; level < depth; level++) {
            value = { v: value }
        }
        return value
    }),
    fc.integer({ min: 1, max: 40 }).map((kib) => ({ big: 'x'.repeat(kib * 1024) })),
    fc.constantFrom([1], 'text', 5),
)
const doc = fc.record(
    { id: identifier, clientVersion: version, data, deleted: fc.oneof(fc.boolean(), fc.constant('yes')), extra: fc.constant(1) },
    { requiredKeys: ['id', 'clientVersion', 'data'] },
)
const syncId = fc.option(fc.oneof(hostile, fc.constant('00000000-0000-4000-8000-000000000000')), { nil: undefined, freq: 5 })
const body = fc.record(
    {
        clientId: identifier,
        syncId,
        docs: fc.oneof(fc.array(doc, { maxLength: 4 }), fc.constant('none')),
        deviceId: identifier,
        cursor: fc.oneof(fc.nat({ max: 40 }), fc.constant(Number.MAX_SAFE_INTEGER), fc.constant(-3), fc.constant(1.5)),
        code: identifier,
        junk: hostile,
    },
    { requiredKeys: [] },
)

const ROUTES = [
    ['POST', '/Docs', ['clientId', 'syncId', 'docs']],
    ['POST', '/Docs/Query', ['clientId', 'syncId']],
    ['POST', '/Docs/Query?origin=all&since=:n&limit=:n', ['clientId']],
    ['POST', '/Docs/Query?sinceUtc=:id&origin=:id', ['clientId']],
    ['POST', '/Reconcile', ['clientId', 'docs']],
    ['POST', '/Devices', ['deviceId']],
    ['GET', '/Devices/:id', []],
    ['POST', '/Devices/:id/Ack', ['cursor', 'syncId']],
    ['GET', '/SyncId', []],
    ['GET', '/health', []],
    ['POST', '/Pairing', []],
    ['POST', '/Pairing/Join', ['code']],
    ['DELETE', '/Docs', []],
    ['PUT', '/Devices/:id/Ack', ['cursor']],
    ['GET', '/Docs/:id', []],
    ['POST', '/:id', ['clientId']],
] as const

const rawBytes = fc.oneof(
    fc.uint8Array({ maxLength: 48 }),
    body.map((value) => new Uint8Array(Buffer.from(JSON.stringify(value), 'utf16le'))),
    fc.tuple(body, fc.uint8Array({ minLength: 1, maxLength: 3 }), fc.nat()).map(([value, bytes, at]) => {
        const text = new TextEncoder().encode(JSON.stringify(value))
        const cut = at % (text.length + 1)
        return new Uint8Array([...text.slice(0, cut), ...bytes, ...text.slice(cut)])
    }),
)

const request = fc.record({
    route: fc.constantFrom(...ROUTES),
    id: identifier,
    n: fc.oneof(fc.nat({ max: 50 }).map(String), hostile),
    fields: body,
    raw: fc.option(rawBytes, { nil: undefined, freq: 6 }),
    keepAll: fc.boolean(),
    contentType: fc.constantFrom(
        'application/json',
        'application/json',
        'application/json',
        'application/json; charset=utf-8',
        'application/json; charset=latin1',
        'text/plain',
        'application/x-www-form-urlencoded',
    ),
})

function encodeSegment(value: string): string {
    let out = ''
    for (const char of value) {
        const code = char.codePointAt(0)!
        out += code >= 0xd800 && code <= 0xdfff ? `%${(0xe0 | (code >> 12)).toString(16)}%${(0x80 | ((code >> 6) & 0x3f)).toString(16)}%${(0x80 | (code & 0x3f)).toString(16)}` : encodeURIComponent(char)
    }
    return out || '%00'
}

const kinds: Array<[string, () => DumpableStore]> = [
    ['SQLite', () => sqliteMemoryStore()],
    ['PostgreSQL', () => postgresSchemaStore('fuzz')],
]

describe.each(kinds)('fuzzing every route on %s', (name, makeStore) => {
    it(`${REQUESTS} requests: no 5xx, JSON refusals, and refused requests change no row`, async () => {
        if (name === 'PostgreSQL' && !(await postgresAvailable())) {
            return
        }
        const subject = makeStore()
        const service = await createSyncService({ store: subject.store, port: 0, limits: { bodyBytes: BODY_LIMIT, reconcileBodyBytes: BODY_LIMIT * 2 } })
        const { url } = await service.listen()
        const statuses = new Map<number, number>()
        let refused = 0
        let before = await subject.dump()
        try {
            await fc.assert(
                fc.asyncProperty(request, async ({ route, id, n, fields, raw, keepAll, contentType }) => {
                    const method: string = route[0]
                    const template: string = route[1]
                    const names: readonly string[] = route[2]
                    const path = template.replace(/:id/g, encodeSegment(id)).replace(/:n/g, encodeSegment(n))
                    const chosen = keepAll ? fields : Object.fromEntries(Object.entries(fields).filter(([key]) => names.includes(key)))
                    const bytes = raw ?? new TextEncoder().encode(JSON.stringify(chosen))
                    const hasBody = method !== 'GET'
                    const response = await fetch(url + path, {
                        method,
                        headers: hasBody ? { 'content-type': contentType } : {},
                        body: hasBody ? bytes : undefined,
                    })
                    const text = await response.text()
                    statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1)
                    if (response.status >= 500) {
                        throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 300)}`)
                    }
                    const after = await subject.dump()
                    if (response.status >= 400) {
                        refused += 1
                        const parsed = JSON.parse(text) as { error?: { code?: unknown } }
                        if (typeof parsed.error?.code !== 'string') {
                            throw new Error(`${method} ${path} answered ${response.status} without an error code: ${text.slice(0, 200)}`)
                        }
                        if (after !== before) {
                            throw new Error(`${method} ${path} was refused (${response.status} ${parsed.error.code}) but changed the stored data`)
                        }
                    }
                    before = after
                }),
                { numRuns: REQUESTS, seed: process.env.RELIABILITY_SEED ? Number(process.env.RELIABILITY_SEED) : undefined },
            )
            expect((await fetch(`${url}/health`)).status).toBe(200)
        } finally {
            await service.close()
            await subject.dispose()
        }
        const byStatus = [...statuses].sort(([a], [b]) => a - b).map(([status, count]) => `${status}: ${count}`).join(', ')
        console.log(`fuzz ${name}: ${REQUESTS} requests, 0 5xx, 0 crashes, ${refused} refused with the store unchanged (${byStatus})`)
    }, 15 * 60_000)
})
