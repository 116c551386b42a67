import { createSyncService } from './service'
import type { SyncService } from './service'
import { SqliteDocStore } from './store/sqlite'
import { sendRequest } from './test-client'

const T0 = Date.parse('2026-01-01T00:00:00.000Z')

interface Doc {
    id: string
    clientVersion: number
    data: object | null
    deleted?: boolean
}

describe('POST /Reconcile (SQLite :memory:)', () => {
    let service: SyncService
    let store: SqliteDocStore
    let url: string
    let clock: number

    beforeEach(async () => {
        store = new SqliteDocStore({ filename: ':memory:' })
        clock = T0
        service = await createSyncService({ store, port: 0, now: () => ++clock })
        url = (await service.listen()).url
    })

    afterEach(() => service.close())

    const post = async (path: string, payload: unknown) => sendRequest(url, { method: 'POST', url: path, payload })
    const reconcile = async (clientId: string, docs: Doc[]) => {
        const response = await post('/Reconcile', { clientId, docs })
        expect(response.statusCode).toBe(200)
        return response.json() as { syncId: string; cursor: number; docs: Array<Doc & { seq: number; lastUpdateUtc: string }> }
    }
    const doc = (id: string, clientVersion: number): Doc => ({ id, clientVersion, data: { id, clientVersion } })
    const strip = (docs: Array<Doc & { deleted?: boolean }>) => docs.map(({ id, clientVersion, data }) => ({ id, clientVersion, data }))

    it('gives a wiped client everything back, with the SyncId and a cursor to continue from', async () => {
        const written = [doc('a', 1), doc('b', 2), doc('c', 3)]
        await post('/Docs', { clientId: 'phone', docs: written })
        await post('/Docs', { clientId: 'laptop', docs: [doc('d', 4)] })
        const result = await reconcile('phone', [])
        expect(result.syncId).toBe(await store.getSyncId())
        expect(strip(result.docs)).toEqual([...written, doc('d', 4)])
        expect(result.cursor).toBe(4)
        // Nothing is newer than the cursor yet; later writes are found after it.
        await post('/Docs', { clientId: 'laptop', docs: [doc('e', 5)] })
        const after = (await post(`/Docs/Query?since=${result.cursor}`, { clientId: 'phone' })).json()
        expect(strip(after.docs)).toEqual([doc('e', 5)])
    })

    it('refills a reset server from a client, and a second client then gets the merged state', async () => {
        await post('/Docs', { clientId: 'phone', docs: [doc('a', 1), doc('b', 1)] })
        const oldSyncId = await store.getSyncId()
        const newSyncId = await store.reset()
        expect(newSyncId).not.toBe(oldSyncId)

        const stale = await post('/Docs', { clientId: 'phone', syncId: oldSyncId, docs: [doc('c', 1)] })
        expect(stale.statusCode).toBe(409)
        expect(stale.json().syncId).toBe(newSyncId)

        // The phone sends its whole state; the server had nothing, so it returns nothing.
        const phone = await reconcile('phone', [doc('a', 1), doc('b', 1), doc('c', 1)])
        expect(phone.syncId).toBe(newSyncId)
        expect(phone.docs).toEqual([])
        const refilled = await store.listDocs({ userId: 'default', afterSeq: 0, limit: 10 })
        expect(refilled.map((d) => d.id)).toEqual(['a', 'b', 'c'])
        expect(phone.cursor).toBe(refilled[2].seq)
        // The laptop holds a newer 'b' and an old 'a', and lacks 'c'.
        const laptop = await reconcile('laptop', [doc('a', 0), doc('b', 7), doc('z', 1)])
        expect(strip(laptop.docs)).toEqual([doc('a', 1), doc('c', 1)])
        const all = await store.listDocs({ userId: 'default', afterSeq: 0, limit: 10 })
        expect(all.map((d) => [d.id, d.clientVersion])).toEqual([['a', 1], ['c', 1], ['b', 7], ['z', 1]])
        // The phone learns the laptop's newer 'b' and its 'z' by pulling after its cursor.
        const pulled = (await post(`/Docs/Query?since=${phone.cursor}`, { clientId: 'phone' })).json()
        expect(strip(pulled.docs)).toEqual([doc('b', 7), doc('z', 1)])
    })

    it('at an equal version keeps the server copy, returns it only when it differs, and re-stamps nothing', async () => {
        await post('/Docs', { clientId: 'zeta', docs: [{ id: 'x', clientVersion: 5, data: { from: 'zeta', n: 1 } }, doc('y', 5)] })
        const result = await reconcile('alpha', [{ id: 'x', clientVersion: 5, data: { from: 'alpha' } }, doc('y', 5)])
        expect(strip(result.docs)).toEqual([{ id: 'x', clientVersion: 5, data: { from: 'zeta', n: 1 } }])
        // Same content (in any key order) comes back as nothing.
        expect((await reconcile('omega', [{ id: 'x', clientVersion: 5, data: { n: 1, from: 'zeta' } }, doc('y', 5)])).docs).toEqual([])
        const stored = await store.listDocs({ userId: 'default', afterSeq: 0, limit: 10 })
        expect(stored.map((d) => [d.id, d.clientId, d.seq])).toEqual([['x', 'zeta', 1], ['y', 'zeta', 2]])
    })

    it('pages over more stored documents than one store page', async () => {
        const docs = Array.from({ length: 2500 }, (_, i) => doc(`d${i}`, 1))
        for (let start = 0; start < docs.length; start += 1000) {
            await post('/Docs', { clientId: 'laptop', docs: docs.slice(start, start + 1000) })
        }
        const result = await reconcile('phone', docs.slice(0, 10))
        expect(strip(result.docs)).toEqual(docs.slice(10))
        expect(result.cursor).toBe(2500)
    })
})
