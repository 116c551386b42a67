/**
 * The demo's offline switch: a `fetch` for the library's HTTP clients that fails like an
 * unreachable network while the switch is on, and aborts requests in flight (the live stream
 * above all) when it is turned on. The library then sees what a real outage looks like
 * (`SERVICE_UNREACHABLE`) and the sync loop goes offline by itself.
 */
export class OfflineSwitch {
    private isOffline = false
    private readonly inFlight = new Set<AbortController>()

    get offline(): boolean {
        return this.isOffline
    }

    setOffline(offline: boolean): void {
        this.isOffline = offline
        if (offline) {
            for (const controller of this.inFlight) {
                controller.abort(new TypeError('offline (demo switch)'))
            }
            this.inFlight.clear()
        }
    }

    readonly fetch: typeof fetch = async (input, init) => {
        if (this.isOffline) {
            throw new TypeError('Failed to fetch (offline: demo switch)')
        }
        const controller = new AbortController()
        const outer = init?.signal
        if (outer) {
            if (outer.aborted) {
                controller.abort(outer.reason)
            }
            outer.addEventListener('abort', () => controller.abort(outer.reason), { once: true })
        }
        this.inFlight.add(controller)
        try {
            const response = await globalThis.fetch(input, { ...init, signal: controller.signal })
            // A streamed body (the live stream) stays abortable until it ends.
            if (response.body && (response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
                return response
            }
            this.inFlight.delete(controller)
            return response
        } catch (error) {
            this.inFlight.delete(controller)
            throw error
        }
    }
}
