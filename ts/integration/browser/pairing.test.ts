import type { Browser } from 'playwright-core'
import { browserUnavailable, launchChromium, openDevice, startDemoService } from './harness'
import type { DemoService, Device } from './harness'
import { WAIT_MS, addNote, shownNotes, waitForNote, waitForState, waitSynced, waitUntil } from './demo-page'

/**
 * Pairing in the demo: the device with the notes shows a code, a new device (opened as `/#pair`,
 * so it does not sync before) types it, receives 1,000 notes by initial sync through the
 * service's relay with a progress bar, then syncs continuously from where the transfer ended.
 */
const skip = browserUnavailable()
const describeBrowser = skip ? describe.skip : describe
if (skip) {
    console.warn(`browser tests skipped: ${skip}`)
}
jest.setTimeout(180000)

describeBrowser('the demo app in Chromium: pairing and initial sync', () => {
    let browser: Browser
    let service: DemoService
    const devices: Device[] = []
    beforeAll(async () => {
        ;[browser, service] = await Promise.all([launchChromium(), startDemoService()])
    })
    afterAll(async () => {
        await Promise.all(devices.map(device => device.close()))
        await service?.close()
        await browser?.close()
    })

    it('pairs by code and moves 1,000 notes with the progress bar reaching 100 %', async () => {
        const a = await openDevice(browser, service.url, { name: 'A' })
        devices.push(a)
        await a.page.getByTestId('note-add-samples').click()
        await a.page.locator('[data-testid="note-count"]', { hasText: /^1000$/ }).waitFor({ timeout: WAIT_MS })
        await waitSynced(a.page)
        const notesOfA = await shownNotes(a.page)
        expect(notesOfA).toHaveLength(1000)

        const b = await openDevice(browser, service.url, { name: 'B', hash: '#pair' })
        devices.push(b)
        await waitForState(b.page, 'pairing')
        expect(await shownNotes(b.page)).toEqual([])
        // Record every value the progress bar takes.
        await b.page.evaluate(() => {
            const bar = document.querySelector<HTMLProgressElement>('[data-testid="pairing-progress"]') as HTMLProgressElement
            const seen: number[] = []
            ;(window as unknown as { progressSeen: number[] }).progressSeen = seen
            new MutationObserver(() => seen.push(bar.value)).observe(bar, { attributes: true, attributeFilter: ['value'] })
        })

        await a.page.getByTestId('show-pairing').click()
        await a.page.getByTestId('pairing-create').click()
        const code = await waitUntil(async () => (await a.page.getByTestId('pairing-code').textContent())?.trim() ?? '', text => text.length >= 6, 'a pairing code on A')
        await b.page.getByTestId('pairing-input').fill(code)
        await b.page.getByTestId('pairing-join').click()

        await b.page.locator('[data-testid="pairing-status"][data-status="done"]').waitFor({ timeout: 120000 })
        expect(await b.page.getByTestId('pairing-progress').evaluate(bar => (bar as HTMLProgressElement).value)).toBe(100)
        const seen = await b.page.evaluate(() => (window as unknown as { progressSeen: number[] }).progressSeen)
        expect(seen[seen.length - 1]).toBe(100)
        expect(seen.some(value => value > 0 && value < 100)).toBe(true) // 2 batches of 500: a step at 50 %
        expect([...seen].sort((x, y) => x - y)).toEqual(seen)
        await a.page.locator('[data-testid="pairing-status"][data-status="done"]').waitFor({ timeout: WAIT_MS })

        // B holds exactly A's notes, then syncs continuously: without re-pushing what it received.
        await b.page.getByTestId('show-notes').click()
        await waitUntil(() => shownNotes(b.page), notes => notes.length === 1000, '1000 notes on B')
        expect(await shownNotes(b.page)).toEqual(notesOfA)
        await waitSynced(b.page)
        const uploadedBefore = service.uploadedDocs()
        await a.page.getByTestId('show-notes').click()
        const later = await addNote(a.page, 'After pairing', 'continuous sync')
        await waitForNote(b.page, { id: later.id, title: 'After pairing' })
        await waitSynced(b.page)
        expect(service.uploadedDocs()).toBe(uploadedBefore + 1)
        expect(await service.storedDocs()).toBe(1001)
    })
})
