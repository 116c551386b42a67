/**
 * Fairness and bounded memory of the sync service (issue 10), with the service in its own
 * process (`synclog serve`, SQLite file) and the clients in this one:
 *
 * (a) a probe client's small `POST /Docs` (one document) and `GET /health`, p50/p99/max, with
 *     the service idle, while another client pushes 5,000-document batches back to back, and
 *     while another client reconciles a 100,000-document state back to back (target: p99
 *     <= 50 ms, or <= 3x the idle p99 of the same run);
 * (b) the service's peak RSS (VmHWM) while 48 clients send maximum-size `/Reconcile` bodies
 *     (60 MiB) at once, and how they were answered (at most `maxHeavyRequests` are taken in, the
 *     rest get 429 BUSY before their body is read).
 *
 *   npm run bench -- fairness     (FAIRNESS_SECONDS=8 per phase)
 */
import { readFileSync, mkdtempSync, rmSync } from 'fs'
import { tmpdir } from 'os'
import { join } from 'path'
import { startServiceProcess } from '../ts/integration/service-process'
import type { ServiceProcess } from '../ts/integration/service-process'
import type { BenchTable } from './table'

const SECONDS = Number(process.env.FAIRNESS_SECONDS ?? 8)
const PUSH_DOCS = 5000
const RECONCILE_DOCS = 100_000
const PARALLEL_BODIES = 48

function percentile(sorted: number[], p: number): number {
    return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN
}

const post = (url: string, path: string, body: string | Uint8Array<ArrayBuffer>) =>
    fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body })

/** The probe: alternately a one-document push and a health check, timing each, for `seconds`. */
async function probe(url: string, seconds: number): Promise<{ docs: number[]; health: number[]; errors: number }> {
    const docs: number[] = []
    const health: number[] = []
    let errors = 0
    const end = Date.now() + seconds * 1000
    for (let n = 0; Date.now() < end; n++) {
        let started = performance.now()
        const pushed = await post(url, '/Docs', JSON.stringify({ clientId: 'probe', docs: [{ id: `probe-${n}`, clientVersion: 1, data: { n } }] }))
        await pushed.text()
        docs.push(performance.now() - started)
        errors += pushed.status === 200 ? 0 : 1
        started = performance.now()
        const checked = await fetch(url + '/health')
        await checked.text()
        health.push(performance.now() - started)
        errors += checked.status === 200 ? 0 : 1
        await new Promise((resolve) => setTimeout(resolve, 20))
    }
    return { docs: docs.sort((a, b) => a - b), health: health.sort((a, b) => a - b), errors }
}

function batch(prefix: string, count: number): string {
    return JSON.stringify({
        clientId: prefix,
        docs: Array.from({ length: count }, (_, n) => ({ id: `${prefix}-${n}`, clientVersion: Date.now(), data: { title: `document ${n}`, body: 'b'.repeat(120) } })),
    })
}

/** Runs `work` back to back until `stop()` is called; counts what it did. */
function background(work: () => Promise<number>): { stop(): Promise<{ rounds: number; statuses: Map<number, number> }> } {
    let stopped = false
    const statuses = new Map<number, number>()
    let rounds = 0
    const running = (async () => {
        while (!stopped) {
            const status = await work().catch(() => 0)
            statuses.set(status, (statuses.get(status) ?? 0) + 1)
            rounds += 1
        }
    })()
    return {
        async stop() {
            stopped = true
            await running
            return { rounds, statuses }
        },
    }
}

function peakRssMiB(pid: number): number {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const match = /VmHWM:\s+(\d+) kB/.exec(status)
    return match ? Number(match[1]) / 1024 : NaN
}

function currentRssMiB(pid: number): number {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) / 1024 : NaN
}

async function withService<T>(use: (service: ServiceProcess) => Promise<T>): Promise<T> {
    const dir = mkdtempSync(join(tmpdir(), 'synclog-bench-fairness-'))
    const service = await startServiceProcess(['serve', '--port', '0', '--db', join(dir, 'bench.sqlite')])
    try {
        return await use(service)
    } finally {
        await service.stop()
        rmSync(dir, { recursive: true, force: true })
    }
}

export async function run(): Promise<BenchTable[]> {
    const latency: BenchTable = {
        title: `Fairness: a probe client's latency while another client loads the service (ms, ${SECONDS} s per phase)`,
        columns: ['load', 'POST /Docs p50', 'POST /Docs p99', 'POST /Docs max', '/health p50', '/health p99', '/health max', 'probe errors', 'load requests'],
        rows: [],
        notes: [],
    }
    const memory: BenchTable = {
        title: `Bounded memory: ${PARALLEL_BODIES} concurrent 60 MiB /Reconcile bodies`,
        columns: ['service RSS before (MiB)', 'peak RSS (MiB)', 'answers'],
        rows: [],
    }
    await withService(async (service) => {
        const url = service.url
        const row = (label: string, result: Awaited<ReturnType<typeof probe>>, load: string) => [
            label,
            percentile(result.docs, 50),
            percentile(result.docs, 99),
            result.docs[result.docs.length - 1],
            percentile(result.health, 50),
            percentile(result.health, 99),
            result.health[result.health.length - 1],
            result.errors,
            load,
        ]
        const idle = await probe(url, SECONDS)
        latency.rows.push(row('none (idle)', idle, '-'))

        const pusher = background(async () => {
            const response = await post(url, '/Docs', batch(`push-${Date.now()}`, PUSH_DOCS))
            await response.text()
            return response.status
        })
        const pushed = await probe(url, SECONDS)
        const pushes = await pusher.stop()
        latency.rows.push(row(`${PUSH_DOCS}-doc POST /Docs back to back`, pushed, `${pushes.rounds} batches`))

        // The state the reconciling client holds: the service has it too (as after a reset of the client's SyncId).
        const state = batch('state', RECONCILE_DOCS)
        for (let start = 0; start < RECONCILE_DOCS; start += PUSH_DOCS) {
            const docs = (JSON.parse(state) as { docs: unknown[] }).docs.slice(start, start + PUSH_DOCS)
            await (await post(url, '/Docs', JSON.stringify({ clientId: 'state', docs }))).text()
        }
        const reconciler = background(async () => {
            const response = await post(url, '/Reconcile', state)
            await response.text()
            return response.status
        })
        const reconciled = await probe(url, SECONDS)
        const reconciles = await reconciler.stop()
        latency.rows.push(row(`${RECONCILE_DOCS.toLocaleString('en-US')}-doc /Reconcile back to back (${(state.length / 2 ** 20).toFixed(0)} MiB)`, reconciled, `${reconciles.rounds} reconciliations`))
        const idleP99 = Math.max(percentile(idle.docs, 99), percentile(idle.health, 99))
        latency.notes!.push(
            `Target: p99 <= 50 ms or <= 3x the idle p99 (${idleP99.toFixed(1)} ms, so <= ${Math.max(50, 3 * idleP99).toFixed(1)} ms). ` +
                `SQLite file (WAL), service defaults (maxHeavyRequests 2, writes in chunks of 500 documents, reconciliation in pages of 1000 with the event loop yielded between them).`,
        )
    })
    await withService(async (service) => {
        const before = currentRssMiB(service.pid)
        // ~60 MiB: 100,000 documents of ~600 bytes, one buffer shared by every sender.
        const docs = Array.from({ length: RECONCILE_DOCS }, (_, n) => ({ id: `big-${n}`, clientVersion: 1, data: { body: 'x'.repeat(560) } }))
        const body = new TextEncoder().encode(JSON.stringify({ clientId: 'big', docs }))
        const answers = new Map<string, number>()
        await Promise.all(
            Array.from({ length: PARALLEL_BODIES }, async () => {
                try {
                    const response = await post(service.url, '/Reconcile', body)
                    const parsed = (await response.json().catch(() => ({}))) as { error?: { code?: string } }
                    const key = `${response.status}${parsed.error?.code ? ' ' + parsed.error.code : ''}`
                    answers.set(key, (answers.get(key) ?? 0) + 1)
                } catch (error) {
                    const key = `network error (${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message})`
                    answers.set(key, (answers.get(key) ?? 0) + 1)
                }
            }),
        )
        memory.rows.push([
            before,
            peakRssMiB(service.pid),
            [...answers].map(([key, count]) => `${count}x ${key}`).join(', ') + ` (body ${(body.length / 2 ** 20).toFixed(1)} MiB)`,
        ])
    })
    return [latency, memory]
}

if (require.main === module) {
    run().then(
        async (tables) => {
            const { formatTable } = await import('./table')
            for (const table of tables) {
                console.log(formatTable(table) + '\n')
            }
        },
        (error) => {
            console.error(error)
            process.exit(1)
        },
    )
}
