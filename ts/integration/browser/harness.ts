/**
 * Test and benchmark support for real Chromium: the sync service serving the built demo, Debian's
 * `chromium` driven by playwright-core, and one isolated browser context per device (its own
 * IndexedDB, storage and locks: two contexts are two devices). Node only, tests and benchmarks
 * only (excluded from the package by tsconfig.build.json): it is the side that drives the browser,
 * not code that runs in it — the pages it loads are `atomic-page.ts`, `demo-page.ts`, `scenario.ts`.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'fs'
import { tmpdir } from 'os'
import path from 'path'
import { chromium } from 'playwright-core'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { createSyncService } from '../../server/service'
import type { SyncService } from '../../server/service'
import { SqliteDocStore } from '../../server/store/sqlite'

export const ROOT = path.resolve(__dirname, '../../..')
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const CHROMIUM_ARGS = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
]

/**
 * In CI the browser tests must run; elsewhere, without Chromium, they say why they skip.
 * Returns the reason to skip, or null.
 */
export function browserUnavailable(): string | null {
    if (existsSync(CHROMIUM_PATH)) {
        return null
    }
    const reason = `Chromium not found at ${CHROMIUM_PATH} (apt-get install -y chromium, or set CHROMIUM_PATH)`
    if (process.env.CI) {
        throw new Error(`${reason}: the browser tests must run in CI`)
    }
    return reason
}

export async function launchChromium(): Promise<Browser> {
    return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS })
}

/** Builds the demo once per process into a temporary folder (never the working tree's demo/dist). */
let built: Promise<string> | null = null
export function buildDemoOnce(): Promise<string> {
    built ??= (async () => {
        const outdir = mkdtempSync(path.join(tmpdir(), 'synclog-demo-'))
        const { buildDemo } = require(path.join(ROOT, 'demo/build.js')) as { buildDemo(options: { outdir: string; minify: boolean }): Promise<string> }
        await buildDemo({ outdir, minify: false })
        return outdir
    })()
    return built
}

export interface DemoService {
    service: SyncService
    url: string
    port: number
    /** Documents uploaded through `POST /Docs` (every push counts, duplicates included). */
    uploadedDocs(): number
    /** `GET /Live` requests so far, per device id. */
    liveRequests(): Map<string, number>
    /** Documents the service stores for the single user. */
    storedDocs(): Promise<number>
    close(): Promise<void>
}

/**
 * The service as `npm start` runs it (single-user, Host check on, static demo at `/`), on an
 * SQLite file so that a restart on the same port keeps the data.
 */
export async function startDemoService(options: { port?: number; dbFile?: string; staticDir?: string | null } = {}): Promise<DemoService> {
    // null: no demo (a page made by `route.fulfill`, as the atomicity test and the benchmarks do).
    const staticDir = options.staticDir === null ? undefined : (options.staticDir ?? (await buildDemoOnce()))
    const dbFile = options.dbFile ?? path.join(mkdtempSync(path.join(tmpdir(), 'synclog-db-')), 'synclog.sqlite')
    const store = new SqliteDocStore({ filename: dbFile })
    const service = await createSyncService({ store, port: options.port ?? 0, staticDir })
    let uploaded = 0
    const live = new Map<string, number>()
    service.app.addHook('preHandler', async request => {
        const [route, query] = request.url.split('?')
        if (request.method === 'POST' && route === '/Docs') {
            uploaded += ((request.body as { docs?: unknown[] } | undefined)?.docs ?? []).length
        }
        if (request.method === 'GET' && route === '/Live') {
            const clientId = new URLSearchParams(query ?? '').get('clientId') ?? ''
            live.set(clientId, (live.get(clientId) ?? 0) + 1)
        }
    })
    const { url } = await service.listen()
    return {
        service,
        url,
        port: Number(new URL(url).port),
        uploadedDocs: () => uploaded,
        liveRequests: () => new Map(live),
        async storedDocs() {
            let count = 0
            for (let since = 0; ; ) {
                const response = await fetch(`${url}/Docs/Query?origin=all&limit=5000&since=${since}`, {
                    method: 'POST',
                    headers: { 'content-type': 'application/json' },
                    body: JSON.stringify({ clientId: 'test-counter' }),
                })
                const body = (await response.json()) as { docs?: unknown[]; cursor: number; hasMore: boolean }
                if (!Array.isArray(body.docs)) {
                    throw new Error(`counting documents failed: ${response.status} ${JSON.stringify(body)}`)
                }
                count += body.docs.length
                if (!body.hasMore) {
                    return count
                }
                since = body.cursor
            }
        },
        async close() {
            await service.close()
            if (!options.dbFile) {
                removeFolder(path.dirname(dbFile))
            }
        },
    }
}

export interface Device {
    context: BrowserContext
    page: Page
    /** Pages of this device opened with `openTab` (the first is `page`). */
    tabs: Page[]
    openTab(hash?: string): Promise<Page>
    close(): Promise<void>
}

/** A device: a fresh browser context (its own IndexedDB), with the demo open in one tab. */
export async function openDevice(browser: Browser, url: string, options: { hash?: string; name?: string } = {}): Promise<Device> {
    // Narrow enough that two devices side by side make a readable screenshot.
    const context = await browser.newContext({ viewport: { width: 720, height: 560 } })
    const tabs: Page[] = []
    const openTab = async (hash = '') => {
        const page = await context.newPage()
        const name = options.name ?? 'device'
        page.on('pageerror', error => console.error(`[${name}] page error: ${error.message}`))
        page.on('console', message => {
            // Refused requests are what the offline tests cause; anything else is worth seeing.
            if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
                console.error(`[${name}] console: ${message.text()} @ ${message.location().url}`)
            }
        })
        await page.goto(`${url}/${hash}`)
        await page.locator('body[data-ready="true"]').waitFor({ timeout: 30000 })
        tabs.push(page)
        return page
    }
    const page = await openTab(options.hash)
    return { context, page, tabs, openTab, close: () => context.close() }
}

export function removeFolder(folder: string): void {
    rmSync(folder, { recursive: true, force: true })
}

/** Saves screenshots of several devices as one image, side by side with their names. */
export async function sideBySide(browser: Browser, file: string, shots: Array<[string, Buffer]>): Promise<void> {
    mkdirSync(path.dirname(file), { recursive: true })
    const context = await browser.newContext({ viewport: { width: 736 * shots.length + 24, height: 600 } })
    try {
        const page = await context.newPage()
        const figures = shots
            .map(([name, png]) => `<figure><figcaption>${name}</figcaption><img src="data:image/png;base64,${png.toString('base64')}"></figure>`)
            .join('')
        await page.setContent(
            '<style>body{margin:0;padding:12px;display:flex;gap:16px;background:#c9ceda;font:600 15px system-ui,sans-serif}' +
                'figure{margin:0}figcaption{margin:0 0 6px}img{display:block;width:720px;border-radius:6px;box-shadow:0 1px 4px #0004}</style>' +
                figures,
        )
        await page.waitForFunction(() => Array.from(document.images).every(image => image.complete))
        await page.screenshot({ path: file, fullPage: true })
    } finally {
        await context.close()
    }
}
