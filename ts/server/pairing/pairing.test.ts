/**
 * The pairing relay through a real service (fastify + ws on a loopback port), with real codes,
 * on the SQLite and PostgreSQL stores; devices sync through the same service's HTTP log.
 */
import { spawn } from 'child_process'
import { join } from 'path'
import WebSocket from 'ws'
import { Pool } from 'pg'
import { createPairing, joinPairing, openPairingChannel, PairingError } from '../../initial-sync/pairing-client'
import type { WebSocketConstructorLike } from '../../initial-sync/pairing-client'
import { receiveInitialSync } from '../../initial-sync/receiver'
import { sendInitialSync } from '../../initial-sync/sender'
import { createSyncDevice, dumpDevice } from '../../initial-sync/test-devices'
import { HttpSharedSyncLog } from '../../shared-log/http'
import { createToken } from '../auth'
import { createSyncService } from '../service'
import type { SyncService } from '../service'
import { PostgresDocStore } from '../store/postgres'
import { SqliteDocStore } from '../store/sqlite'
import { testPostgresUrl } from '../store/store-suite'
import type { DocStore } from '../store/types'

const Socket = WebSocket as unknown as WebSocketConstructorLike
const schemas: string[] = []
let schemaCounter = 0

const STORES: Record<string, () => DocStore> = {
    SQLite: () => new SqliteDocStore({ filename: ':memory:' }),
    PostgreSQL: () => {
        const schema = `synclog_pairing_${process.pid}_${++schemaCounter}`
        schemas.push(schema)
        return new PostgresDocStore({ connectionString: testPostgresUrl(), schema })
    },
}

afterAll(async () => {
    if (schemas.length) {
        const admin = new Pool({ connectionString: testPostgresUrl(), max: 1 })
        for (const schema of schemas) {
            await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
        }
        await admin.end()
    }
})

async function start(storeName: string, clock: { now: number }) {
    const store = STORES[storeName]()
    const service = await createSyncService({ store, auth: true, port: 0, now: () => clock.now, live: false })
    const { url } = await service.listen()
    const alice = await createToken({ store, userId: 'alice' })
    const bob = await createToken({ store, userId: 'bob' })
    return { service, url, alice, bob }
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string; status: number }> {
    const error = await promise.then(
        () => null,
        (caught: unknown) => caught,
    )
    expect(error).toBeInstanceOf(PairingError)
    return { code: (error as PairingError).code, status: (error as PairingError).status }
}

describe.each(Object.keys(STORES))('pairing relay on %s', storeName => {
    let service: SyncService | null = null
    afterEach(async () => {
        await service?.close()
        service = null
    })

    it('carries an initial sync between two devices paired with a real code, then hands over', async () => {
        const clock = { now: Date.now() }
        const started = await start(storeName, clock)
        service = started.service
        const { url, alice } = started
        const a = await createSyncDevice({ name: 'a', sharedLog: new HttpSharedSyncLog({ url, token: alice }) })
        const b = await createSyncDevice({ name: 'b', sharedLog: new HttpSharedSyncLog({ url, token: alice }) })
        for (let index = 0; index < 120; index++) {
            await a.storageManager.collection('note').createObject({ title: `note ${index}`, tags: [index] })
        }
        await a.storageManager.collection('setting').createObject({ scope: 'ui', key: 'theme', value: 'dark' })
        await a.storageManager.collection('event').createObject({ name: 'e', at: new Date('2026-02-03T04:05:06.007Z') })

        const pairing = await createPairing({ url, token: alice })
        expect(pairing.code).toMatch(/^[A-Z2-9]{8}$/)
        expect(Date.parse(pairing.expiresAt)).toBeGreaterThan(clock.now)
        const hostChannel = await openPairingChannel({ url, ticket: pairing.ticket, WebSocket: Socket })
        const { ticket } = await joinPairing({ url, token: alice, code: pairing.code })
        const guestChannel = await openPairingChannel({ url, ticket, WebSocket: Socket })
        await Promise.all([hostChannel.peerJoined, guestChannel.peerJoined])

        const [sent, received] = await Promise.all([
            sendInitialSync({ sync: a, channel: hostChannel, batchObjects: 50 }),
            receiveInitialSync({ sync: b, channel: guestChannel }),
        ])
        expect(sent).toMatchObject({ objects: 122, batches: received.batches })
        expect(received.batches).toBeGreaterThanOrEqual(5)
        expect(await dumpDevice(b)).toEqual(await dumpDevice(a))
        expect(await b.syncNow()).toEqual({ pushed: 0, pulled: 0, applied: 0 })

        // When one side leaves, the relay closes the other.
        const ended = (async () => {
            for await (const _ of guestChannel.messages()) {
                // nothing more arrives
            }
        })()
        await hostChannel.close()
        await ended
        await expect(guestChannel.send({ type: 'pause' })).rejects.toMatchObject({ code: 'CHANNEL_CLOSED' })
    })

    it('refuses a wrong, reused, expired and another user\'s code, a bad ticket, and rate-limits guessing', async () => {
        const clock = { now: Date.now() }
        const started = await start(storeName, clock)
        service = started.service
        const { url, alice, bob } = started
        expect(await refusal(joinPairing({ url, token: alice, code: 'ABCDEFGH' }))).toEqual({ code: 'PAIRING_CODE_UNKNOWN', status: 404 })
        expect(await refusal(joinPairing({ url, token: alice, code: 'short' }))).toEqual({ code: 'VALIDATION', status: 400 })
        expect(await refusal(createPairing({ url }))).toEqual({ code: 'UNAUTHORIZED', status: 401 })

        const used = await createPairing({ url, token: alice })
        await joinPairing({ url, token: alice, code: used.code })
        expect(await refusal(joinPairing({ url, token: alice, code: used.code }))).toEqual({ code: 'PAIRING_CODE_USED', status: 409 })

        const other = await createPairing({ url, token: bob })
        expect(await refusal(joinPairing({ url, token: alice, code: other.code }))).toEqual({ code: 'PAIRING_CODE_UNKNOWN', status: 404 })

        const old = await createPairing({ url, token: alice })
        clock.now += 6 * 60_000
        expect(await refusal(joinPairing({ url, token: alice, code: old.code }))).toEqual({ code: 'PAIRING_CODE_EXPIRED', status: 410 })

        await expect(openPairingChannel({ url, ticket: 'not-a-ticket', WebSocket: Socket })).rejects.toMatchObject({ code: 'PAIRING_REFUSED' })
        // A ticket opens one socket only.
        const fresh = await createPairing({ url, token: alice })
        const first = await openPairingChannel({ url, ticket: fresh.ticket, WebSocket: Socket })
        await expect(openPairingChannel({ url, ticket: fresh.ticket, WebSocket: Socket })).rejects.toMatchObject({ code: 'PAIRING_REFUSED' })
        await first.close()

        // Bob has made no failed attempt yet: his limit is his own.
        for (let attempt = 0; attempt < 10; attempt++) {
            await refusal(joinPairing({ url, token: bob, code: 'ZZZZZZZZ' }))
        }
        const bobs = await createPairing({ url, token: bob })
        expect(await refusal(joinPairing({ url, token: bob, code: bobs.code }))).toEqual({ code: 'RATE_LIMITED', status: 429 })
        await joinPairing({ url, token: alice, code: (await createPairing({ url, token: alice })).code })
    })
})

describe('pairing without the optional ws package', () => {
    it('keeps the service running and answers the pairing routes with 501 PAIRING_UNAVAILABLE', async () => {
        const script = `
            const { createSyncService } = require('./ts/server/service')
            const { SqliteDocStore } = require('./ts/server/store/sqlite')
            createSyncService({ store: new SqliteDocStore({ filename: ':memory:' }), live: false }).then(async service => {
                const pairing = await service.app.inject({ method: 'POST', url: '/Pairing', payload: {}, headers: { host: '127.0.0.1:8787' } })
                const health = await service.app.inject({ method: 'GET', url: '/health', headers: { host: '127.0.0.1:8787' } })
                process.stdout.write(JSON.stringify({ status: pairing.statusCode, body: pairing.json(), health: health.statusCode }))
                await service.close()
            })`
        const output = await new Promise<string>((resolve, reject) => {
            const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', './ts/server/test-hide-modules.ts', '-e', script], {
                cwd: join(__dirname, '..', '..', '..'),
                env: { ...process.env, HIDE_MODULES: 'ws' },
            })
            let stdout = ''
            let stderr = ''
            child.stdout.on('data', chunk => (stdout += chunk))
            child.stderr.on('data', chunk => (stderr += chunk))
            child.on('error', reject)
            child.on('exit', code => (code === 0 ? resolve(stdout) : reject(new Error(`exit ${code}: ${stderr}`))))
        })
        const result = JSON.parse(output)
        expect(result).toMatchObject({ status: 501, health: 200, body: { error: { code: 'PAIRING_UNAVAILABLE' } } })
    }, 60_000)
})
