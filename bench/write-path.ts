/**
 * Write-path overhead of the library: the same 10,000 mixed writes (60% create, 30% update by pk,
 * 10% delete by pk, from a seeded PRNG) on Dexie over fake-indexeddb, once through plain Storex
 * and once through setupSync (UUID auto-PK + sync logging, each write and its entries in one
 * transaction; memory shared log, no sync). Each setup gets a warm-up run, then 3 measured runs
 * on fresh databases, interleaved between the setups; the median counts.
 *
 *   npx ts-node --transpile-only bench/run.ts write-path
 */
import type StorageManager from '@worldbrain/storex'
import { createDevice, createDexieStorageManager, createSqliteStorageManager } from '../ts/integration/devices'
import { MemorySharedSyncLog } from '../ts/shared-log/memory'
import type { BenchTable } from './table'
import { applyWrites, makeWorkload, WORKLOAD_SEED } from './write-workload'
import type { Write } from './write-workload'

export { makeWorkload } from './write-workload'

/** Scale by env: WRITE_COUNT (default 10,000), WRITE_RUNS (3), WRITE_BACKENDS=dexie,sqlite. */
const WRITES = Number(process.env.WRITE_COUNT ?? 10_000)
const WARM_UP_WRITES = 1_000
const RUNS = Number(process.env.WRITE_RUNS ?? 3)
const SELECTED = (process.env.WRITE_BACKENDS ?? 'dexie,sqlite').split(',')
const TARGET_RATIO = 1.5




/** Wall-clock and CPU milliseconds (this process, user + system) of one run. */
async function runWorkload(manager: StorageManager, writes: Write[]): Promise<{ wallMs: number; cpuMs: number }> {
    const cpu = process.cpuUsage()
    const start = performance.now()
    await applyWrites(manager, writes)
    const wallMs = performance.now() - start
    const { user, system } = process.cpuUsage(cpu)
    return { wallMs, cpuMs: (user + system) / 1000 }
}

interface Setup {
    name: string
    create(): Promise<{ manager: StorageManager; check(): Promise<void> }>
}

const SETUPS: Setup[] = [
    {
        name: 'plain Storex (Dexie)',
        async create() {
            const manager = createDexieStorageManager()
            await manager.finishInitialization()
            return { manager, check: async () => {} }
        },
    },
    {
        name: 'setupSync (auto-PK + sync logging)',
        async create() {
            const device = await createDevice({ sharedLog: new MemorySharedSyncLog() })
            return {
                manager: device.storageManager,
                // Keeps the benchmark honest: the log must hold an entry per create, field and delete.
                check: async () => {
                    if ((await device.clientLog.countEntries()) === 0) {
                        throw new Error('write-path bench: nothing was logged')
                    }
                },
            }
        },
    },
]

/** The same two setups on SQLite (storex-backend-typeorm, in-memory database). */
const SQLITE_SETUPS: Setup[] = [
    {
        name: 'plain Storex (SQLite)',
        async create() {
            const manager = createSqliteStorageManager()
            await manager.finishInitialization()
            await (manager.backend as unknown as { migrate(): Promise<void> }).migrate()
            return { manager, check: async () => {} }
        },
    },
    {
        name: 'setupSync on SQLite (auto-PK + sync logging)',
        async create() {
            const device = await createDevice({ sharedLog: new MemorySharedSyncLog(), storageManager: createSqliteStorageManager() })
            return {
                manager: device.storageManager,
                check: async () => {
                    if ((await device.clientLog.countEntries()) === 0) {
                        throw new Error('write-path bench: nothing was logged')
                    }
                },
            }
        },
    },
]

const BACKEND_SETUPS: Array<{ label: string; setups: Setup[] }> = [
    { label: 'Dexie/fake-indexeddb', setups: SETUPS },
    { label: 'SQLite in memory (storex-backend-typeorm)', setups: SQLITE_SETUPS },
]

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

export async function run(): Promise<BenchTable[]> {
    const tables: BenchTable[] = []
    const stored = (process.env.WRITE_STORED ?? '').split(',').filter(Boolean).map(Number)
    if (stored.length) {
        // Scaling only (Dexie): seeding 100k objects takes a while, so it runs when asked for.
        return [await storedTable(stored)]
    }
    for (const { label, setups } of BACKEND_SETUPS.filter(candidate => SELECTED.some(name => candidate.label.toLowerCase().includes(name)))) {
        tables.push(...(await runBackend(label, setups)))
    }
    return tables
}

/**
 * The logged write path with `n` objects (and their log entries) already stored: the per-write
 * cost should not grow with the database. Each round seeds a fresh device per size (logged
 * executeBatch calls of 500 creates; not timed) and runs the same workload on it; the sizes
 * alternate, their order reversed every other round, so they share the machine's load.
 */
async function storedTable(sizes: number[]): Promise<BenchTable> {
    const writes = makeWorkload(Math.min(WRITES, 5_000))
    const rounds = Number(process.env.WRITE_STORED_RUNS ?? 5)
    const warm = await SETUPS[1].create()
    await runWorkload(warm.manager, makeWorkload(WARM_UP_WRITES, WORKLOAD_SEED + 1))
    const measured = new Map<number, { wall: number[]; cpu: number[] }>(sizes.map(size => [size, { wall: [], cpu: [] }]))
    for (let round = 0; round < rounds; round++) {
        for (const size of round % 2 ? [...sizes].reverse() : sizes) {
            const device = await createDevice({ sharedLog: new MemorySharedSyncLog() })
            for (let start = 0; start < size; start += 500) {
                const steps = []
                for (let index = start; index < Math.min(size, start + 500); index++) {
                    steps.push({ operation: 'createObject', collection: 'note', args: { id: `stored-${index}`, title: `stored ${index}`, rank: index % 1000 } })
                }
                await device.storageManager.operation('executeBatch', steps)
            }
            // The last round's devices are garbage now; collected here (node --expose-gc), not in the timed run.
            ;(globalThis as { gc?: () => void }).gc?.()
            const { wallMs, cpuMs } = await runWorkload(device.storageManager, writes)
            measured.get(size)!.wall.push((wallMs * 1000) / writes.length)
            measured.get(size)!.cpu.push((cpuMs * 1000) / writes.length)
        }
    }
    const spread = (values: number[]) => `${Math.round(median(values))} (${Math.round(Math.min(...values))}–${Math.round(Math.max(...values))})`
    const base = median(measured.get(sizes[0])!.cpu)
    return {
        title: 'Write path with many objects already stored (setupSync, Dexie on fake-indexeddb)',
        columns: ['objects stored', 'writes', 'µs per write', 'CPU µs per write', '× smallest (CPU median)'],
        rows: sizes.map(size => [size, writes.length, spread(measured.get(size)!.wall), spread(measured.get(size)!.cpu), median(measured.get(size)!.cpu) / base]),
        notes: [
            `The same mixed workload on a database already holding that many notes and their (unshared) log entries. Median (min–max) of ${rounds} rounds (WRITE_STORED_RUNS), each on freshly seeded devices, the sizes alternated, after a warm-up${(globalThis as { gc?: unknown }).gc ? ', the heap collected before each timed run' : ' (run node with --expose-gc to collect the heap before each timed run)'}. Target: within 1.2× from the smallest size to the largest.`,
        ],
    }
}

async function runBackend(label: string, SETUPS: Setup[]): Promise<BenchTable[]> {
    const writes = makeWorkload(WRITES)
    const warmUp = makeWorkload(WARM_UP_WRITES, WORKLOAD_SEED + 1)
    const counts = { create: 0, update: 0, delete: 0 }
    for (const write of writes) {
        counts[write.kind]++
    }
    const results = SETUPS.map(setup => ({ name: setup.name, wall: [] as number[], cpu: [] as number[] }))
    for (const setup of SETUPS) {
        const warm = await setup.create()
        await runWorkload(warm.manager, warmUp)
    }
    // Interleaved, so both setups see the same machine load.
    for (let index = 0; index < RUNS; index++) {
        for (const [position, setup] of SETUPS.entries()) {
            const fresh = await setup.create()
            const { wallMs, cpuMs } = await runWorkload(fresh.manager, writes)
            await fresh.check()
            results[position].wall.push((WRITES / wallMs) * 1000)
            results[position].cpu.push((WRITES / cpuMs) * 1000)
        }
    }
    const [plain, synced] = results.map(result => ({ wall: median(result.wall), cpu: median(result.cpu) }))
    const ratio = plain.wall / synced.wall
    const cpuRatio = plain.cpu / synced.cpu
    const verdict = (value: number) => `${value.toFixed(2)}× (target ≤ ${TARGET_RATIO}×: ${value <= TARGET_RATIO ? 'met' : 'missed'})`
    return [
        {
            title: `Write path: ${WRITES.toLocaleString('en-US')} mixed writes on ${label} (median of ${RUNS})`,
            columns: ['setup', 'ops/s', 'µs per write', 'ops per CPU-second', 'runs (ops/s)'],
            rows: [
                ...results.map(({ name, wall, cpu }) => [name, median(wall), 1e6 / median(wall), median(cpu), wall.map(value => Math.round(value)).join(', ')]),
                ['cost ratio (plain ÷ logged)', verdict(ratio), '', verdict(cpuRatio), ''],
            ],
            notes: [
                'ops per CPU-second divides by the CPU time of this process, which other processes on a shared machine disturb far less than wall-clock time.',
                `Workload: ${counts.create} creates, ${counts.update} updates by pk (2 fields), ${counts.delete} deletes by pk, sequential, seeded PRNG; warm-up of ${WARM_UP_WRITES} writes per setup, each measured run on a fresh database.`,
            ],
        },
    ]
}
