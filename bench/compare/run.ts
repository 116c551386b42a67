/**
 * storex-synclog side by side with RxDB and PouchDB on identical workloads, in one alternating
 * run (every round runs each system once per workload, starting with a different system):
 *   1. mixed writes (60 % create, 30 % update by key, 10 % delete; the write-path workload)
 *   2. new objects A→B, in process and over HTTP on loopback
 *   3. objects edited on both devices offline, then synced: time, identical ends, surviving edits
 *   4. trickle: one write every 10 ms with each system's live mode; latency to B (p50/p99)
 * Prints one table per workload and writes bench/results/compare.svg and compare.json.
 *
 *   npm run bench:compare
 *   COMPARE_RUNS=3 COMPARE_WRITES=10000 COMPARE_TRANSFER=10000 COMPARE_CONFLICTS=1000 COMPARE_TRICKLE_MS=10000 npm run bench:compare
 *   COMPARE_WORKLOADS=writes,transfer,transfer-http,conflicts,trickle COMPARE_SYSTEMS=ours,rxdb-dexie,rxdb-memory,pouchdb
 */
import fs from 'fs'
import os from 'os'
import path from 'path'
import { formatTable } from '../table'
import type { BenchTable } from '../table'
import { makeWorkload, percentile } from './common'
import type { ConflictFindings, Measured, System } from './common'
import { ours } from './ours'
import { rxdbDexie, rxdbMemory } from './rxdb'
import { pouchdbMemory } from './pouchdb'
import { barChart } from './svg'

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback)
const RUNS = env('COMPARE_RUNS', 3)
const WRITES = env('COMPARE_WRITES', 10_000)
const TRANSFER = env('COMPARE_TRANSFER', 10_000)
const CONFLICTS = env('COMPARE_CONFLICTS', 1_000)
const TRICKLE_MS = env('COMPARE_TRICKLE_MS', 10_000)
const INTERVAL_MS = env('COMPARE_INTERVAL_MS', 10)

const SYSTEMS: Record<string, System> = { ours, 'rxdb-dexie': rxdbDexie, 'rxdb-memory': rxdbMemory, pouchdb: pouchdbMemory }

interface Workload {
    key: string
    title: string
    /** What the time column means for this workload. */
    timeLabel: string
    run(system: System): Promise<Measured | null>
}

const WORKLOADS: Workload[] = [
    { key: 'writes', title: `${WRITES.toLocaleString('en-US')} mixed writes`, timeLabel: 'ms', run: system => system.mixedWrites(makeWorkload(WRITES)) },
    { key: 'transfer', title: `${TRANSFER.toLocaleString('en-US')} new objects A→B in process`, timeLabel: 'ms', run: system => system.transfer(TRANSFER, 'process') },
    { key: 'transfer-http', title: `${TRANSFER.toLocaleString('en-US')} new objects A→B over HTTP (loopback)`, timeLabel: 'ms', run: system => (system.http ? system.transfer(TRANSFER, 'http') : Promise.resolve(null)) },
    {
        key: 'conflicts',
        title: `${CONFLICTS.toLocaleString('en-US')} objects edited on both devices offline, then synced`,
        timeLabel: 'ms',
        run: async system => {
            const result = await system.conflicts(CONFLICTS)
            return { ...result, detail: describeFindings(result.findings) }
        },
    },
    {
        key: 'trickle',
        title: `trickle: one write every ${INTERVAL_MS} ms for ${TRICKLE_MS / 1000} s, live replication`,
        timeLabel: 'p50 latency ms',
        run: async system => {
            const result = await system.trickle(TRICKLE_MS, INTERVAL_MS)
            // The "time" of a trickle run is its median latency: the wall time is fixed by the schedule.
            return { ms: percentile(result.latencies, 50), cpuMs: result.cpuMs, ops: result.ops, detail: { p50: percentile(result.latencies, 50), p99: percentile(result.latencies, 99) } }
        },
    },
]

function describeFindings(findings: ConflictFindings): Record<string, string | number | boolean> {
    return { identical: findings.identical, titleFromA: findings.titleFromA, titleFromB: findings.titleFromB, bodyFromB: findings.bodyFromB }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

interface Series {
    ms: number[]
    cpuPerOp: number[]
    details: Array<Record<string, string | number | boolean>>
    skipped?: string
}

export async function run(): Promise<BenchTable[]> {
    const selectedSystems = (process.env.COMPARE_SYSTEMS ?? Object.keys(SYSTEMS).join(',')).split(',').map(name => {
        const system = SYSTEMS[name]
        if (!system) throw new Error(`unknown system '${name}' (known: ${Object.keys(SYSTEMS).join(', ')})`)
        return system
    })
    const selectedWorkloads = WORKLOADS.filter(workload => (process.env.COMPARE_WORKLOADS ?? WORKLOADS.map(w => w.key).join(',')).split(',').includes(workload.key))
    const results = new Map<string, Map<string, Series>>()
    for (const workload of selectedWorkloads) {
        results.set(workload.key, new Map(selectedSystems.map(system => [system.name, { ms: [], cpuPerOp: [], details: [] }])))
    }
    for (let round = 0; round < RUNS; round++) {
        for (const workload of selectedWorkloads) {
            // Alternate: each round starts with the next system, so none always runs first (cold) or last.
            const order = selectedSystems.map((_, index) => selectedSystems[(index + round) % selectedSystems.length])
            for (const system of order) {
                const series = results.get(workload.key)!.get(system.name)!
                if (series.skipped) continue
                try {
                    const measured = await workload.run(system)
                    if (!measured) {
                        series.skipped = 'not available here'
                        continue
                    }
                    series.ms.push(measured.ms)
                    series.cpuPerOp.push(measured.cpuMs / Math.max(1, measured.ops))
                    if (measured.detail) series.details.push(measured.detail)
                    process.stderr.write(`round ${round + 1}/${RUNS} ${workload.key} ${system.name}: ${measured.ms.toFixed(0)} ms\n`)
                } catch (error) {
                    series.skipped = `failed: ${(error as Error).message}`
                    process.stderr.write(`round ${round + 1} ${workload.key} ${system.name} ${series.skipped}\n`)
                }
            }
        }
    }
    const tables = selectedWorkloads.map(workload => table(workload, results.get(workload.key)!, selectedSystems))
    writeResults(selectedWorkloads, results, selectedSystems)
    return tables
}

function table(workload: Workload, series: Map<string, Series>, systems: System[]): BenchTable {
    const mine = series.get(ours.name)
    const ourMs = mine && mine.ms.length ? median(mine.ms) : NaN
    const ourCpu = mine && mine.cpuPerOp.length ? median(mine.cpuPerOp) : NaN
    const rows = systems.map(system => {
        const s = series.get(system.name)!
        if (!s.ms.length) {
            return [system.name, s.skipped ?? 'no runs', '', '', '', '', '']
        }
        const ms = median(s.ms)
        const cpu = median(s.cpuPerOp)
        const detail = s.details.length ? formatDetail(s.details) : ''
        return [
            system.name,
            ms,
            `${formatSpreadValue(Math.min(...s.ms))}–${formatSpreadValue(Math.max(...s.ms))}`,
            cpu * 1000,
            system === ours ? '1' : (ourMs / ms).toFixed(2),
            system === ours ? '1' : (ourCpu / cpu).toFixed(2),
            detail,
        ]
    })
    return {
        title: `Comparison: ${workload.title} (median of ${RUNS})`,
        columns: ['system', `median ${workload.timeLabel}`, 'min–max', 'CPU µs per op', 'ours ÷ peer (time)', 'ours ÷ peer (CPU/op)', 'details'],
        rows,
        notes: notesFor(workload.key),
    }
}

function formatDetail(details: Array<Record<string, string | number | boolean>>): string {
    const keys = Object.keys(details[0])
    return keys
        .map(key => {
            const values = details.map(detail => detail[key])
            if (typeof values[0] === 'number') return `${key} ${median(values as number[]).toFixed(key.startsWith('p') ? 1 : 0)}`
            return `${key} ${[...new Set(values.map(String))].join('/')}`
        })
        .join(', ')
}

function notesFor(key: string): string[] {
    switch (key) {
        case 'writes':
            return ['Each system writes through its own API with its own ids (UUID v4); an update or delete reads the object first where the API needs it (RxDB findOne + incrementalPatch/Remove, PouchDB get + put/remove; ours resolves the key inside its transaction).']
        case 'transfer':
        case 'transfer-http':
            return [
                'Objects written on A untimed (each system\'s bulk insert; ours: logged executeBatch). Timed: A pushes, then B pulls and applies, until B holds every object.',
                'Ours over HTTP: the sync service in process (createSyncService, SQLite in memory). RxDB over HTTP: replicateRxCollection against bench/compare/rx-master.ts behind fastify. PouchDB: no CouchDB-compatible server is installed, so in process only.',
            ]
        case 'conflicts':
            return [
                'Both devices hold the same objects; offline, A edits every title, then B edits every body and every even title. Timed: A syncs, B syncs, A syncs (PouchDB: one bidirectional sync).',
                'titleFromA / titleFromB / bodyFromB: objects that kept that edit. Ours merges per field (last write wins per field: B\'s body everywhere, B\'s later title on the even half, A\'s title on the odd half); RxDB\'s default conflict handler keeps the master\'s (first pushed) whole document; PouchDB picks a winning revision per document and keeps the loser as a conflict.',
            ]
        case 'trickle':
            return ['Latency: from the write on A to the object arriving on B (ours: B\'s reconciled event; RxDB: insert$ on B; PouchDB: changes feed on B), in process. Ours: ContinuousSync on both devices (A syncs on change with changeDebounceMs 0 instead of the default 5, as the peers push at once; B is woken by the memory log\'s live notifications). CPU per op: the whole process during the run, per write.']
        default:
            return []
    }
}

function writeResults(workloads: Workload[], results: Map<string, Map<string, Series>>, systems: System[]): void {
    const dir = path.join(__dirname, '..', 'results')
    fs.mkdirSync(dir, { recursive: true })
    const groups = workloads.map(workload => ({
        title: workload.title,
        unit: `median ${workload.timeLabel}`,
        bars: systems.map(system => {
            const s = results.get(workload.key)!.get(system.name)!
            return { label: system.name, value: s.ms.length ? median(s.ms) : NaN }
        }),
    }))
    const machine = `${os.cpus()[0]?.model ?? 'CPU'} × ${os.cpus().length}, Node ${process.version}, load ${os.loadavg()[0].toFixed(1)}, ${new Date().toISOString().slice(0, 10)}, median of ${RUNS}`
    fs.writeFileSync(path.join(dir, 'compare.svg'), barChart('storex-synclog vs RxDB and PouchDB', machine, groups))
    const json = Object.fromEntries(workloads.map(workload => [workload.key, Object.fromEntries([...results.get(workload.key)!.entries()])]))
    fs.writeFileSync(path.join(dir, 'compare.json'), JSON.stringify({ machine, runs: RUNS, results: json }, null, 2) + '\n')
}

if (require.main === module) {
    console.log(`Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'} × ${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, load ${os.loadavg().map(l => l.toFixed(1)).join(' ')}, ${new Date().toISOString()}\n`)
    run().then(
        tables => {
            tables.forEach(t => console.log(formatTable(t) + '\n'))
            process.exit(0)
        },
        error => {
            console.error(error)
            process.exit(1)
        },
    )
}

/** Whole milliseconds, but a tenth for the few-millisecond latencies of the trickle (else "5–5"). */
function formatSpreadValue(ms: number): string {
    return ms < 100 ? ms.toFixed(1) : Math.round(ms).toLocaleString('en-US')
}
