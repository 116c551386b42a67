/**
 * The loop against a real sync service in this process (SQLite and PostgreSQL stores): device B
 * receives A's write without calling anything, through the live trigger (the interval is set to
 * weeks, so no other trigger could have done it); an auth failure stops the loop with one error.
 */
import { Pool } from 'pg'
import { createToken } from '../server/auth'
import { PostgresLiveBridge } from '../server/live/postgres-bridge'
import { createSyncService } from '../server/service'
import type { SyncService } from '../server/service'
import { PostgresDocStore } from '../server/store/postgres'
import { SqliteDocStore } from '../server/store/sqlite'
import { testPostgresUrl } from '../server/store/store-suite'
import type { DocStore } from '../server/store/types'
import { HttpSharedSyncLog } from '../shared-log/http'
import { ContinuousSync } from './continuous-sync'
import type { ContinuousSyncEventMap, SyncTrigger } from './continuous-sync-events'
import { FakeClock, waitFor } from './continuous-sync-fakes'
import { createDevice, dump } from './devices'
import type { TestDevice } from './devices'

const WEEKS = 2 ** 31 - 1
const PG_URL = testPostgresUrl()
const services: SyncService[] = []
const loops: ContinuousSync[] = []
const schemas: string[] = []
let counter = 0

afterEach(async () => {
    for (const loop of loops.splice(0)) {
        await loop.stop()
    }
    for (const service of services.splice(0)) {
        await service.close()
    }
})

afterAll(async () => {
    if (schemas.length) {
        const admin = new Pool({ connectionString: PG_URL, max: 1 })
        for (const schema of schemas) {
            await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
        }
        await admin.end()
    }
})

function newSchema(): string {
    const schema = `synclog_live_${process.pid}_${++counter}`
    schemas.push(schema)
    return schema
}

const STORES: Record<string, () => DocStore> = {
    sqlite: () => new SqliteDocStore({ filename: ':memory:' }),
    postgres: () => new PostgresDocStore({ connectionString: PG_URL, schema: newSchema() }),
}

async function serve(store: DocStore, options: { auth?: boolean; bridge?: PostgresLiveBridge } = {}): Promise<string> {
    const service = await createSyncService({ store, port: 0, auth: options.auth, live: { bridge: options.bridge } })
    services.push(service)
    return (await service.listen()).url
}

interface Running {
    device: TestDevice
    loop: ContinuousSync
    triggers: SyncTrigger[]
    finished: Array<ContinuousSyncEventMap['syncFinished']>
    errors: Array<ContinuousSyncEventMap['syncError']>
    live: string[]
}

async function device(url: string, options: { token?: string; clock?: FakeClock } = {}): Promise<Running> {
    const sharedLog = new HttpSharedSyncLog({ url, token: options.token, retry: { retries: 0 } })
    const device = await createDevice({ sharedLog })
    const loop = new ContinuousSync({
        sync: device,
        intervalMs: WEEKS,
        // live: the default, HttpSharedSyncLog.subscribe (GET /Live with the log's URL and token)
        multiTab: false,
        onlineEvents: null,
        ...(options.clock ? { timers: options.clock, now: options.clock.now } : {}),
    })
    loops.push(loop)
    const running: Running = { device, loop, triggers: [], finished: [], errors: [], live: [] }
    loop.events.on('syncStarted', event => running.triggers.push(event.trigger))
    loop.events.on('syncFinished', event => running.finished.push(event))
    loop.events.on('syncError', event => running.errors.push(event))
    loop.events.on('liveStatus', event => running.live.push(event.status))
    return running
}

async function titles(device: TestDevice): Promise<string[]> {
    return ((await dump(device, 'note')) as Array<{ title: string }>).map(note => note.title).sort()
}

/** Started, first pass done, live connection open. */
async function started(running: Running): Promise<void> {
    await running.loop.start()
    await waitFor(() => running.live.includes('open') && running.loop.state === 'idle', 'the loop to be up and live')
}

describe.each(Object.keys(STORES))('live on %s', kind => {
    it("B receives A's write without calling anything, through the live trigger", async () => {
        const url = await serve(STORES[kind]())
        const a = await device(url)
        const b = await device(url)
        await started(a)
        await started(b)
        const passesBefore = b.triggers.length
        await a.device.storageManager.collection('note').createObject({ title: 'live from A' })
        await waitFor(() => b.finished.some(event => event.applied > 0), 'a pass of B that applies something')
        expect(await titles(b.device)).toEqual(['live from A'])
        // Every pass B ran since was a live one, and one of them applied the note.
        expect(b.triggers.slice(passesBefore).every(trigger => trigger === 'live')).toBe(true)
        expect(b.finished.some(event => event.trigger === 'live' && event.applied > 0)).toBe(true)
        // A's write was pushed by its change trigger, and A was not woken by its own write.
        expect(a.triggers.slice(1).filter(trigger => trigger === 'live')).toHaveLength(1) // the live pass on connecting only
        expect(a.triggers).toContain('change')

        // And back: B writes, A hears it.
        await b.device.storageManager.collection('note').createObject({ title: 'live from B' })
        await waitFor(() => a.finished.some(event => event.trigger === 'live' && event.applied > 0), "B's note applied on A by a live pass")
        expect(await titles(a.device)).toEqual(['live from A', 'live from B'])
    })
})

it('across two service processes on one PostgreSQL database (LISTEN/NOTIFY), in one test process', async () => {
    const schema = newSchema()
    const first = await serve(new PostgresDocStore({ connectionString: PG_URL, schema }), { bridge: new PostgresLiveBridge({ connectionString: PG_URL, schema }) })
    const second = await serve(new PostgresDocStore({ connectionString: PG_URL, schema }), { bridge: new PostgresLiveBridge({ connectionString: PG_URL, schema }) })
    const a = await device(first)
    const b = await device(second)
    await started(a)
    await started(b)
    await a.device.storageManager.collection('note').createObject({ title: 'through process 1' })
    await waitFor(() => b.finished.some(event => event.trigger === 'live' && event.applied > 0), 'a live pass on B (process 2) that applies the note')
    expect(await titles(b.device)).toEqual(['through process 1'])
})

it('an auth failure stops the loop with one error event', async () => {
    const store = new SqliteDocStore({ filename: ':memory:' })
    const url = await serve(store, { auth: true })
    const token = await createToken({ store, userId: 'alice' })
    const good = await device(url, { token })
    await started(good)
    const clock = new FakeClock()
    const bad = await device(url, { token: 'not-a-token-anyone-issued', clock })
    await bad.loop.start()
    await waitFor(() => bad.loop.state === 'error', 'the refused pass')
    expect(bad.errors).toHaveLength(1)
    expect(bad.errors[0]).toMatchObject({ code: 'UNAUTHORIZED', kind: 'persistent', willRetry: false })
    // Local writes, other devices' writes and hours of timers: nothing more is tried or reported.
    for (let index = 0; index < 3; index++) {
        await bad.device.storageManager.collection('note').createObject({ title: `refused ${index}` })
        await good.device.storageManager.collection('note').createObject({ title: `accepted ${index}` })
        await clock.advance(60 * 60 * 1000)
    }
    await good.loop.syncNow()
    expect(bad.errors).toHaveLength(1)
    expect(bad.triggers).toEqual(['start'])
    expect(bad.loop.state).toBe('error')
    expect(clock.delays()).toEqual([])
})
