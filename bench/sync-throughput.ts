/**
 * Sync throughput: 10,000 changes made on device A (5,000 creates, then one field update of each
 * note) reach device B through the memory shared log: A pushes, B pulls, reconciles and applies.
 * The floor is B writing the same 5,000 final objects directly with plain Storex (one
 * executeBatch of creates, no sync installed). Both on Dexie over fake-indexeddb; median of 3.
 *
 *   npx ts-node --transpile-only bench/sync-throughput.ts
 */
import type StorageManager from '@worldbrain/storex'
import { createDexieStorageManager, createDevice, createSqliteStorageManager } from '../ts/integration/devices'
import type { TestDevice } from '../ts/integration/devices'
import { MemorySharedSyncLog } from '../ts/shared-log/memory'
import type { BenchTable } from './table'

/** Scale by env: SYNC_NOTES (default 5,000 notes = 10,000 changes), SYNC_RUNS, SYNC_BACKENDS=dexie,sqlite. */
const NOTES = Number(process.env.SYNC_NOTES ?? 5_000)
const RUNS = Number(process.env.SYNC_RUNS ?? 3)
const SELECTED = (process.env.SYNC_BACKENDS ?? 'dexie,sqlite').split(',')

interface Backend {
    label: string
    create(): StorageManager
    /** Most the total sync may cost, as a multiple of the floor (issue 12's targets). */
    target: number
    /** Makes a plain (no sync) storage manager ready to write the floor's notes. */
    preparePlain(storageManager: StorageManager): Promise<void>
}

const BACKENDS: Backend[] = [
    { label: 'Dexie on fake-indexeddb', target: 2, create: createDexieStorageManager, preparePlain: storageManager => storageManager.finishInitialization() },
    {
        label: 'SQLite in memory (storex-backend-typeorm)',
        target: 1.5,
        create: createSqliteStorageManager,
        async preparePlain(storageManager) {
            // The floor's notes carry string keys, as they do under sync: a text key column, as auto-PK makes it.
            storageManager.registry.collections.note.fields.id.type = 'string'
            await storageManager.finishInitialization()
            await (storageManager.backend as unknown as { migrate(): Promise<void> }).migrate()
        },
    },
]

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

function finalNote(index: number): { id: string; title: string; rank: number; body: string } {
    return { id: `note-${index}`, title: `edited ${index}`, rank: index % 7, body: 'a body of some length for every note' }
}

/** Makes the 10,000 changes on A (not timed): creates, then a title update of each note. */
async function makeChanges(a: TestDevice, notes = NOTES): Promise<void> {
    for (let index = 0; index < notes; index++) {
        const { id, rank, body } = finalNote(index)
        await a.storageManager.collection('note').createObject({ id, title: `note ${index}`, rank, body })
    }
    for (let index = 0; index < notes; index++) {
        await a.storageManager.operation('updateObject', 'note', { id: `note-${index}` }, { title: finalNote(index).title })
    }
}

/** CPU ms this process used since `since` (all threads: the collector's included). */
function cpuSince(since: NodeJS.CpuUsage): number {
    const used = process.cpuUsage(since)
    return (used.user + used.system) / 1000
}

async function syncOnce(backend: Backend): Promise<{ push: number; pull: number; pushCpu: number; pullCpu: number; applied: number }> {
    const sharedLog = new MemorySharedSyncLog()
    const a = await createDevice({ sharedLog, storageManager: backend.create() })
    const b = await createDevice({ sharedLog, storageManager: backend.create() })
    await makeChanges(a)
    const cpu = process.cpuUsage()
    const start = performance.now()
    const pushed = await a.syncNow()
    const afterPush = performance.now()
    const pushCpu = cpuSince(cpu)
    const pulled = await b.syncNow()
    const end = performance.now()
    const pullCpu = cpuSince(cpu) - pushCpu
    if (pushed.pushed !== 2 * NOTES || pulled.applied !== 2 * NOTES) {
        throw new Error(`expected ${2 * NOTES} entries, pushed ${pushed.pushed}, applied ${pulled.applied}`)
    }
    const count = await b.storageManager.collection('note').countObjects({})
    if (count !== NOTES) {
        throw new Error(`B holds ${count} notes, expected ${NOTES}`)
    }
    return { push: afterPush - start, pull: end - afterPush, pushCpu, pullCpu, applied: pulled.applied }
}

async function floorOnce(backend: Backend): Promise<{ ms: number; cpuMs: number }> {
    const storageManager: StorageManager = backend.create()
    await backend.preparePlain(storageManager)
    const batch = Array.from({ length: NOTES }, (_, index) => ({ operation: 'createObject', collection: 'note', args: finalNote(index) }))
    const cpu = process.cpuUsage()
    const start = performance.now()
    await storageManager.operation('executeBatch', batch)
    return { ms: performance.now() - start, cpuMs: cpuSince(cpu) }
}

export async function run(): Promise<BenchTable[]> {
    const tables: BenchTable[] = []
    const sizes = (name: string) => (process.env[name] ?? '').split(',').filter(Boolean).map(Number)
    if (sizes('SYNC_SCALE').length || sizes('SYNC_STORED').length) {
        // Scaling runs only (Dexie): they take minutes at 100k, so they run when asked for.
        if (sizes('SYNC_SCALE').length) tables.push(await scalingTable(sizes('SYNC_SCALE')))
        if (sizes('SYNC_STORED').length) tables.push(await storedTable(sizes('SYNC_STORED')))
        return tables
    }
    for (const backend of BACKENDS.filter(candidate => SELECTED.some(name => candidate.label.toLowerCase().includes(name)))) {
        tables.push(...(await runBackend(backend)))
    }
    return tables
}

async function runBackend(backend: Backend): Promise<BenchTable[]> {
    const floors: number[] = []
    const floorCpus: number[] = []
    const pushes: number[] = []
    const pulls: number[] = []
    const totals: number[] = []
    const pushCpus: number[] = []
    const pullCpus: number[] = []
    const totalCpus: number[] = []
    for (let index = 0; index < RUNS; index++) {
        const plain = await floorOnce(backend)
        floors.push(plain.ms)
        floorCpus.push(plain.cpuMs)
        const result = await syncOnce(backend)
        pushes.push(result.push)
        pulls.push(result.pull)
        totals.push(result.push + result.pull)
        pushCpus.push(result.pushCpu)
        pullCpus.push(result.pullCpu)
        totalCpus.push(result.pushCpu + result.pullCpu)
    }
    const floor = median(floors)
    const floorCpu = median(floorCpus)
    const total = median(totals)
    const totalCpu = median(totalCpus)
    const entries = 2 * NOTES
    const row = (step: string, ms: number, cpuMs: number) => [step, entries, Math.round(ms), Math.round((entries / ms) * 1000), ms / floor, Math.round(cpuMs), cpuMs / floorCpu]
    return [
        {
            title: `Sync throughput: ${(2 * NOTES).toLocaleString('en-US')} changes from device A to device B (memory shared log, ${backend.label})`,
            columns: ['step', 'entries', 'median ms', 'entries/s', '× floor', 'median CPU ms', '× floor (CPU)'],
            rows: [
                [`floor: B writes the ${NOTES.toLocaleString('en-US')} final notes with plain Storex`, NOTES, Math.round(floor), Math.round((NOTES / floor) * 1000), 1, Math.round(floorCpu), 1],
                row('A pushes (client log -> shared log)', median(pushes), median(pushCpus)),
                row('B pulls, reconciles and applies', median(pulls), median(pullCpus)),
                row('total sync (push + pull + reconcile + apply)', total, totalCpu),
            ],
            notes: [
                `Workload: ${NOTES.toLocaleString('en-US')} creates + ${NOTES.toLocaleString('en-US')} title updates on A (not timed); median of ${RUNS} runs, each with fresh databases.`,
                `CPU: process.cpuUsage over the step, all threads (the collector's helpers included), so it can exceed wall time. Per run ÷ floor, wall: ${totals.map((ms, index) => (ms / floors[index]).toFixed(2)).join(', ')}; CPU: ${totalCpus.map((ms, index) => (ms / floorCpus[index]).toFixed(2)).join(', ')}.`,
                `Target: total sync within ${backend.target}× the floor. Result: ${(total / floor).toFixed(2)}× wall (${total <= backend.target * floor ? 'met' : 'missed'}), ${(totalCpu / floorCpu).toFixed(2)}× CPU (${totalCpu <= backend.target * floorCpu ? 'met' : 'missed'}).`,
            ],
        },
    ]
}

/** Wall and CPU ms of `body`, and the most heap it added over what was in use before it. */
async function measured(body: () => Promise<void>): Promise<{ ms: number; cpuMs: number; peakMiB: number }> {
    const before = process.memoryUsage().heapUsed
    let peak = before
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 20)
    const cpu = process.cpuUsage()
    const start = performance.now()
    await body()
    const ms = performance.now() - start
    clearInterval(sampler)
    const used = process.cpuUsage(cpu)
    return { ms, cpuMs: (used.user + used.system) / 1000, peakMiB: (Math.max(peak, process.memoryUsage().heapUsed) - before) / 2 ** 20 }
}

/** The same A→B sync (n creates + n title updates) at each size: is the cost per note flat? */
async function scalingTable(sizes: number[]): Promise<BenchTable> {
    const rows: Array<Array<string | number>> = []
    let base: number | null = null
    // A warm-up sync first, so the smallest size is not measured on cold code.
    const runs = [Math.min(1000, sizes[0]), ...sizes]
    for (const [position, size] of runs.entries()) {
        const warmUp = position === 0
        const sharedLog = new MemorySharedSyncLog()
        const a = await createDevice({ sharedLog, storageManager: createDexieStorageManager() })
        const b = await createDevice({ sharedLog, storageManager: createDexieStorageManager() })
        await makeChanges(a, size)
        const result = await measured(async () => {
            await a.syncNow()
            await b.syncNow()
        })
        const count = await b.storageManager.collection('note').countObjects({})
        if (count !== size) throw new Error(`B holds ${count} notes, expected ${size}`)
        const cpuPerNote = (result.cpuMs * 1000) / size
        if (warmUp) {
            continue
        }
        base ??= cpuPerNote
        rows.push([size, 2 * size, Math.round(result.ms), (result.ms * 1000) / size, cpuPerNote, cpuPerNote / base, result.peakMiB])
    }
    return {
        title: 'Sync A→B at growing size (memory shared log, Dexie on fake-indexeddb)',
        columns: ['notes', 'entries', 'wall ms', 'µs per note', 'CPU µs per note', '× smallest (CPU)', 'peak heap added MiB'],
        rows,
        notes: ['Each size: n creates + n title updates on A (not timed), then A pushes and B pulls; one run per size. Peak heap: the most the sync added over the heap in use before it (fake-indexeddb holds both databases in the same heap).'],
    }
}

/** Which engine the stored-objects table runs on (SYNC_STORED_BACKEND, default dexie). */
function storedBackend(): Backend {
    const name = process.env.SYNC_STORED_BACKEND ?? 'dexie'
    const backend = BACKENDS.find(candidate => candidate.label.toLowerCase().includes(name))
    if (!backend || !['dexie', 'sqlite'].includes(name)) throw new Error(`SYNC_STORED_BACKEND must be dexie or sqlite, not '${name}'`)
    return backend
}

/** Seeds `stored` notes through the library on A (logged creates, 500 per batch) and syncs them to B; not timed. */
async function seededPair(create: () => StorageManager, stored: number): Promise<{ a: TestDevice; b: TestDevice; seedS: number }> {
    const sharedLog = new MemorySharedSyncLog()
    const a = await createDevice({ sharedLog, storageManager: create() })
    const b = await createDevice({ sharedLog, storageManager: create() })
    const seedStart = performance.now()
    // Pushed as it goes (every 10,000 notes), so A's unshared rows never pile up to the whole seed at once.
    await writeNotes(a.storageManager, stored, async batch => {
        if (batch % 20 === 19) await a.syncNow()
    })
    await a.syncNow()
    await b.syncNow()
    return { a, b, seedS: (performance.now() - seedStart) / 1000 }
}

/** A plain storage manager (no sync) holding `stored` notes, written in batches of 500; not timed. */
async function seededPlain(backend: { create(): StorageManager; preparePlain(storageManager: StorageManager): Promise<void> }, stored: number): Promise<StorageManager> {
    const storageManager = backend.create()
    await backend.preparePlain(storageManager)
    await writeNotes(storageManager, stored)
    return storageManager
}

/** Writes notes 0 … count-1 in executeBatch calls of 500 creates, calling `afterBatch` with each batch's number. */
async function writeNotes(storageManager: StorageManager, count: number, afterBatch?: (batch: number) => Promise<void>): Promise<void> {
    for (let start = 0; start < count; start += 500) {
        const steps = []
        for (let index = start; index < Math.min(count, start + 500); index++) steps.push({ operation: 'createObject', collection: 'note', args: finalNote(index) })
        await storageManager.operation('executeBatch', steps)
        await afterBatch?.(start / 500)
    }
}

/**
 * 1,000 title updates synced A→B with `stored` notes already on both devices. Every size's pair
 * of devices is seeded first and kept, then the rounds alternate between the sizes, so each size
 * is measured with the same heap (and the same machine load) around it; a collection before each
 * timed sync (when node runs with --expose-gc) keeps the seeding's garbage out of the figures.
 */
async function storedTable(sizes: number[]): Promise<BenchTable> {
    const CHANGES = 1000
    const ROUNDS = Number(process.env.SYNC_STORED_RUNS ?? 3)
    const backend = storedBackend()
    const pairs: Array<{ stored: number; a: TestDevice; b: TestDevice; seedS: number; ms: number[]; cpuMs: number[]; peakMiB: number[]; plain: StorageManager; plainCpuMs: number[] }> = []
    for (const stored of sizes) {
        pairs.push({ stored, ...(await seededPair(backend.create, stored)), ms: [], cpuMs: [], peakMiB: [], plain: await seededPlain(backend, stored), plainCpuMs: [] })
    }
    const collect = (globalThis as { gc?: () => void }).gc
    // Round 0 warms the code up and is not counted.
    for (let round = 0; round <= ROUNDS; round++) {
        for (const pair of pairs) {
            // Spread over the whole collection (a fixed stride), so the changed notes are not all new or adjacent.
            const changed = Array.from({ length: CHANGES }, (_, change) => ({ id: `note-${(change * 7919 + round * 104_729) % pair.stored}`, title: `changed ${round}.${change}` }))
            for (const { id, title } of changed) {
                await pair.a.storageManager.operation('updateObject', 'note', { id }, { title })
            }
            collect?.()
            const result = await measured(async () => {
                await pair.a.syncNow()
                await pair.b.syncNow()
            })
            // The engine's own growth, for comparison: the same 1,000 updates as one plain Storex batch on a database holding as many notes.
            collect?.()
            const plain = await measured(() => pair.plain.operation('executeBatch', changed.map(({ id, title }) => ({ operation: 'updateObjects', collection: 'note', where: { id }, updates: { title } }))))
            if (round === 0) continue
            pair.ms.push(result.ms)
            pair.cpuMs.push(result.cpuMs)
            pair.peakMiB.push(result.peakMiB)
            pair.plainCpuMs.push(plain.cpuMs)
        }
    }
    for (const pair of pairs) {
        const count = await pair.b.storageManager.collection('note').countObjects({})
        if (count !== pair.stored) throw new Error(`B holds ${count} notes, expected ${pair.stored}`)
    }
    const spread = (values: number[]) => `${Math.round(median(values))} (${Math.round(Math.min(...values))}–${Math.round(Math.max(...values))})`
    const base = median(pairs[0].cpuMs)
    const plainBase = median(pairs[0].plainCpuMs)
    return {
        title: `Syncing 1,000 changes A→B with many objects already stored (memory shared log, ${backend.label})`,
        columns: ['objects stored', 'seed s', 'changes', 'wall ms', 'CPU ms', '× smallest (CPU median)', 'plain Storex: 1,000 updates, CPU ms', 'plain × smallest', 'peak heap added MiB'],
        rows: pairs.map(pair => [
            pair.stored,
            Math.round(pair.seedS),
            CHANGES,
            spread(pair.ms),
            spread(pair.cpuMs),
            median(pair.cpuMs) / base,
            spread(pair.plainCpuMs),
            median(pair.plainCpuMs) / plainBase,
            median(pair.peakMiB),
        ]),
        notes: [
            'Seeded through the library (logged executeBatch of 500 creates on A, synced to B; not timed). Then, per round, 1,000 title updates on A (not timed) and the sync, timed: A pushes, B pulls and applies. Plain Storex: the same 1,000 updates as one executeBatch on a database without sync holding as many notes (the engine\'s own growth with size).',
            `Median (min–max) of ${ROUNDS} rounds after a warm-up round; the sizes alternate round by round, all seeded devices alive throughout${collect ? ', the heap collected before each timed sync' : ' (run node with --expose-gc to collect the heap before each timed sync)'}.`,
        ],
    }
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
