import path from 'path'
import { build } from 'esbuild'
import type { Browser } from 'playwright-core'
import type { AtomicPageResult } from './atomic-page'
import { ROOT, browserUnavailable, launchChromium, startDemoService } from './harness'
import type { DemoService } from './harness'

/**
 * Invariant 1 in a real browser: a write and its log entries commit together or not at all, on
 * Chromium's own IndexedDB through storex-backend-dexie's real transactions. The library's main
 * entry is bundled for the browser (esbuild, --platform=browser, no shims) and runs in a page of
 * the service's origin.
 */
const skip = browserUnavailable()
const describeBrowser = skip ? describe.skip : describe
if (skip) {
    console.warn(`browser tests skipped: ${skip}`)
}

describeBrowser('atomic execute + log on real IndexedDB (Chromium)', () => {
    let browser: Browser
    let service: DemoService
    beforeAll(async () => {
        ;[browser, service] = await Promise.all([launchChromium(), startDemoService({ staticDir: null })])
    }, 120000)
    afterAll(async () => {
        await browser?.close()
        await service?.close()
    })

    it('leaves nothing half-written when the write fails or the log fails', async () => {
        const bundle = await build({
            entryPoints: [path.join(ROOT, 'ts/integration/browser/atomic-page.ts')],
            bundle: true,
            platform: 'browser',
            format: 'iife',
            globalName: 'atomicPage',
            write: false,
            // For the app's Storex (randombytes reads `global`); the library needs none.
            define: { global: 'globalThis' },
            logLevel: 'silent',
        })
        const context = await browser.newContext()
        const page = await context.newPage()
        page.on('pageerror', error => console.error(`page error: ${error.message}`))
        // A page of the service's origin (real IndexedDB), made of the bundle alone.
        await page.route(`${service.url}/atomic-test.html`, route =>
            route.fulfill({ contentType: 'text/html', body: `<!doctype html><script>${bundle.outputFiles[0].text.replace(/<\/script/gi, '<\\/script')}</script>` }),
        )
        await page.goto(`${service.url}/atomic-test.html`)
        const result = (await page.evaluate(
            prefix => (globalThis as unknown as { atomicPage: { runAtomicScenario(prefix: string): Promise<unknown> } }).atomicPage.runAtomicScenario(prefix),
            `run-${Date.now()}`,
        )) as AtomicPageResult
        await context.close()

        expect(result.hasNavigator).toBe(true)
        expect(result.cases.map(item => item.name)).toHaveLength(4)
        for (const item of result.cases) {
            // Every case failed, and the database holds exactly what it held before.
            expect({ name: item.name, failed: item.error !== null }).toEqual({ name: item.name, failed: true })
            expect({ name: item.name, state: item.after }).toEqual({ name: item.name, state: item.before })
        }
        expect(result.cases[0].error).toMatch(/duplicate|exists/i)
        expect(result.cases[1].error).toMatch(/injected failure of updateObjects/)
        expect(result.cases[2].error).toMatch(/ConstraintError|Key already exists|BulkError/i)
        expect(result.cases[3].error).toMatch(/injected failure after the entries were written/)
        // The two notes made before the failures, and one note and entry more after them.
        expect(result.afterwards).toEqual({ notes: 3, entries: 3 })
    })
})
