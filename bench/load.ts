/**
 * Load (issue 10): 50 simulated devices of one user against `synclog serve` in its own process,
 * on SQLite (file, WAL) and on PostgreSQL, for LOAD_SECONDS (default 60) each. Every device is
 * an `HttpSharedSyncLog` (the library's HTTP client) that, in a loop, pushes 1-10 new entries,
 * pulls what the others wrote since its cursor, acknowledges it, and pauses 50-250 ms (a busy
 * device). Reported: requests/s, p50/p99/max per request, errors (any non-2xx or network
 * error: must be 0), and final convergence: after the run every device drains the log and must
 * hold every entry the others wrote.
 *
 *   npm run bench:load            (LOAD_SECONDS=60 LOAD_DEVICES=50 LOAD_STORES=sqlite,postgres)
 */
import { mkdtempSync, rmSync } from 'fs'
import os from 'os'
import { tmpdir } from 'os'
import { join } from 'path'
import { createTemporaryDatabase, startServiceProcess } from '../ts/integration/service-process'
import { entryId } from '../ts/entries/keys'
import { testPostgresUrl } from '../ts/server/store/store-suite'
import { makeEntries } from '../ts/shared-log/entry-factory'
import { HttpSharedSyncLog } from '../ts/shared-log/http'
import type { SharedLogCursor } from '../ts/shared-log/types'
import { formatTable } from './table'
import type { BenchTable } from './table'

const SECONDS = Number(process.env.LOAD_SECONDS ?? 60)
const DEVICES = Number(process.env.LOAD_DEVICES ?? 50)
const STORES = (process.env.LOAD_STORES ?? 'sqlite,postgres').split(',')

function percentile(sorted: number[], p: number): number {
    return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN
}

interface Outcome {
    requests: number
    latencies: number[]
    errors: number
    written: number
    converged: string
}

async function drive(url: string): Promise<Outcome> {
    const latencies: number[] = []
    let errors = 0
    const timed: typeof fetch = async (input, init) => {
        const started = performance.now()
        try {
            const response = await fetch(input, init)
            const text = await response.text()
            latencies.push(performance.now() - started)
            if (response.status >= 300) {
                errors += 1
            }
            return new Response(text, { status: response.status, headers: response.headers })
        } catch (error) {
            errors += 1
            throw error
        }
    }
    const written = new Map<string, Set<string>>()
    const devices = Array.from({ length: DEVICES }, (_, index) => ({
        id: `load-device-${index}`,
        log: new HttpSharedSyncLog({ url, fetch: timed, retry: { retries: 0 } }),
        cursor: null as SharedLogCursor | null,
        seen: new Set<string>(),
    }))
    for (const device of devices) {
        await device.log.registerDevice({ deviceId: device.id })
        written.set(device.id, new Set())
    }
    const end = Date.now() + SECONDS * 1000
    const pull = async (device: (typeof devices)[number]) => {
        for (;;) {
            const page = await device.log.readEntries({ deviceId: device.id, cursor: device.cursor, limit: 500 })
            page.entries.forEach((entry) => device.seen.add(entryId(entry)))
            if (page.cursor !== device.cursor && page.cursor !== null) {
                device.cursor = page.cursor
                await device.log.acknowledge({ deviceId: device.id, cursor: page.cursor })
            }
            if (!page.hasMore) {
                return
            }
        }
    }
    await Promise.all(
        devices.map(async (device) => {
            while (Date.now() < end) {
                const entries = makeEntries(1 + Math.floor(Math.random() * 10), { deviceId: device.id })
                await device.log.writeEntries({ deviceId: device.id, entries })
                entries.forEach((entry) => written.get(device.id)!.add(entryId(entry)))
                await pull(device)
                await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 200))
            }
        }),
    )
    const requests = latencies.length
    const load = latencies.slice()
    // Final convergence: every device drains, then must hold every other device's entries.
    await Promise.all(devices.map(pull))
    let missing = 0
    for (const device of devices) {
        for (const [writer, ids] of written) {
            if (writer !== device.id) {
                ids.forEach((id) => (missing += device.seen.has(id) ? 0 : 1))
            }
        }
    }
    const total = [...written.values()].reduce((sum, ids) => sum + ids.size, 0)
    return { requests, latencies: load.sort((a, b) => a - b), errors, written: total, converged: missing === 0 ? `yes (${DEVICES} devices, 0 missing)` : `NO: ${missing} missing` }
}

export async function run(): Promise<BenchTable[]> {
    const table: BenchTable = {
        title: `Load: ${DEVICES} devices for ${SECONDS} s each (push 1-10 entries, pull, ack, pause 50-250 ms)`,
        columns: ['store', 'requests', 'requests/s', 'p50 (ms)', 'p99 (ms)', 'max (ms)', 'errors', 'entries written', 'final convergence'],
        rows: [],
        notes: [
            `${new Date().toISOString().slice(0, 10)}, ${os.cpus()[0]?.model ?? 'unknown CPU'} x ${os.cpus().length}, Node ${process.version}; ` +
                'service and devices on the same machine (the devices share one Node process).',
        ],
    }
    for (const store of STORES) {
        let args: string[]
        let dispose: () => Promise<void>
        if (store === 'sqlite') {
            const dir = mkdtempSync(join(tmpdir(), 'synclog-bench-load-'))
            args = ['--db', join(dir, 'load.sqlite')]
            dispose = async () => rmSync(dir, { recursive: true, force: true })
        } else {
            const database = await createTemporaryDatabase(testPostgresUrl(), 'synclog_load')
            args = ['--postgres', database.url]
            dispose = () => database.drop()
        }
        const service = await startServiceProcess(['serve', '--port', '0', ...args])
        try {
            const outcome = await drive(service.url)
            table.rows.push([
                store === 'sqlite' ? 'SQLite (file, WAL)' : 'PostgreSQL',
                outcome.requests,
                outcome.requests / SECONDS,
                percentile(outcome.latencies, 50),
                percentile(outcome.latencies, 99),
                outcome.latencies[outcome.latencies.length - 1],
                outcome.errors,
                outcome.written,
                outcome.converged,
            ])
        } finally {
            await service.stop()
            await dispose()
        }
    }
    return [table]
}

if (require.main === module) {
    run().then(
        (tables) => {
            for (const table of tables) {
                console.log(formatTable(table) + '\n')
            }
            process.exit(0)
        },
        (error) => {
            console.error(error)
            process.exit(1)
        },
    )
}
