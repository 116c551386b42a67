/**
 * The Memex schema (published with storex-sync 0.1.1) as a workload: device A records a browsing
 * history of PAGES pages, each with a 2 KiB `media` screenshot and full text, two visits
 * (keyed [time, url]), a tag ([name, url]) and a list entry ([listId, pageUrl], with a
 * datetime); device B receives all of it through the memory shared log. The floor is the same
 * writes with plain Storex. Dexie on fake-indexeddb; median of RUNS.
 *
 *   npx ts-node --transpile-only bench/memex.ts
 */
import type StorageManager from '@worldbrain/storex'
import { setupSync } from '../ts/setup'
import type { SyncSetup } from '../ts/setup'
import { MemorySharedSyncLog } from '../ts/shared-log/memory'
import { createMemexStorageManager, makePage, memexDump, memexSynced, seededRandom } from '../ts/compat/memex'
import type { BenchTable } from './table'

const PAGES = 500
const RUNS = 3
const SCREENSHOT_BYTES = 2048

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

/** The workload's writes, in order (not timed). */
function workload(): Array<{ collection: string; object: Record<string, unknown> }> {
    const random = seededRandom(42)
    const writes: Array<{ collection: string; object: Record<string, unknown> }> = []
    writes.push({ collection: 'customLists', object: { id: 'inbox', name: 'Inbox', isDeletable: false, isNestable: false, createdAt: new Date(Date.UTC(2026, 0, 1)) } })
    for (let index = 0; index < PAGES; index++) {
        const url = `site${index % 37}.example/page/${index}`
        const screenshot = new Uint8Array(SCREENSHOT_BYTES)
        for (let byte = 0; byte < screenshot.length; byte++) {
            screenshot[byte] = (index * 31 + byte * 7) & 0xff
        }
        writes.push({ collection: 'pages', object: { ...makePage(url, random), screenshot } })
        writes.push({ collection: 'visits', object: { time: 1_700_000_000_000 + index * 2, url, duration: Math.floor(random() * 60_000), scrollMaxPerc: Math.round(random() * 1000) / 10 } })
        writes.push({ collection: 'visits', object: { time: 1_700_000_000_001 + index * 2, url, duration: Math.floor(random() * 60_000), scrollMaxPerc: Math.round(random() * 1000) / 10 } })
        writes.push({ collection: 'tags', object: { name: index % 3 ? 'read' : 'work', url } })
        writes.push({ collection: 'pageListEntries', object: { listId: 'inbox', pageUrl: url, fullUrl: `https://${url}`, createdAt: new Date(Date.UTC(2026, 0, 1) + index * 1000) } })
    }
    return writes
}

async function write(storageManager: StorageManager, writes: ReturnType<typeof workload>): Promise<number> {
    const start = performance.now()
    for (const { collection, object } of writes) {
        await storageManager.collection(collection).createObject({ ...object })
    }
    return performance.now() - start
}

interface Run {
    plainMs: number
    loggedMs: number
    pushMs: number
    pullMs: number
    entries: number
}

async function once(writes: ReturnType<typeof workload>): Promise<Run> {
    const plain = createMemexStorageManager('dexie')
    await plain.finishInitialization()
    const plainMs = await write(plain, writes)

    const sharedLog = new MemorySharedSyncLog()
    const devices: Array<SyncSetup & { storageManager: StorageManager }> = []
    for (const name of ['device-a', 'device-b']) {
        const storageManager = createMemexStorageManager('dexie')
        devices.push({ ...(await setupSync({ storageManager, collections: memexSynced(), sharedLog, generateDeviceId: () => name })), storageManager })
    }
    const [a, b] = devices
    const loggedMs = await write(a.storageManager, writes)
    const entries = await a.clientLog.countUnshared()
    let start = performance.now()
    await a.push()
    const pushMs = performance.now() - start
    start = performance.now()
    await b.pull()
    const pullMs = performance.now() - start
    // Not timed: the run only counts if B holds exactly what A holds.
    const [dumpA, dumpB] = await Promise.all([memexDump(a.storageManager), memexDump(b.storageManager)])
    if (JSON.stringify(dumpA) !== JSON.stringify(dumpB) || dumpB.pages.length !== writes.filter(w => w.collection === 'pages').length) {
        throw new Error('bench/memex: device B does not hold what device A wrote')
    }
    return { plainMs, loggedMs, pushMs, pullMs, entries }
}

export async function run(): Promise<BenchTable[]> {
    const writes = workload()
    const runs: Run[] = []
    await once(writes.slice(0, 50)) // warm-up
    for (let index = 0; index < RUNS; index++) {
        runs.push(await once(writes))
    }
    const plainMs = median(runs.map(r => r.plainMs))
    const loggedMs = median(runs.map(r => r.loggedMs))
    const pushMs = median(runs.map(r => r.pushMs))
    const pullMs = median(runs.map(r => r.pullMs))
    const entries = runs[0].entries
    const row = (step: string, count: number, ms: number, runsMs: number[]) => [step, count, ms, (count / ms) * 1000, ms / plainMs, runsMs.map(v => Math.round(v)).join(', ')]
    return [
        {
            title: `Memex workload: ${writes.length.toLocaleString('en-US')} writes (${PAGES} pages with ${SCREENSHOT_BYTES / 1024} KiB screenshots, visits, tags, list entries), device A to device B`,
            columns: ['step', 'writes or entries', 'median ms', 'per s', '× floor', 'runs (ms)'],
            rows: [
                row('floor: the writes with plain Storex', writes.length, plainMs, runs.map(r => r.plainMs)),
                row('the writes with setupSync (logged)', writes.length, loggedMs, runs.map(r => r.loggedMs)),
                row('A pushes (client log -> shared log)', entries, pushMs, runs.map(r => r.pushMs)),
                row('B pulls, reconciles and applies', entries, pullMs, runs.map(r => r.pullMs)),
                row('A logged writes + push + B pull', entries, loggedMs + pushMs + pullMs, runs.map(r => r.loggedMs + r.pushMs + r.pullMs)),
            ],
            notes: [
                'Dexie on fake-indexeddb, memory shared log, one process; the schema is lib/memex-schema.tests.js from @worldbrain/storex-sync 0.1.1 with a word-splitting stemmer for the full-text index.',
                "Each run starts from fresh databases; B's data is checked to equal A's (typed: bytes stay bytes, Dates stay Dates) after every run.",
            ],
        },
    ]
}

if (require.main === module) {
    void (async () => {
        const { formatTable } = await import('./table')
        for (const table of await run()) {
            console.log(formatTable(table) + '\n')
        }
    })()
}
