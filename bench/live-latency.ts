/**
 * Live latency of ContinuousSync over loopback: the service in its own process (`synclog serve`),
 * devices A and B in this one (Dexie on fake-indexeddb), each running a ContinuousSync with the
 * default options (change debounce 5 ms, max 100 ms) and live notifications. A writes one note
 * every 10 ms for 10 s; for each note, the time from just before A's write to B having applied
 * it (B's `reconciled` event). Then both stay idle with the live connection up, and every HTTP
 * request either device makes is counted.
 *
 *   npm run bench -- live
 *   (SYNCLOG_BENCH_STORES=sqlite or =postgres for one store; SYNCLOG_BENCH_IDLE_S=60 for a longer idle window;
 *   SYNCLOG_BENCH_LIVE_EVERY_MS=200 for the latency of isolated writes)
 */
import { mkdtempSync, rmSync } from 'fs'
import { tmpdir } from 'os'
import { join } from 'path'
import { ContinuousSync } from '../ts/integration/continuous-sync'
import { waitFor } from '../ts/integration/continuous-sync-fakes'
import { createDevice } from '../ts/integration/devices'
import type { TestDevice } from '../ts/integration/devices'
import { createTemporaryDatabase, startServiceProcess } from '../ts/integration/service-process'
import { testPostgresUrl } from '../ts/server/store/store-suite'
import { HttpSharedSyncLog } from '../ts/shared-log/http'
import type { BenchTable } from './table'

const WRITE_EVERY_MS = Number(process.env.SYNCLOG_BENCH_LIVE_EVERY_MS ?? 10)
const WRITE_FOR_MS = 10_000
const IDLE_MS = Number(process.env.SYNCLOG_BENCH_IDLE_S ?? 30) * 1000

interface Backend {
    name: string
    key: string
    start(): Promise<{ args: string[]; dispose(): Promise<void> }>
}

const BACKENDS: Backend[] = [
    {
        name: 'SQLite (file, WAL)',
        key: 'sqlite',
        async start() {
            const dir = mkdtempSync(join(tmpdir(), 'synclog-bench-live-'))
            return { args: ['--db', join(dir, 'live.sqlite')], dispose: async () => rmSync(dir, { recursive: true, force: true }) }
        },
    },
    {
        name: 'PostgreSQL',
        key: 'postgres',
        async start() {
            const database = await createTemporaryDatabase(testPostgresUrl(), 'synclog_bench_live')
            return { args: ['--postgres', database.url], dispose: () => database.drop() }
        },
    },
]

/** A fetch that counts the requests it sends. */
function countingFetch(): { fetch: typeof fetch; count(): number } {
    let count = 0
    return {
        fetch: (input, init) => {
            count++
            return globalThis.fetch(input, init)
        },
        count: () => count,
    }
}

interface Side {
    device: TestDevice
    loop: ContinuousSync
    requests: () => number
}

async function side(url: string): Promise<Side> {
    const counter = countingFetch()
    const device = await createDevice({ sharedLog: new HttpSharedSyncLog({ url, fetch: counter.fetch, retry: { retries: 2, baseDelayMs: 20 } }) })
    // Live notifications through the log's own subscribe (same URL and counting fetch).
    const loop = new ContinuousSync({ sync: device, multiTab: false, onlineEvents: null })
    return { device, loop, requests: counter.count }
}

function percentile(sorted: number[], p: number): number {
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, Math.max(0, ms)))

async function measure(backend: Backend): Promise<Array<string | number>> {
    const store = await backend.start()
    const service = await startServiceProcess(['serve', '--port', '0', ...store.args])
    const sides: Side[] = []
    try {
        const a = await side(service.url)
        const b = await side(service.url)
        sides.push(a, b)
        const liveUp = new Set<Side>()
        for (const s of sides) {
            s.loop.events.on('liveStatus', event => event.status === 'open' && liveUp.add(s))
            await s.loop.start()
        }
        await waitFor(() => liveUp.size === 2 && sides.every(s => s.loop.state === 'idle'), 'both loops up and live', 30_000)

        const writtenAt = new Map<string, number>()
        const latencies: number[] = []
        b.device.events.on('reconciled', event => {
            const now = performance.now()
            for (const entry of event.entries) {
                const id = String(entry.pk)
                const at = writtenAt.get(id)
                if (entry.collection === 'note' && entry.operation === 'create' && at !== undefined) {
                    latencies.push(now - at)
                    writtenAt.delete(id)
                }
            }
        })
        let counter = 0
        const generateId = () => `live-${++counter}`
        const count = WRITE_FOR_MS / WRITE_EVERY_MS
        const started = performance.now()
        for (let index = 0; index < count; index++) {
            await sleep(started + index * WRITE_EVERY_MS - performance.now())
            const id = generateId()
            writtenAt.set(id, performance.now())
            await a.device.storageManager.collection('note').createObject({ id, title: `note ${index}` })
        }
        await waitFor(() => latencies.length === count, `B to apply all ${count} notes`, 60_000)
        const sorted = [...latencies].sort((x, y) => x - y)

        await waitFor(() => sides.every(s => s.loop.state === 'idle'), 'both loops idle', 30_000)
        const before = a.requests() + b.requests()
        await sleep(IDLE_MS)
        const idleRequests = a.requests() + b.requests() - before
        const perMinutePerDevice = (idleRequests / 2) * (60_000 / IDLE_MS)
        return [backend.name, count, percentile(sorted, 50), percentile(sorted, 99), sorted[sorted.length - 1], perMinutePerDevice]
    } finally {
        for (const s of sides) {
            await s.loop.stop()
        }
        await service.stop()
        await store.dispose()
    }
}

export async function run(): Promise<BenchTable[]> {
    const only = process.env.SYNCLOG_BENCH_STORES
    const rows: Array<Array<string | number>> = []
    for (const backend of BACKENDS) {
        if (!only || only.split(',').includes(backend.key)) {
            rows.push(await measure(backend))
        }
    }
    return [
        {
            title: 'ContinuousSync live latency (A writes, B applies, over a loopback service process)',
            columns: ['store', 'notes', 'p50 ms', 'p99 ms', 'max ms', 'idle requests/min per device'],
            rows,
            notes: [
                `A writes one note every ${WRITE_EVERY_MS} ms for ${WRITE_FOR_MS / 1000} s; latency = from just before A's createObject to B's \`reconciled\` event for it. Default loop options (change debounce 5 ms, max delay 100 ms). Both devices share this process's event loop.`,
                `Idle: ${IDLE_MS / 1000} s with both live connections up; every fetch either device sends is counted (keep-alive comments on the open stream are not requests). Target: p50 <= 20 ms, p99 <= 100 ms, no idle requests.`,
            ],
        },
    ]
}

if (require.main === module) {
    run().then(
        tables => import('./table').then(({ formatTable }) => tables.forEach(table => console.log(formatTable(table) + '\n'))),
        error => {
            console.error(error)
            process.exit(1)
        },
    )
}
