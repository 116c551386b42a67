/**
 * Isolation between users (issue 10), in multi-user mode on both stores: for every route,
 * another user's token cannot read, write, reconcile, register or acknowledge into a user's
 * data (the user's rows are unchanged, and nothing of theirs appears in the answers), and
 * missing, malformed, unknown and revoked tokens are answered 401 on every route but /health.
 */
import { createToken, revokeToken, tokenIdOfToken } from '../server/auth'
import { createSyncService } from '../server/service'
import type { SyncService } from '../server/service'
import { postgresAvailable } from './helpers'
import { postgresSchemaStore, sqliteMemoryStore } from './store-dump'
import type { DumpableStore } from './store-dump'

/** Every route of the service with a body that would succeed for its own user. */
const ROUTES: Array<[string, string, unknown]> = [
    ['POST', '/Docs', { clientId: 'phone', docs: [{ id: 'note-1', clientVersion: 99, data: { by: 'intruder' } }] }],
    ['POST', '/Docs/Query?origin=all', { clientId: 'laptop' }],
    ['POST', '/Reconcile', { clientId: 'laptop', docs: [{ id: 'note-2', clientVersion: 99, data: { by: 'intruder' } }] }],
    ['POST', '/Devices', { deviceId: 'phone' }],
    ['GET', '/Devices/phone', undefined],
    ['POST', '/Devices/phone/Ack', { cursor: 0 }],
    ['GET', '/SyncId', undefined],
    ['POST', '/Pairing', {}],
    ['POST', '/Pairing/Join', { code: 'ABCD-EFGH' }],
    ['GET', '/Live?clientId=phone', undefined],
    ['GET', '/no-such-route', undefined],
]

const kinds: Array<[string, () => DumpableStore]> = [
    ['SQLite', () => sqliteMemoryStore()],
    ['PostgreSQL', () => postgresSchemaStore('isolation')],
]

describe.each(kinds)('isolation between users on %s', (name, makeStore) => {
    let subject: DumpableStore
    let service: SyncService
    let url: string
    let alice: string
    let bob: string
    let revoked: string
    let skip = false

    beforeAll(async () => {
        if (name === 'PostgreSQL' && !(await postgresAvailable())) {
            skip = true
            return
        }
        subject = makeStore()
        service = await createSyncService({ store: subject.store, port: 0, auth: true })
        url = (await service.listen()).url
        alice = await createToken({ store: subject.store, userId: 'alice' })
        bob = await createToken({ store: subject.store, userId: 'bob' })
        revoked = await createToken({ store: subject.store, userId: 'alice' })
        expect(await revokeToken({ store: subject.store, tokenId: tokenIdOfToken(revoked) })).toBe(true)
    })
    afterAll(async () => {
        if (!skip) {
            await service.close()
            await subject.dispose()
        }
    })

    async function call(token: string | null, method: string, path: string, body?: unknown, authorization?: string) {
        const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' }
        if (authorization !== undefined) {
            headers.authorization = authorization
        } else if (token !== null) {
            headers.authorization = `Bearer ${token}`
        }
        const controller = new AbortController()
        const response = await fetch(url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: controller.signal })
        // /Live streams: its status and first bytes are enough.
        const text = path.startsWith('/Live') && response.status === 200 ? (controller.abort(), '') : await response.text()
        return { status: response.status, text }
    }

    /** Alice's rows only (the dump of every table, filtered to her user id). */
    async function aliceRows(): Promise<string> {
        const tables = JSON.parse(await subject.dump()) as Array<Array<Record<string, unknown>>>
        return JSON.stringify(tables.map((rows) => rows.filter((row) => row.user_id === 'alice')))
    }

    it('keeps every route of one user out of another user\'s data', async () => {
        if (skip) {
            return
        }
        await call(alice, 'POST', '/Docs', { clientId: 'phone', docs: [1, 2, 3].map((n) => ({ id: `note-${n}`, clientVersion: n, data: { by: 'alice', n } }))})
        await call(alice, 'POST', '/Devices', { deviceId: 'phone' })
        await call(alice, 'POST', '/Devices/phone/Ack', { cursor: 2 })
        const before = await aliceRows()
        let checks = 0
        for (const [method, path, body] of ROUTES) {
            const answer = await call(bob, method, path, body)
            expect(answer.status).toBeLessThan(500)
            // Nothing of alice's in what bob is told, and nothing of hers changed.
            expect(answer.text).not.toContain('"alice"')
            expect(answer.text).not.toMatch(/"by":"alice"/)
            expect(await aliceRows()).toBe(before)
            checks += 3
        }
        // A pairing code alice opened cannot be joined with bob's token.
        const { code } = JSON.parse((await call(alice, 'POST', '/Pairing', {})).text) as { code: string }
        const join = await call(bob, 'POST', '/Pairing/Join', { code })
        expect(join.status).toBeGreaterThanOrEqual(400)
        expect(join.text).not.toContain('ticket')
        checks += 1
        // Bob's own view: only his writes, and his device's cursor is his.
        const bobDocs = JSON.parse((await call(bob, 'POST', '/Docs/Query?origin=all', { clientId: 'x' })).text).docs as Array<{ data: { by: string } }>
        expect(bobDocs.map((doc) => doc.data.by)).toEqual(['intruder', 'intruder'])
        expect(JSON.parse((await call(bob, 'GET', '/Devices/phone')).text).cursor).toBe(0)
        expect(JSON.parse((await call(alice, 'GET', '/Devices/phone')).text).cursor).toBe(2)
        // An Ack of bob's cannot go beyond his own last seq, even if alice's is higher.
        expect((await call(bob, 'POST', '/Devices/phone/Ack', { cursor: 3 })).status).toBe(400)
        checks += 4
        console.log(`isolation ${name}: ${ROUTES.length} routes, ${checks} cross-user checks, 0 leaks`)
    })

    it('answers 401 to missing, malformed, unknown and revoked tokens on every route but /health', async () => {
        if (skip) {
            return
        }
        const before = await subject.dump()
        const variants: Array<[string, string | null, string | undefined]> = [
            ['missing', null, undefined],
            ['malformed', null, 'Bearer'],
            ['wrong scheme', null, `Basic ${alice}`],
            ['bad characters', null, 'Bearer a b'],
            ['unknown', 'x'.repeat(43), undefined],
            ['revoked', revoked, undefined],
        ]
        let checks = 0
        for (const [method, path, body] of ROUTES) {
            for (const [, token, authorization] of variants) {
                const answer = await call(token, method, path, body, authorization)
                expect({ path, status: answer.status }).toEqual({ path, status: 401 })
                expect(JSON.parse(answer.text).error.code).toBe('UNAUTHORIZED')
                checks += 1
            }
        }
        expect((await call(null, 'GET', '/health')).status).toBe(200)
        expect(await subject.dump()).toBe(before)
        console.log(`isolation ${name}: ${checks} requests with missing/malformed/unknown/revoked tokens, all 401, nothing stored`)
    })
})
