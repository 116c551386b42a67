import path from 'path'
import type { Browser } from 'playwright-core'
import { ROOT, browserUnavailable, launchChromium, openDevice, sideBySide, startDemoService } from './harness'
import type { DemoService, Device } from './harness'
import { addNote, deleteNote, editNote, pendingChanges, setOffline, shownNotes, waitForNote, waitForState, waitSynced, waitUntil } from './demo-page'

/**
 * The demo app in real Chromium, served by the sync service like `npm start` serves it. Each
 * browser context is one device (its own IndexedDB); every change travels through the service.
 */
const skip = browserUnavailable()
const describeBrowser = skip ? describe.skip : describe
if (skip) {
    console.warn(`browser tests skipped: ${skip}`)
}
jest.setTimeout(120000)

describeBrowser('the demo app in Chromium: two devices through the service', () => {
    let browser: Browser
    let service: DemoService
    const devices: Device[] = []
    const device = async (name: string) => {
        const opened = await openDevice(browser, service.url, { name })
        devices.push(opened)
        return opened
    }

    beforeAll(async () => {
        browser = await launchChromium()
    })
    beforeEach(async () => {
        service = await startDemoService()
    })
    afterEach(async () => {
        await Promise.all(devices.splice(0).map(opened => opened.close()))
        await service.close()
    })
    afterAll(async () => {
        await browser?.close()
    })

    it('creates, edits and deletes across devices live, and keeps the data over a reload', async () => {
        const [a, b] = [await device('A'), await device('B')]
        await Promise.all([waitSynced(a.page), waitSynced(b.page)])

        // Created in A, it appears in B without anything clicked in B (live notification).
        const created = await addNote(a.page, 'Groceries', 'milk, eggs')
        await waitForNote(b.page, { id: created.id, title: 'Groceries', body: 'milk, eggs' })

        // Edited in B, it changes in A.
        await editNote(b.page, created.id, 'body', 'milk, eggs, bread')
        await waitForNote(a.page, { id: created.id, title: 'Groceries', body: 'milk, eggs, bread' })

        // A reload of B reads everything back from its IndexedDB.
        const second = await addNote(a.page, 'Second note', 'to be deleted')
        await waitForNote(b.page, { id: second.id })
        await b.page.reload()
        await b.page.locator('body[data-ready="true"]').waitFor()
        expect(await shownNotes(b.page)).toEqual(expect.arrayContaining([{ id: created.id, title: 'Groceries', body: 'milk, eggs, bread' }, { ...second }]))

        // Deleted in B (after its reload), it disappears from A.
        await deleteNote(b.page, second.id)
        await waitUntil(() => shownNotes(a.page), notes => !notes.some(note => note.id === second.id), 'the deleted note to leave A')
        expect(await shownNotes(a.page)).toEqual([{ id: created.id, title: 'Groceries', body: 'milk, eggs, bread' }])
        await waitSynced(b.page)
        expect(await shownNotes(b.page)).toEqual(await shownNotes(a.page))
    })

    it('merges conflicting offline edits the same way on both devices', async () => {
        const [a, b] = [await device('A'), await device('B')]
        const note = await addNote(a.page, 'Trip plan', 'first draft')
        await waitForNote(b.page, { id: note.id, body: 'first draft' })

        await setOffline(a.page, true)
        await setOffline(b.page, true)
        await Promise.all([waitForState(a.page, 'offline'), waitForState(b.page, 'offline')])

        // Both edit the title; only A edits the body. B's title edit is the later one.
        await editNote(a.page, note.id, 'title', 'Trip plan (A)')
        await editNote(a.page, note.id, 'body', 'A: train at 9')
        await waitUntil(() => pendingChanges(a.page), count => count === 2, "A's 2 pending changes (title, body)")
        await editNote(b.page, note.id, 'title', 'Trip plan (B)')
        await waitUntil(() => pendingChanges(b.page), count => count === 1, "B's pending title change")
        // Still apart while offline.
        expect((await shownNotes(a.page))[0]).toEqual({ id: note.id, title: 'Trip plan (A)', body: 'A: train at 9' })
        expect((await shownNotes(b.page))[0]).toEqual({ id: note.id, title: 'Trip plan (B)', body: 'first draft' })

        await setOffline(a.page, false)
        await setOffline(b.page, false)
        // Title by the last write (B's), and A's body edit kept: different fields both survive.
        const merged = { id: note.id, title: 'Trip plan (B)', body: 'A: train at 9' }
        await Promise.all([waitForNote(a.page, merged), waitForNote(b.page, merged)])
        await Promise.all([waitSynced(a.page), waitSynced(b.page)])
        expect(await shownNotes(a.page)).toEqual([merged])
        expect(await shownNotes(b.page)).toEqual([merged])

        const file = path.join(ROOT, 'test-results', 'conflict-merged.png')
        await sideBySide(browser, file, [['device A', await a.page.screenshot()], ['device B', await b.page.screenshot()]])
        console.log(`screenshot of both devices after the merge: ${file}`)
    })

    it('syncs once per device with two tabs open, and both tabs show changes', async () => {
        const a = await device('A')
        const b = await device('B')
        const second = await a.openTab()
        const tabs = [a.page, second]
        await Promise.all([...tabs, b.page].map(page => waitSynced(page)))

        // Written in the second tab (which does not lead): the first tab and device B show it.
        const fromTab = await addNote(second, 'Written in tab 2', 'same device')
        await waitForNote(a.page, { id: fromTab.id, title: 'Written in tab 2' })
        await waitForNote(b.page, { id: fromTab.id, title: 'Written in tab 2' })
        // From the other device: both tabs show it.
        const fromB = await addNote(b.page, 'Written on B', 'other device')
        await Promise.all(tabs.map(page => waitForNote(page, { id: fromB.id, title: 'Written on B' })))
        await Promise.all([...tabs, b.page].map(page => waitSynced(page)))

        // One create entry per note reached the service, each uploaded exactly once.
        expect(await service.storedDocs()).toBe(2)
        expect(service.uploadedDocs()).toBe(2)
        // One live connection per device: only the leading tab of A opened one.
        expect([...service.liveRequests().values()]).toEqual([1, 1])
    })
})
