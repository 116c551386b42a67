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

const NOTES = 5_000
const RUNS = 3

interface Backend {
    label: string
    create(): StorageManager
    /** Makes a plain (no sync) storage manager ready to write the floor's notes. */
    preparePlain(storageManager: StorageManager): Promise<void>
}

const BACKENDS: Backend[] = [
    { label: 'Dexie on fake-indexeddb', create: createDexieStorageManager, preparePlain: storageManager => storageManager.finishInitialization() },
    {
        label: 'SQLite in memory (storex-backend-typeorm)',
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
async function makeChanges(a: TestDevice): Promise<void> {
    for (let index = 0; index < NOTES; index++) {
        const { id, rank, body } = finalNote(index)
        await a.storageManager.collection('note').createObject({ id, title: `note ${index}`, rank, body })
    }
    for (let index = 0; index < NOTES; index++) {
        await a.storageManager.operation('updateObject', 'note', { id: `note-${index}` }, { title: finalNote(index).title })
    }
}

async function syncOnce(backend: Backend): Promise<{ push: number; pull: number; applied: number }> {
    const sharedLog = new MemorySharedSyncLog()
    const a = await createDevice({ sharedLog, storageManager: backend.create() })
    const b = await createDevice({ sharedLog, storageManager: backend.create() })
    await makeChanges(a)
    const start = performance.now()
    const pushed = await a.syncNow()
    const afterPush = performance.now()
    const pulled = await b.syncNow()
    const end = performance.now()
    if (pushed.pushed !== 2 * NOTES || pulled.applied !== 2 * NOTES) {
        throw new Error(`expected ${2 * NOTES} entries, pushed ${pushed.pushed}, applied ${pulled.applied}`)
    }
    const count = await b.storageManager.collection('note').countObjects({})
    if (count !== NOTES) {
        throw new Error(`B holds ${count} notes, expected ${NOTES}`)
    }
    return { push: afterPush - start, pull: end - afterPush, applied: pulled.applied }
}

async function floorOnce(backend: Backend): Promise<number> {
    const storageManager: StorageManager = backend.create()
    await backend.preparePlain(storageManager)
    const batch = Array.from({ length: NOTES }, (_, index) => ({ operation: 'createObject', collection: 'note', args: finalNote(index) }))
    const start = performance.now()
    await storageManager.operation('executeBatch', batch)
    return performance.now() - start
}

export async function run(): Promise<BenchTable[]> {
    const tables: BenchTable[] = []
    for (const backend of BACKENDS) {
        tables.push(...(await runBackend(backend)))
    }
    return tables
}

async function runBackend(backend: Backend): Promise<BenchTable[]> {
    const floors: number[] = []
    const pushes: number[] = []
    const pulls: number[] = []
    const totals: number[] = []
    for (let index = 0; index < RUNS; index++) {
        floors.push(await floorOnce(backend))
        const result = await syncOnce(backend)
        pushes.push(result.push)
        pulls.push(result.pull)
        totals.push(result.push + result.pull)
    }
    const floor = median(floors)
    const total = median(totals)
    const entries = 2 * NOTES
    const row = (step: string, ms: number) => [step, entries, Math.round(ms), Math.round((entries / ms) * 1000), ms / floor]
    return [
        {
            title: `Sync throughput: 10,000 changes from device A to device B (memory shared log, ${backend.label})`,
            columns: ['step', 'entries', 'median ms', 'entries/s', '× floor'],
            rows: [
                ['floor: B writes the 5,000 final notes with plain Storex', NOTES, Math.round(floor), Math.round((NOTES / floor) * 1000), 1],
                row('A pushes (client log -> shared log)', median(pushes)),
                row('B pulls, reconciles and applies', median(pulls)),
                row('total sync (push + pull + reconcile + apply)', total),
            ],
            notes: [
                `Workload: ${NOTES.toLocaleString('en-US')} creates + ${NOTES.toLocaleString('en-US')} title updates on A (not timed); median of ${RUNS} runs, each with fresh databases.`,
                `Target: total sync within 3× the floor. Result: ${(total / floor).toFixed(2)}× (${total <= 3 * floor ? 'met' : 'missed'}).`,
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
