/**
 * Benchmarks in headless Chromium on its real IndexedDB (`npm run bench:browser`), the library
 * bundled for the browser as an app bundles it. Each run uses fresh databases; median of 3 runs,
 * with min–max.
 *
 * - Write path: 2,000 mixed writes (60 % create, 30 % update, 10 % delete, the seeded workload of
 *   bench/write-path.ts), plain Storex vs through setupSync (memory shared log, no sync). Target ≤ 1.2×.
 * - Sync A→B through the real service (SQLite file, loopback): A pushes N new notes, B pulls and
 *   applies them; against the floor of writing the same notes into a fresh plain database in one
 *   bulk transaction. Target ≤ 3× the floor.
 * - Stored: 1,000 changes synced A→B with 10k and 100k notes already stored on both devices: is
 *   the cost flat in what is stored? (Issue 12's target: within 1.2×.) In a profile on disk, as a
 *   user's browser keeps it: an incognito-like context's quota stops a 1,000,000-note seed.
 * - Memory: the same sync as above, once per size, with the page's live JS heap sampled (a full GC
 *   before each sample): is what the sync holds at once flat in the number of notes?
 *
 *   npm run bench:browser                 # everything
 *   npm run bench:browser -- write sync   # parts; SYNCLOG_BENCH_BROWSER_SIZES=2000 to pick sizes
 *   SYNCLOG_BENCH_BROWSER_STORED=10000,100000 npm run bench:browser -- stored
 *   SYNCLOG_BENCH_BROWSER_MEMORY=2000,10000,50000 npm run bench:browser -- memory
 *   SYNCLOG_BENCH_DEXIE_DEBUG=1 npm run bench:browser   # keep Dexie's localhost debug mode
 */
import { mkdtempSync, rmSync } from 'fs'
import os from 'os'
import path from 'path'
import { build } from 'esbuild'
import { chromium } from 'playwright-core'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { CHROMIUM_ARGS, CHROMIUM_PATH, ROOT, launchChromium, startDemoService } from '../ts/integration/browser/harness'
import type { DemoService } from '../ts/integration/browser/harness'
import type { BenchNote, Write } from './browser-page'
import { withLiveHeapPeak } from './heap-peak'
import { formatTable } from './table'
import type { BenchTable } from './table'
import { makeWorkload } from './write-path'

const RUNS = 3
const WRITES = 2_000
const WRITE_TARGET = 1.2
const SYNC_TARGET = 3
const DEXIE_DEBUG = process.env.SYNCLOG_BENCH_DEXIE_DEBUG === '1'
const DEXIE_NOTE = DEXIE_DEBUG
    ? "Dexie's debug mode on (SYNCLOG_BENCH_DEXIE_DEBUG=1), as it is by default on pages of localhost."
    : "Dexie's debug mode off (`Dexie.debug = false`), as on any deployed page; Dexie turns it on by itself for localhost pages (SYNCLOG_BENCH_DEXIE_DEBUG=1 keeps it)."
const SIZES = (process.env.SYNCLOG_BENCH_BROWSER_SIZES ?? '2000,10000').split(',').map(Number)

type PageApi = typeof import('./browser-page')

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const spread = (values: number[], digits = 0) => `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`
const verdict = (ratio: number, target: number) => `${ratio.toFixed(2)}× (target ≤ ${target}×: ${ratio <= target ? 'met' : 'missed'})`

let bundle: Promise<string> | null = null
function pageBundle(): Promise<string> {
    bundle ??= build({
        entryPoints: [path.join(ROOT, 'bench/browser-page.ts')],
        bundle: true,
        platform: 'browser',
        format: 'iife',
        globalName: 'bench',
        write: false,
        minify: true,
        define: { global: 'globalThis' },
        logLevel: 'silent',
    }).then(result => result.outputFiles[0].text)
    return bundle
}

/** A page of the service's origin (real IndexedDB, same-origin requests) holding the bench bundle. */
async function openBenchPage(browser: Browser, service: DemoService): Promise<{ page: Page; close(): Promise<void> }> {
    const context = await browser.newContext()
    const page = await preparePage(context, service)
    return { page, close: () => context.close() }
}

/**
 * The same page in a persistent profile in a temporary folder: IndexedDB on disk with the quota
 * of a user's profile (a share of the disk), where `newContext`'s incognito-like storage runs out.
 */
async function openPersistentBenchPage(service: DemoService): Promise<{ page: Page; close(): Promise<void> }> {
    const profile = mkdtempSync(path.join(os.tmpdir(), 'synclog-bench-profile-'))
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS })
    const page = await preparePage(context, service)
    return {
        page,
        close: async () => {
            await context.close()
            rmSync(profile, { recursive: true, force: true })
        },
    }
}

async function preparePage(context: BrowserContext, service: DemoService): Promise<Page> {
    const page = await context.newPage()
    page.on('pageerror', error => console.error(`page error: ${error.message}`))
    const code = await pageBundle()
    await page.route(`${service.url}/bench.html`, route => route.fulfill({ contentType: 'text/html', body: `<!doctype html><script>${code.replace(/<\/script/gi, '<\\/script')}</script>` }))
    await page.goto(`${service.url}/bench.html`)
    await call(page, 'setDexieDebug', DEXIE_DEBUG)
    return page
}

/** Calls one export of the page bundle with JSON arguments. */
function call<K extends keyof PageApi>(page: Page, name: K, ...args: Parameters<PageApi[K]>): Promise<Awaited<ReturnType<PageApi[K]>>> {
    return page.evaluate(
        ({ name, args }) => {
            const api = (globalThis as unknown as { bench: Record<string, (...a: unknown[]) => Promise<unknown>> }).bench
            return api[name](...args)
        },
        { name, args: args as unknown[] },
    ) as Promise<Awaited<ReturnType<PageApi[K]>>>
}

let runId = 0
const freshName = (label: string) => `bench-${label}-${Date.now()}-${runId++}`

async function writePathTable(browser: Browser, service: DemoService): Promise<BenchTable> {
    const writes = makeWorkload(WRITES) as Write[]
    const warmUp = makeWorkload(200, 7) as Write[]
    const counts = { create: 0, update: 0, delete: 0 }
    writes.forEach(write => counts[write.kind]++)
    const { page, close } = await openBenchPage(browser, service)
    await call(page, 'writePath', freshName('warm-plain'), 'plain', warmUp)
    await call(page, 'writePath', freshName('warm-sync'), 'sync', warmUp)
    const ms: Record<'plain' | 'sync', number[]> = { plain: [], sync: [] }
    for (let run = 0; run < RUNS; run++) {
        // Interleaved, so both setups see the same machine load.
        for (const mode of ['plain', 'sync'] as const) {
            const result = await call(page, 'writePath', freshName(`write-${mode}`), mode, writes)
            if (mode === 'sync' && result.entries === 0) {
                throw new Error('browser bench: nothing was logged')
            }
            ms[mode].push(result.ms)
        }
    }
    await close()
    const opsPerSecond = (values: number[]) => values.map(value => (WRITES / value) * 1000)
    const plain = median(ms.plain)
    const synced = median(ms.sync)
    return {
        title: `Browser write path: ${WRITES.toLocaleString('en-US')} mixed writes on Chromium's IndexedDB (median of ${RUNS})`,
        columns: ['setup', 'ops/s', 'ms per write', 'ops/s min–max'],
        rows: [
            ['plain Storex (Dexie)', (WRITES / plain) * 1000, plain / WRITES, spread(opsPerSecond(ms.plain))],
            ['setupSync (auto-PK + sync logging)', (WRITES / synced) * 1000, synced / WRITES, spread(opsPerSecond(ms.sync))],
            ['cost ratio (logged ÷ plain time)', verdict(synced / plain, WRITE_TARGET), '', ''],
        ],
        notes: [
            DEXIE_NOTE,
            `Workload: ${counts.create} creates, ${counts.update} updates by pk (2 fields), ${counts.delete} deletes by pk, sequential, seeded PRNG (bench/write-path.ts); each run on a fresh database, after a warm-up of 200 writes per setup.`,
        ],
    }
}

function notesFor(count: number): BenchNote[] {
    return Array.from({ length: count }, (_, index) => ({ id: `note-${index}`, title: `note ${index}`, rank: index % 7, body: 'a body of some length for every note' }))
}

interface SyncRun {
    pushMs: number
    pullMs: number
    totalMs: number
    floorMs: number
}

async function syncRun(browser: Browser, notes: BenchNote[]): Promise<SyncRun> {
    // A fresh service (and SQLite file) per run, so every run starts from an empty shared log.
    const service = await startDemoService({ staticDir: null })
    const [a, b] = [await openBenchPage(browser, service), await openBenchPage(browser, service)]
    try {
        const [nameA, nameB, nameFloor] = [freshName('sync-a'), freshName('sync-b'), freshName('floor')]
        await call(a.page, 'openSyncDevice', nameA)
        await call(b.page, 'openSyncDevice', nameB)
        await call(a.page, 'createNotes', nameA, notes)
        const pushed = await call(a.page, 'push', nameA)
        const pulled = await call(b.page, 'pull', nameB)
        if (pushed.pushed !== notes.length || pulled.notes !== notes.length) {
            throw new Error(`browser bench: pushed ${pushed.pushed}, B holds ${pulled.notes} of ${notes.length} notes`)
        }
        const floor = await call(b.page, 'bulkFloor', nameFloor, notes)
        if (floor.notes !== notes.length) {
            throw new Error(`browser bench: the floor wrote ${floor.notes} of ${notes.length} notes`)
        }
        await call(a.page, 'closeDevice', nameA)
        await call(b.page, 'closeDevice', nameB)
        return { pushMs: pushed.ms, pullMs: pulled.ms, totalMs: pushed.ms + pulled.ms, floorMs: floor.ms }
    } finally {
        await a.close()
        await b.close()
        await service.close()
    }
}

async function syncTable(browser: Browser): Promise<BenchTable> {
    const rows: BenchTable['rows'] = []
    for (const size of SIZES) {
        const notes = notesFor(size)
        const runs: SyncRun[] = []
        for (let run = 0; run < RUNS; run++) {
            runs.push(await syncRun(browser, notes))
        }
        const pick = (key: keyof SyncRun) => runs.map(item => item[key])
        const total = median(pick('totalMs'))
        const floor = median(pick('floorMs'))
        rows.push([
            size.toLocaleString('en-US'),
            median(pick('pushMs')),
            median(pick('pullMs')),
            total,
            spread(pick('totalMs')),
            (size / total) * 1000,
            floor,
            spread(pick('floorMs')),
            verdict(total / floor, SYNC_TARGET),
        ])
    }
    return {
        title: `Browser sync A→B through the service on Chromium's IndexedDB (median of ${RUNS})`,
        columns: ['new notes', 'A push ms', 'B pull + apply ms', 'total ms', 'total min–max', 'notes/s', 'floor ms', 'floor min–max', 'total ÷ floor'],
        rows,
        notes: [
            'A and B are two browser contexts (two devices) on the service (SQLite file, loopback, same origin as the page); A creates the notes (not timed), pushes them (`push()`), B pulls and applies them (`pull()`).',
            DEXIE_NOTE,
            'Floor: the same notes written into a fresh plain Storex database (no sync) in one executeBatch transaction, in the same page as B.',
        ],
    }
}

const MEMORY_SIZES = (process.env.SYNCLOG_BENCH_BROWSER_MEMORY ?? '2000,10000,50000').split(',').map(Number)

/** Peak live JS heap of A's push and of B's pull + apply, one run per size (not part of `npm run bench:browser` by default: it takes minutes). */
async function memoryTable(browser: Browser): Promise<BenchTable> {
    const rows: BenchTable['rows'] = []
    for (const size of MEMORY_SIZES) {
        const notes = notesFor(size)
        const service = await startDemoService({ staticDir: null })
        const [a, b] = [await openBenchPage(browser, service), await openBenchPage(browser, service)]
        try {
            const [nameA, nameB] = [freshName('memory-a'), freshName('memory-b')]
            await call(a.page, 'openSyncDevice', nameA)
            await call(b.page, 'openSyncDevice', nameB)
            // First contact with the service while both logs are empty: the SyncId protocol's
            // full-state reconciliation is measured in the second pair of columns, on its own.
            await call(a.page, 'pull', nameA, false)
            await call(b.page, 'pull', nameB, false)
            await call(a.page, 'createNotes', nameA, notes)
            const push = await withLiveHeapPeak(a.page, () => call(a.page, 'push', nameA))
            const pull = await withLiveHeapPeak(b.page, () => call(b.page, 'pull', nameB, false))
            const held = await call(b.page, 'countNotes', nameB)
            if (push.result.pushed !== size || held !== size) {
                throw new Error(`browser bench: pushed ${push.result.pushed}, B holds ${held} of ${size} notes`)
            }
            // The same notes to a third device whose first contact finds them on the service, and
            // a fourth that makes first contact with them still unpushed in its own log.
            const [nameC, nameD] = [freshName('memory-c'), freshName('memory-d')]
            await call(b.page, 'openSyncDevice', nameC)
            const firstPull = await withLiveHeapPeak(b.page, () => call(b.page, 'pull', nameC, false))
            await call(a.page, 'openSyncDevice', nameD)
            await call(a.page, 'createNotes', nameD, notes)
            const firstPush = await withLiveHeapPeak(a.page, () => call(a.page, 'push', nameD))
            rows.push([size.toLocaleString('en-US'), push.peakMiB.toFixed(1), pull.peakMiB.toFixed(1), firstPush.peakMiB.toFixed(1), firstPull.peakMiB.toFixed(1)])
            await call(b.page, 'closeDevice', nameC)
            await call(a.page, 'closeDevice', nameD)
            await call(a.page, 'closeDevice', nameA)
            await call(b.page, 'closeDevice', nameB)
        } finally {
            await a.close()
            await b.close()
            await service.close()
        }
    }
    return {
        title: "Browser: the most JS heap a sync holds at once, by number of notes (Chromium's IndexedDB, one run per size)",
        columns: ['notes', 'push, MiB', 'pull + apply, MiB', 'first-contact push, MiB', 'first-contact pull, MiB'],
        rows,
        notes: [
            'Peak live JS heap added during each step. Push / pull: A pushes the new notes through the service, B pulls and applies them, both having met the service before (the sync pass itself). First contact: a device that meets the service for the first time reconciles its whole state in one request (the SyncId protocol): one whose log holds the notes unpushed sends them all at once; one that finds them on the service receives them all at once.',
            "Every 250 ms a full GC over the DevTools protocol, then the page's heap size; the table gives the largest minus the size just before the step. Garbage not yet collected is not counted; the stored data is in Chromium's storage process, not in the page's heap.",
        ],
    }
}

const STORED = (process.env.SYNCLOG_BENCH_BROWSER_STORED ?? '10000,100000').split(',').map(Number)
const CHANGES = 1000

/**
 * Is the cost of a sync flat in what is stored? 1,000 title updates synced A→B (in-page memory
 * shared log, so only the clients are measured) with n notes already on both devices. Every
 * size's pair is seeded first, in one page of one persistent profile; then a warm-up round and
 * three rounds, the sizes alternated within each round, each round on other notes.
 */
async function storedTable(service: DemoService): Promise<BenchTable> {
    const { page, close } = await openPersistentBenchPage(service)
    try {
        const pairs = []
        for (const stored of STORED) {
            const [nameA, nameB] = [freshName('stored-a'), freshName('stored-b')]
            const { seedMs } = await call(page, 'openStoredPair', nameA, nameB, stored)
            pairs.push({ stored, nameA, nameB, seedMs, ms: [] as number[], pushMs: [] as number[], pullMs: [] as number[] })
        }
        // Round 0 warms the page's code up and is not counted.
        for (let round = 0; round <= RUNS; round++) {
            for (const pair of pairs) {
                const result = await call(page, 'syncChanges', pair.nameA, pair.nameB, pair.stored, CHANGES, round)
                if (result.applied !== CHANGES) {
                    throw new Error(`browser bench: B applied ${result.applied} of ${CHANGES} changes`)
                }
                if (round > 0) {
                    pair.ms.push(result.ms)
                    pair.pushMs.push(result.pushMs)
                    pair.pullMs.push(result.pullMs)
                }
            }
        }
        for (const pair of pairs) {
            await call(page, 'closeDevice', pair.nameA)
            await call(page, 'closeDevice', pair.nameB)
        }
        const base = median(pairs[0].ms)
        return {
            title: `Browser: syncing ${CHANGES.toLocaleString('en-US')} changes A→B with many notes already stored (Chromium's IndexedDB, median of ${RUNS} rounds)`,
            columns: ['notes stored', 'seed s', 'changes', 'push + pull ms', 'min–max', '× smallest', 'push ms', 'pull + apply ms'],
            rows: pairs.map(pair => [pair.stored.toLocaleString('en-US'), Math.round(pair.seedMs / 1000), CHANGES, median(pair.ms), spread(pair.ms), median(pair.ms) / base, median(pair.pushMs), median(pair.pullMs)]),
            notes: [
                'Both devices in one page on an in-page memory shared log, in a persistent profile on disk. Seeded through the library (logged executeBatch of 1,000 creates on A, synced to B; not timed), then per round 1,000 title updates on A spread over the notes (a fixed stride), timed: A pushes, B pulls and applies. The sizes alternate within each round.',
                DEXIE_NOTE,
            ],
        }
    } finally {
        await close()
    }
}

async function main(): Promise<void> {
    const selected = process.argv.slice(2)
    const wanted = (name: string) => !selected.length || selected.includes(name)
    const browser = await launchChromium()
    const service = await startDemoService({ staticDir: null })
    try {
        console.log(
            `Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'} × ${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ` +
                `${CHROMIUM_PATH} ${browser.version()} (headless), ${new Date().toISOString().slice(0, 10)}\n`,
        )
        if (wanted('write')) {
            console.log(formatTable(await writePathTable(browser, service)) + '\n')
        }
        if (wanted('sync')) {
            console.log(formatTable(await syncTable(browser)) + '\n')
        }
        if (wanted('stored')) {
            console.log(formatTable(await storedTable(service)) + '\n')
        }
        if (selected.includes('memory')) {
            console.log(formatTable(await memoryTable(browser)) + '\n')
        }
    } finally {
        await service.close()
        await browser.close()
    }
}

main().then(
    () => process.exit(0),
    error => {
        console.error(error)
        process.exit(1)
    },
)
