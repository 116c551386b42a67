/**
 * End to end over real ports: the seed 000 workflow with plain HTTP, and scale-out — two service
 * instances on one PostgreSQL database (each with its own pool, like two processes), with
 * devices on each pushing concurrently through HttpSharedSyncLog until all converge.
 */
import { Pool } from 'pg'
import { entryId } from '../entries'
import type { SyncLogEntry } from '../entries/types'
import { makeEntries } from '../shared-log/entry-factory'
import { HttpSharedSyncLog } from '../shared-log/http'
import type { SharedLogCursor } from '../shared-log/types'
import { createSyncService } from './service'
import type { SyncService } from './service'
import { PostgresDocStore } from './store/postgres'
import { SqliteDocStore } from './store/sqlite'
import { testPostgresUrl } from './store/store-suite'

const POSTGRES_URL = testPostgresUrl()
const schema = `synclog_e2e_${process.pid}`
const services: SyncService[] = []

afterAll(async () => {
    for (const service of services) {
        await service.close()
    }
    const admin = new Pool({ connectionString: POSTGRES_URL, max: 1 })
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await admin.end()
})

async function start(store: SqliteDocStore | PostgresDocStore, now?: () => number): Promise<string> {
    const service = await createSyncService({ store, port: 0, now })
    services.push(service)
    return (await service.listen()).url
}

async function postJson(url: string, body: unknown) {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return { status: response.status, body: await response.json() }
}

it('runs the seed workflow: two clients upload, each queries the other\'s changes since its last LastUpdateUtc', async () => {
    let clock = Date.parse('2026-03-01T12:00:00.000Z')
    const url = await start(new SqliteDocStore({ filename: ':memory:' }), () => clock)
    const { syncId } = await (await fetch(`${url}/SyncId`)).json()

    // Client A uploads, client B uploads, both with the SyncId they learned.
    expect((await postJson(`${url}/Docs`, { clientId: 'A', syncId, docs: [{ id: 'n1', clientVersion: 1, data: { t: 'a1' } }] })).status).toBe(200)
    clock += 1000
    await postJson(`${url}/Docs`, { clientId: 'B', syncId, docs: [{ id: 'n2', clientVersion: 1, data: { t: 'b1' } }] })

    // Each asks for changes of other clients since its newestKnownServiceRecordUtc (none yet: epoch).
    const forA = await postJson(`${url}/Docs/Query?origin=other&sinceUtc=0`, { clientId: 'A' })
    expect(forA.body.docs.map((doc: { id: string }) => doc.id)).toEqual(['n2'])
    const forB = await postJson(`${url}/Docs/Query?origin=other&sinceUtc=1970-01-01T00:00:00.000Z`, { clientId: 'B' })
    expect(forB.body.docs.map((doc: { id: string }) => doc.id)).toEqual(['n1'])
    const newestForA: string = forA.body.docs[0].lastUpdateUtc

    // B updates n1; A asks again since its newest known record (inclusive, so n2 comes again).
    clock += 1000
    await postJson(`${url}/Docs`, { clientId: 'B', syncId, docs: [{ id: 'n1', clientVersion: 2, data: { t: 'b2' } }] })
    const again = await postJson(`${url}/Docs/Query?origin=other&sinceUtc=${newestForA}`, { clientId: 'A' })
    expect(again.body.docs.map((doc: { id: string; data: unknown }) => [doc.id, doc.data])).toEqual([
        ['n2', { t: 'b1' }],
        ['n1', { t: 'b2' }],
    ])
    expect((await postJson(`${url}/Docs/Query?origin=other&sinceUtc=${Date.parse(newestForA) + 1}`, { clientId: 'A' })).body.docs).toHaveLength(1)
})

it('converges with two service instances on one PostgreSQL database and devices on each', async () => {
    const urls = [
        await start(new PostgresDocStore({ connectionString: POSTGRES_URL, schema })),
        await start(new PostgresDocStore({ connectionString: POSTGRES_URL, schema })),
    ]
    const devices = ['d0', 'd1', 'd2', 'd3']
    const logs = devices.map((_, index) => new HttpSharedSyncLog({ url: urls[index % 2] }))
    const written = new Map<string, SyncLogEntry[]>(devices.map((device) => [device, []]))
    const received = new Map<string, SyncLogEntry[]>(devices.map((device) => [device, []]))
    const cursors = new Map<string, SharedLogCursor | null>(devices.map((device) => [device, null]))

    const pull = async (index: number) => {
        const device = devices[index]
        for (let more = true; more; ) {
            const page = await logs[index].readEntries({ deviceId: device, cursor: cursors.get(device) ?? null, limit: 7 })
            received.get(device)!.push(...page.entries)
            cursors.set(device, page.cursor)
            more = page.hasMore
        }
    }
    // Rounds of concurrent pushes and pulls on both instances.
    for (let round = 0; round < 5; round++) {
        await Promise.all(
            devices.map(async (device, index) => {
                const entries = makeEntries(10, { deviceId: device })
                written.get(device)!.push(...entries)
                await logs[index].writeEntries({ deviceId: device, entries })
                await pull(index)
            }),
        )
    }
    for (let index = 0; index < devices.length; index++) {
        await pull(index)
    }
    for (const device of devices) {
        const expected = devices.filter((other) => other !== device).flatMap((other) => written.get(other)!)
        const got = received.get(device)!
        expect(new Set(got.map(entryId)).size).toBe(got.length)
        expect(new Set(got.map(entryId))).toEqual(new Set(expected.map(entryId)))
    }
})
