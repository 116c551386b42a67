/**
 * Driving the demo app through its `data-testid` hooks, and waiting on what its DOM shows
 * (generous timeouts, no timing assertions).
 */
import type { Page } from 'playwright-core'

export const WAIT_MS = 30000

export interface ShownNote {
    id: string
    title: string
    body: string
}

/** The notes the page lists, in list order, as the inputs show them. */
export function shownNotes(page: Page): Promise<ShownNote[]> {
    return page.evaluate(() =>
        Array.from(document.querySelectorAll('[data-testid="note"]'), (item: Element) => ({
            id: (item as HTMLElement).dataset.noteId ?? '',
            title: (item.querySelector('[data-testid="note-title"]') as HTMLInputElement | null)?.value ?? '',
            body: (item.querySelector('[data-testid="note-body"]') as HTMLTextAreaElement | null)?.value ?? '',
        })),
    )
}

/** Polls `check` until it returns true; on timeout, fails with `describe()` of the last state. */
export async function waitUntil<T>(read: () => Promise<T>, check: (value: T) => boolean, what: string, timeoutMs = WAIT_MS): Promise<T> {
    const deadline = Date.now() + timeoutMs
    let value = await read()
    while (!check(value)) {
        if (Date.now() > deadline) {
            throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${JSON.stringify(value)}`)
        }
        await new Promise(resolve => setTimeout(resolve, 100))
        value = await read()
    }
    return value
}

/** Waits until the page lists a note matching `match` and returns it. */
export async function waitForNote(page: Page, match: Partial<ShownNote>, what = JSON.stringify(match)): Promise<ShownNote> {
    const matches = (note: ShownNote) => Object.entries(match).every(([key, value]) => note[key as keyof ShownNote] === value)
    const notes = await waitUntil(() => shownNotes(page), list => list.some(matches), `a note ${what}`)
    return notes.find(matches) as ShownNote
}

export async function addNote(page: Page, title: string, body: string): Promise<ShownNote> {
    await page.getByTestId('note-title-input').fill(title)
    await page.getByTestId('note-body-input').fill(body)
    await page.getByTestId('note-add').click()
    return waitForNote(page, { title, body })
}

/** Edits a field in place; leaving the field saves it. */
export async function editNote(page: Page, id: string, field: 'title' | 'body', value: string): Promise<void> {
    const input = page.locator(`[data-testid="note"][data-note-id="${id}"] [data-testid="note-${field}"]`)
    await input.fill(value)
    await input.blur()
}

export async function deleteNote(page: Page, id: string): Promise<void> {
    await page.locator(`[data-testid="note"][data-note-id="${id}"] [data-testid="note-delete"]`).click()
}

export async function waitForState(page: Page, state: string): Promise<void> {
    await page.locator(`[data-testid="sync-state"][data-state="${state}"]`).waitFor({ timeout: WAIT_MS })
}

export function pendingChanges(page: Page): Promise<number> {
    return page.getByTestId('pending-changes').textContent().then(text => Number(text))
}

/** Idle with nothing left to push. */
export async function waitSynced(page: Page): Promise<void> {
    await waitUntil(
        async () => ({ state: await page.getByTestId('sync-state').getAttribute('data-state'), pending: await pendingChanges(page) }),
        ({ state, pending }) => state === 'idle' && pending === 0,
        'idle with 0 pending changes',
    )
}

export async function setOffline(page: Page, offline: boolean): Promise<void> {
    const toggle = page.getByTestId('offline-toggle')
    await (offline ? toggle.check() : toggle.uncheck())
}
