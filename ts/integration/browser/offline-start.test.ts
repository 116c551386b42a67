import { mkdtempSync } from 'fs'
import { tmpdir } from 'os'
import path from 'path'
import type { Browser } from 'playwright-core'
import { listStaticFiles } from '../../server/static'
import { browserUnavailable, buildDemoOnce, launchChromium, openDevice, removeFolder, startDemoService } from './harness'
import type { DemoService, Device } from './harness'
import { addNote, pendingChanges, shownNotes, waitForNote, waitForState, waitSynced, waitUntil } from './demo-page'

/**
 * A device that starts while the service is down: `setupSync` needs no network, the app works on
 * its IndexedDB, changes pile up, and the first probe that reaches the service pushes them.
 */
const skip = browserUnavailable()
const describeBrowser = skip ? describe.skip : describe
if (skip) {
    console.warn(`browser tests skipped: ${skip}`)
}
jest.setTimeout(120000)

describeBrowser('the demo app in Chromium: started with the service down', () => {
    let browser: Browser
    let service: DemoService | null = null
    const devices: Device[] = []
    const folder = mkdtempSync(path.join(tmpdir(), 'synclog-offline-start-'))
    beforeAll(async () => {
        browser = await launchChromium()
    })
    afterAll(async () => {
        await Promise.all(devices.map(device => device.close()))
        await service?.close()
        await browser?.close()
        removeFolder(folder)
    })

    it('works locally and syncs when the service comes up', async () => {
        const dbFile = path.join(folder, 'synclog.sqlite')
        const staticDir = await buildDemoOnce()
        service = await startDemoService({ dbFile, staticDir })
        const { url, port } = service
        const a = await openDevice(browser, url, { name: 'A' })
        devices.push(a)
        await waitSynced(a.page)

        // The page's own files come from disk from now on, as from a cache; every request to
        // the service itself finds nothing listening.
        const files = new Map(listStaticFiles(staticDir).map(file => [file.urlPath, file]))
        await a.context.route(`${url}/**`, route => {
            const file = files.get(new URL(route.request().url()).pathname)
            return file ? route.fulfill({ path: file.file, contentType: file.contentType }) : route.continue()
        })
        await service.close()
        service = null

        // A fresh start of the app (a reload) while the service is down.
        await a.page.reload()
        await a.page.locator('body[data-ready="true"]').waitFor()
        await waitForState(a.page, 'offline')
        const first = await addNote(a.page, 'Written while the service was down', 'kept locally')
        const second = await addNote(a.page, 'Another one', 'also pending')
        await waitUntil(() => pendingChanges(a.page), count => count === 2, '2 pending changes')
        await a.page.reload()
        await a.page.locator('body[data-ready="true"]').waitFor()
        expect((await shownNotes(a.page)).map(note => note.id).sort()).toEqual([first.id, second.id].sort())

        // The service comes back on the same port and database: the backoff probe finds it.
        service = await startDemoService({ dbFile, staticDir, port })
        await waitSynced(a.page)
        expect(await service.storedDocs()).toBe(2)

        const b = await openDevice(browser, url, { name: 'B' })
        devices.push(b)
        await waitForNote(b.page, { id: first.id, title: 'Written while the service was down' })
        await waitForNote(b.page, { id: second.id, title: 'Another one' })
    })
})
