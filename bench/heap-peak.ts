import type { Page } from 'playwright-core'

/**
 * The most JavaScript heap a page kept live while `body` ran, above what it held just before:
 * every `intervalMs` a full garbage collection over the DevTools protocol, then the heap's size,
 * so garbage that V8 has not yet collected is not counted as held. On real IndexedDB the stored
 * data lives in the browser's storage process, not in the page's heap, so this is what the sync
 * itself holds at once: what "peak memory flat in N" is about. The collections slow the body a
 * little, so the timings of the same run are not the benchmark's figures.
 */
export async function withLiveHeapPeak<T>(page: Page, body: () => Promise<T>, intervalMs = 250): Promise<{ result: T; peakMiB: number }> {
    const cdp = await page.context().newCDPSession(page)
    const live = async () => {
        await cdp.send('HeapProfiler.collectGarbage')
        return (await cdp.send('Runtime.getHeapUsage')).usedSize
    }
    const before = await live()
    let peak = before
    let running = true
    const sampling = (async () => {
        while (running) {
            await new Promise(resolve => setTimeout(resolve, intervalMs))
            if (running) {
                peak = Math.max(peak, await live())
            }
        }
    })()
    try {
        const result = await body()
        return { result, peakMiB: (peak - before) / 2 ** 20 }
    } finally {
        running = false
        await sampling
        await cdp.detach()
    }
}
