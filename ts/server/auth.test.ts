import { createToken, hashToken } from './auth'
import { createSyncService } from './service'
import type { SyncService } from './service'
import { SqliteDocStore } from './store/sqlite'
import { sendRequest } from './test-client'
import type { TestResponse } from './test-client'

describe('multi-user mode (auth: true)', () => {
    let service: SyncService
    let store: SqliteDocStore
    let url: string
    let alice: string
    let bob: string

    beforeEach(async () => {
        store = new SqliteDocStore({ filename: ':memory:' })
        service = await createSyncService({ store, auth: true, port: 0 })
        url = (await service.listen()).url
        alice = await createToken({ store, userId: 'alice' })
        bob = await createToken({ store, userId: 'bob' })
    })

    afterEach(() => service.close())

    const as = (token: string | null, method: string, path: string, payload?: unknown) =>
        sendRequest(url, { method, url: path, payload, headers: token === null ? {} : { authorization: `Bearer ${token}` } })
    const errorOf = (response: TestResponse) => ({ status: response.statusCode, code: response.json().error.code })

    it('issues 32-byte random tokens and stores only their SHA-256 hash', async () => {
        expect(Buffer.from(alice, 'base64url')).toHaveLength(32)
        expect(alice).not.toBe(bob)
        expect(await store.findUserByTokenHash(hashToken(alice))).toBe('alice')
        expect(await store.findUserByTokenHash(alice)).toBeNull()
        const fixed = await createToken({ store, userId: 'carol', randomBytes: (size) => Buffer.alloc(size, 7), now: () => 5 })
        expect(fixed).toBe(Buffer.alloc(32, 7).toString('base64url'))
    })

    it('answers 401 without a valid bearer token on every route but /health', async () => {
        expect((await as(null, 'GET', '/health')).statusCode).toBe(200)
        const routes: Array<[string, string, unknown?]> = [
            ['GET', '/SyncId'],
            ['POST', '/Docs', { clientId: 'a', docs: [] }],
            ['POST', '/Docs/Query', { clientId: 'a' }],
            ['POST', '/Reconcile', { clientId: 'a', docs: [] }],
            ['POST', '/Devices', {}],
            ['GET', '/Devices/x'],
            ['POST', '/Devices/x/Ack', { cursor: 0 }],
        ]
        for (const [method, path, payload] of routes) {
            for (const token of [null, 'not-a-token', `${alice}x`]) {
                expect(errorOf(await as(token, method, path, payload))).toEqual({ status: 401, code: 'UNAUTHORIZED' })
            }
            const raw = await sendRequest(url, { method, url: path, payload, headers: { authorization: `Basic ${alice}` } })
            expect(raw.statusCode).toBe(401)
            expect((await as(alice, method, path, payload)).statusCode).toBe(200)
        }
    })

    it('keeps each user\'s documents, sequence and devices apart, even with the same ids', async () => {
        const aliceDoc = { id: 'note-1', clientVersion: 5, data: { owner: 'alice' } }
        expect((await as(alice, 'POST', '/Docs', { clientId: 'phone', docs: [aliceDoc] })).json().results[0].status).toBe('created')
        await as(alice, 'POST', '/Devices', { deviceId: 'phone' })
        // Alice has one write (seq 1): a cursor beyond it is refused, and nothing is stored.
        expect((await as(alice, 'POST', '/Devices/phone/Ack', { cursor: 2 })).statusCode).toBe(400)
        await as(alice, 'POST', '/Devices/phone/Ack', { cursor: 1 })

        // Bob uses the same ids with a higher version: it creates his own document.
        const bobWrite = await as(bob, 'POST', '/Docs', { clientId: 'phone', docs: [{ id: 'note-1', clientVersion: 9, data: { owner: 'bob' } }] })
        expect(bobWrite.json().results[0].status).toBe('created')
        expect((await as(bob, 'POST', '/Docs/Query?origin=all', { clientId: 'x' })).json().docs.map((d: { data: unknown }) => d.data)).toEqual([
            { owner: 'bob' },
        ])
        // Bob reconciling with an empty state gets only his own documents.
        expect((await as(bob, 'POST', '/Reconcile', { clientId: 'laptop', docs: [] })).json().docs.map((d: { data: unknown }) => d.data)).toEqual([
            { owner: 'bob' },
        ])
        // Bob acknowledging alice's device id touches only his own device record.
        await as(bob, 'POST', '/Devices/phone/Ack', { cursor: 0 })
        expect((await as(alice, 'GET', '/Devices/phone')).json().cursor).toBe(1)
        expect((await as(bob, 'GET', '/Devices/phone')).json().cursor).toBe(0)
        expect((await as(bob, 'GET', '/Devices/only-alice')).json().cursor).toBeNull()

        const aliceDocs = (await as(alice, 'POST', '/Docs/Query?origin=all', { clientId: 'x' })).json()
        expect(aliceDocs.docs).toEqual([expect.objectContaining({ ...aliceDoc, seq: 1 })])
        expect(aliceDocs.cursor).toBe(1)
    })
})
