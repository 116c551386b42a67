/**
 * The sync service measured through HTTP, with the service in its own process (`synclog serve`,
 * as users run it) and the simulated devices in this one:
 *
 * (a) 20 devices (HttpSharedSyncLog instances, the library's HTTP backend) of one user, each
 *     pushing 1,000 changes in 10 batches of 100 and pulling the others' changes after each
 *     batch, then draining, on SQLite and on PostgreSQL;
 * (b) the cost of pulling the same 1,000 new changes (pages of 500, the library's default) when
 *     the store already holds 10k vs 1M documents of that user (seeded straight into the
 *     database with bulk inserts, then the 1,000 changes pushed through HTTP).
 *
 *   npm run bench -- service
 *   (SYNCLOG_BENCH_BIG=200000 for a smaller big store; SYNCLOG_BENCH_STORES=sqlite or =postgres for one store)
 *
 * PostgreSQL: a throwaway database next to `testPostgresUrl()`, dropped after each part.
 */
import { mkdtempSync, rmSync } from 'fs'
import { tmpdir } from 'os'
import { join } from 'path'
import Database from 'better-sqlite3'
import { Pool } from 'pg'
import { createTemporaryDatabase, startServiceProcess } from '../ts/integration/service-process'
import type { ServiceProcess } from '../ts/integration/service-process'
import { SINGLE_USER_ID } from '../ts/server/auth'
import { testPostgresUrl } from '../ts/server/store/store-suite'
import { makeEntries } from '../ts/shared-log/entry-factory'
import { HttpSharedSyncLog } from '../ts/shared-log/http'
import { formatCursor } from '../ts/shared-log/http-mapping'
import type { SharedLogCursor } from '../ts/shared-log/types'
import type { BenchTable } from './table'

const DEVICES = 20
const CHANGES_PER_DEVICE = 1000
const PUSH_BATCH = 100
const PULL_LIMIT = 1000
const NEW_CHANGES = 1000
const PULL_PAGE = 500
const PULL_RUNS = 5
const SMALL = 10_000
const BIG = Number(process.env.SYNCLOG_BENCH_BIG ?? 1_000_000)
/** What a seeded document holds: a log entry of typical size (its content is never read). */
const SEED_DATA = JSON.stringify({ collection: 'note', pk: 'seeded', operation: 'modify', field: 'title', value: 'an old title', version: 1, deviceId: 'seed', schemaVersion: 1 })

/** One store kind: how to start a service on a fresh database, and how to bulk-fill that database. */
interface Backend {
    name: string
    open(): Promise<{ args: string[]; seed: Seeder; dispose(): Promise<void> }>
}

/** Adds `count` documents of the single user straight into the database; returns the user's last seq. */
type Seeder = (count: number) => Promise<number>

const sqlite: Backend = {
    name: 'SQLite (file, WAL)',
    async open() {
        const dir = mkdtempSync(join(tmpdir(), 'synclog-bench-service-'))
        const filename = join(dir, 'bench.sqlite')
        let db: Database.Database | undefined
        const seed: Seeder = async count => {
            // Opened lazily: the service creates the schema on start.
            db ??= new Database(filename)
            db.pragma('busy_timeout = 10000')
            const raw = db
            return raw.transaction(() => {
                raw.prepare('INSERT INTO users (user_id, last_seq, created_ms) VALUES (?, 0, 0) ON CONFLICT (user_id) DO NOTHING').run(SINGLE_USER_ID)
                const { last_seq: last } = raw.prepare('SELECT last_seq FROM users WHERE user_id = ?').get(SINGLE_USER_ID) as { last_seq: number }
                const insert = raw.prepare("INSERT INTO docs (user_id, id, client_version, client_id, data, deleted, last_update_ms, seq) VALUES (?, ?, 1, 'seed', ?, 0, 0, ?)")
                for (let i = 1; i <= count; i++) {
                    insert.run(SINGLE_USER_ID, `seeded-${last + i}`, SEED_DATA, last + i)
                }
                raw.prepare('UPDATE users SET last_seq = ? WHERE user_id = ?').run(last + count, SINGLE_USER_ID)
                return last + count
            })()
        }
        return {
            args: ['--db', filename],
            seed,
            async dispose() {
                db?.close()
                rmSync(dir, { recursive: true, force: true })
            },
        }
    },
}

const postgres: Backend = {
    name: 'PostgreSQL',
    async open() {
        const database = await createTemporaryDatabase(testPostgresUrl(), 'synclog_bench')
        const pool = new Pool({ connectionString: database.url, max: 1 })
        // The drop at the end disconnects whatever is left; that must not crash the run.
        pool.on('error', () => {})
        const seed: Seeder = async count => {
            const client = await pool.connect()
            try {
                await client.query('BEGIN')
                await client.query('INSERT INTO public.users (user_id, last_seq, created_ms) VALUES ($1, 0, 0) ON CONFLICT (user_id) DO NOTHING', [SINGLE_USER_ID])
                const last = Number((await client.query('SELECT last_seq FROM public.users WHERE user_id = $1 FOR UPDATE', [SINGLE_USER_ID])).rows[0].last_seq)
                await client.query(
                    `INSERT INTO public.docs (user_id, id, client_version, client_id, data, deleted, last_update_ms, seq)
                     SELECT $1, 'seeded-' || (i + $2), 1, 'seed', $3, false, 0, i + $2 FROM generate_series(1, $4::bigint) i`,
                    [SINGLE_USER_ID, last, SEED_DATA, count],
                )
                await client.query('UPDATE public.users SET last_seq = $1 WHERE user_id = $2', [last + count, SINGLE_USER_ID])
                await client.query('COMMIT')
                await client.query('ANALYZE public.docs')
                return last + count
            } catch (error) {
                await client.query('ROLLBACK')
                throw error
            } finally {
                client.release()
            }
        }
        return {
            args: ['--postgres', database.url],
            seed,
            async dispose() {
                await pool.end()
                await database.drop()
            },
        }
    },
}

/** Request latencies by route, measured around fetch including reading the body. */
class Latencies {
    readonly byRoute = new Map<string, number[]>()

    fetch: typeof fetch = async (input, init) => {
        const started = performance.now()
        const response = await fetch(input, init)
        const text = await response.text()
        const route = new URL(String(input)).pathname
        const list = this.byRoute.get(route) ?? []
        list.push(performance.now() - started)
        this.byRoute.set(route, list)
        return new Response(text, { status: response.status, statusText: response.statusText, headers: response.headers })
    }

    percentile(route: string, p: number): number {
        const sorted = [...(this.byRoute.get(route) ?? [])].sort((a, b) => a - b)
        return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] : NaN
    }

    count(route?: string): number {
        return route ? this.byRoute.get(route)?.length ?? 0 : [...this.byRoute.values()].reduce((sum, list) => sum + list.length, 0)
    }

    clear(): void {
        this.byRoute.clear()
    }
}

async function serverSyncId(url: string): Promise<string> {
    return ((await (await fetch(`${url}/SyncId`)).json()) as { syncId: string }).syncId
}

/** A device's log that already knows the SyncId, so the run measures sync traffic, not a first reconciliation. */
function deviceLog(url: string, syncId: string, latencies: Latencies): HttpSharedSyncLog {
    return new HttpSharedSyncLog({ url, fetch: latencies.fetch, syncIdStore: { get: async () => syncId, set: async () => {} } })
}

/** Reads until `hasMore` is false; returns the number of entries and the new cursor. */
async function drain(log: HttpSharedSyncLog, deviceId: string, cursor: SharedLogCursor | null, limit: number) {
    let received = 0
    for (;;) {
        const page = await log.readEntries({ deviceId, cursor, limit })
        received += page.entries.length
        cursor = page.cursor
        if (!page.hasMore) {
            return { received, cursor }
        }
    }
}

async function withService<T>(backend: Backend, use: (url: string, seed: Seeder) => Promise<T>): Promise<T> {
    const opened = await backend.open()
    let service: ServiceProcess | undefined
    try {
        service = await startServiceProcess(['serve', '--port', '0', ...opened.args])
        return await use(service.url, opened.seed)
    } finally {
        await service?.stop()
        await opened.dispose()
    }
}

const ms = (value: number) => Number(value.toFixed(1))

async function devicesRow(backend: Backend): Promise<Array<string | number>> {
    return withService(backend, async url => {
        const syncId = await serverSyncId(url)
        const latencies = new Latencies()
        const devices = Array.from({ length: DEVICES }, (_, index) => ({ id: `bench-device-${index}`, log: deviceLog(url, syncId, latencies), cursor: null as SharedLogCursor | null, received: 0 }))
        const started = performance.now()
        await Promise.all(
            devices.map(async device => {
                for (let pushed = 0; pushed < CHANGES_PER_DEVICE; pushed += PUSH_BATCH) {
                    await device.log.writeEntries({ deviceId: device.id, entries: makeEntries(PUSH_BATCH, { deviceId: device.id }) })
                    const pulled = await drain(device.log, device.id, device.cursor, PULL_LIMIT)
                    device.received += pulled.received
                    device.cursor = pulled.cursor
                }
            }),
        )
        // Everyone has pushed; each device now fetches what arrived after its last pull.
        await Promise.all(
            devices.map(async device => {
                const pulled = await drain(device.log, device.id, device.cursor, PULL_LIMIT)
                device.received += pulled.received
            }),
        )
        const seconds = (performance.now() - started) / 1000
        const expected = (DEVICES - 1) * CHANGES_PER_DEVICE
        const wrong = devices.filter(device => device.received !== expected)
        if (wrong.length) {
            throw new Error(`${wrong.length} devices received the wrong number of changes (e.g. ${wrong[0].received}, expected ${expected})`)
        }
        const pushed = DEVICES * CHANGES_PER_DEVICE
        const pulled = DEVICES * expected
        return [
            backend.name,
            ms(seconds),
            Math.round(pushed / seconds),
            Math.round(pulled / seconds),
            Math.round((pushed + pulled) / seconds),
            ms(latencies.percentile('/Docs', 50)),
            ms(latencies.percentile('/Docs', 99)),
            ms(latencies.percentile('/Docs/Query', 50)),
            ms(latencies.percentile('/Docs/Query', 99)),
            latencies.count(),
        ]
    })
}

async function pullScalingRows(backend: Backend): Promise<Array<Array<string | number>>> {
    return withService(backend, async (url, seed) => {
        const syncId = await serverSyncId(url)
        const latencies = new Latencies()
        const writer = deviceLog(url, syncId, latencies)
        const reader = deviceLog(url, syncId, latencies)
        const rows: Array<Array<string | number>> = []
        let stored = 0
        for (const size of [SMALL, BIG]) {
            const seedStarted = performance.now()
            const before = await seed(size - stored)
            const seedSeconds = (performance.now() - seedStarted) / 1000
            stored = size
            // The same 1,000 new changes (new documents) on top of the store, pushed through HTTP.
            await writer.writeEntries({ deviceId: 'writer', entries: makeEntries(NEW_CHANGES, { deviceId: 'writer' }) })
            stored += NEW_CHANGES
            // One untimed pull first, so the first size does not pay the service's warm-up (JIT, caches).
            await drain(reader, 'reader', formatCursor({ syncId, seq: before }), PULL_PAGE)
            latencies.clear()
            const runs: number[] = []
            for (let run = 0; run < PULL_RUNS; run++) {
                const started = performance.now()
                const pulled = await drain(reader, 'reader', formatCursor({ syncId, seq: before }), PULL_PAGE)
                runs.push(performance.now() - started)
                if (pulled.received !== NEW_CHANGES) {
                    throw new Error(`pulled ${pulled.received} changes, expected ${NEW_CHANGES}`)
                }
            }
            runs.sort((a, b) => a - b)
            rows.push([
                backend.name,
                size,
                Number(seedSeconds.toFixed(2)),
                ms(runs[Math.floor(PULL_RUNS / 2)]),
                latencies.count('/Docs/Query') / PULL_RUNS,
                ms(latencies.percentile('/Docs/Query', 50)),
                ms(latencies.percentile('/Docs/Query', 99)),
            ])
        }
        return rows
    })
}

export async function run(): Promise<BenchTable[]> {
    const only = process.env.SYNCLOG_BENCH_STORES?.split(',')
    const backends = [sqlite, postgres].filter(backend => !only || only.some(name => backend.name.toLowerCase().startsWith(name)))
    const deviceRows: Array<Array<string | number>> = []
    for (const backend of backends) {
        deviceRows.push(await devicesRow(backend))
    }
    const pullRows: Array<Array<string | number>> = []
    for (const backend of backends) {
        pullRows.push(...(await pullScalingRows(backend)))
    }
    return [
        {
            title: `Sync service over HTTP: ${DEVICES} devices × ${CHANGES_PER_DEVICE.toLocaleString('en-US')} changes, pushing and pulling concurrently`,
            columns: ['store', 'wall s', 'pushed docs/s', 'pulled docs/s', 'all docs/s', 'POST /Docs p50 ms', 'p99 ms', 'POST /Docs/Query p50 ms', 'p99 ms', 'requests'],
            rows: deviceRows,
            notes: [
                `Each device is an HttpSharedSyncLog of one user: ${CHANGES_PER_DEVICE / PUSH_BATCH} pushes of ${PUSH_BATCH} entries, each followed by pulls (pages of up to ${PULL_LIMIT}) until caught up, then a final pull; every device must receive exactly the other ${DEVICES - 1} devices' ${((DEVICES - 1) * CHANGES_PER_DEVICE).toLocaleString('en-US')} changes.`,
                'The service runs as its own `synclog serve` process; all 20 devices share this process, so latencies include waiting for its event loop. Pulled docs/s counts each delivery (one change reaches 19 devices).',
            ],
        },
        {
            title: `Pulling the same ${NEW_CHANGES.toLocaleString('en-US')} new changes through HTTP: ${SMALL.toLocaleString('en-US')} vs ${BIG.toLocaleString('en-US')} documents already stored`,
            columns: ['store', 'documents before', 'seed s', `pull of ${NEW_CHANGES.toLocaleString('en-US')} ms (median of ${PULL_RUNS})`, 'requests per pull', 'POST /Docs/Query p50 ms', 'p99 ms'],
            rows: pullRows,
            notes: [
                `The old documents belong to the same user as the new ones (seeded with bulk inserts straight into the service's database); the reader pulls with a \`since\` cursor in pages of ${PULL_PAGE} (the library's default), origin=other.`,
            ],
        },
    ]
}
