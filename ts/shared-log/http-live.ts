import { HttpSyncServiceError } from './http-transport'
import type { SharedLogSubscribeOptions, SharedLogSubscription } from './types'

/**
 * The client side of the service's live notifications (`GET /Live`, server-sent events), read
 * with `fetch` and a `ReadableStream` rather than `EventSource`: that works in browsers and in
 * Node 20 (which has no EventSource or WebSocket), and sends the `Authorization` header like
 * every other request, so no token ever goes into a URL (where it would land in logs).
 *
 * A dropped stream is re-opened with capped exponential backoff and full jitter; after every
 * (re)open `onChange` runs once, since writes made while it was down were not announced. A stream
 * that stays silent for more than twice the service's keep-alive period (plus 5 s) counts as
 * dead (a half-open connection) and is re-opened. Answers that cannot get better by retrying
 * (400, 401, 403, 404: a bad token, or a service without `/Live`) end the subscription with
 * status `failed`; the sync loop's interval keeps syncing without it.
 */

/** Timer functions (inject fakes in tests). */
export interface LiveTimers {
    setTimeout(callback: () => void, ms: number): unknown
    clearTimeout(handle: unknown): void
}

export interface HttpLiveOptions {
    /** Base URL of the sync service. */
    url: string
    /** Bearer token (multi-user mode). Default: none. */
    token?: string
    /** The fetch implementation; it must stream response bodies. Default: the global fetch. */
    fetch?: typeof fetch
    /** Ceiling of the first reconnect delay, doubled per failed attempt. Default: 500. */
    reconnectBaseMs?: number
    /** Largest reconnect delay. Default: 30000. */
    reconnectMaxMs?: number
    /** Default: the global setTimeout/clearTimeout. */
    timers?: LiveTimers
    /** Jitter source in [0, 1). Default: Math.random. */
    random?: () => number
}

const FINAL_STATUSES = new Set([400, 401, 403, 404])

/** A `LiveSource` for `ContinuousSync` (and what `HttpSharedSyncLog.subscribe` uses). */
export class HttpLiveSource {
    constructor(private readonly options: HttpLiveOptions) {}

    subscribe(options: SharedLogSubscribeOptions): SharedLogSubscription {
        return subscribeHttpLive({ ...this.options, ...options })
    }
}

export function subscribeHttpLive(options: HttpLiveOptions & SharedLogSubscribeOptions): SharedLogSubscription {
    const connection = new LiveConnection(options)
    connection.connect()
    return { close: () => connection.close() }
}

class LiveConnection {
    private closed = false
    private controller: AbortController | null = null
    private attempt = 0
    private reconnectHandle: unknown = null
    private watchdogHandle: unknown = null
    private silenceMs: number | null = null
    private readonly timers: LiveTimers
    private readonly fetch: typeof fetch

    constructor(private readonly options: HttpLiveOptions & SharedLogSubscribeOptions) {
        this.timers = options.timers ?? { setTimeout: (callback, ms) => setTimeout(callback, ms), clearTimeout: handle => clearTimeout(handle as ReturnType<typeof setTimeout>) }
        this.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
    }

    close(): void {
        this.closed = true
        this.controller?.abort()
        this.controller = null
        this.clearWatchdog()
        if (this.reconnectHandle !== null) {
            this.timers.clearTimeout(this.reconnectHandle)
            this.reconnectHandle = null
        }
    }

    connect(): void {
        void this.run()
    }

    private async run(): Promise<void> {
        if (this.closed) {
            return
        }
        this.status('connecting')
        const controller = new AbortController()
        this.controller = controller
        let failure: unknown
        try {
            const headers: Record<string, string> = { accept: 'text/event-stream' }
            if (this.options.token !== undefined) {
                headers.authorization = `Bearer ${this.options.token}`
            }
            const url = `${this.options.url.replace(/\/+$/, '')}/Live?clientId=${encodeURIComponent(this.options.deviceId)}`
            const response = await this.fetch(url, { headers, signal: controller.signal })
            if (!response.ok || !response.body) {
                const error = await responseError(response)
                if (FINAL_STATUSES.has(response.status)) {
                    this.closed = true
                    this.status('failed', error)
                    return
                }
                throw error
            }
            this.attempt = 0
            this.status('open')
            this.changed()
            await this.read(response.body, controller)
        } catch (error) {
            failure = error
        } finally {
            this.clearWatchdog()
        }
        if (this.closed || this.controller !== controller) {
            return
        }
        this.status('closed', failure)
        const ceiling = Math.min(this.options.reconnectMaxMs ?? 30_000, (this.options.reconnectBaseMs ?? 500) * 2 ** Math.min(this.attempt++, 30))
        this.reconnectHandle = this.timers.setTimeout(() => {
            this.reconnectHandle = null
            void this.run()
        }, Math.floor((this.options.random ?? Math.random)() * ceiling))
    }

    private async read(body: ReadableStream<Uint8Array>, controller: AbortController): Promise<void> {
        const reader = body.getReader()
        const decoder = new TextDecoder()
        let buffer = ''
        try {
            for (;;) {
                const { done, value } = await reader.read()
                if (done || this.closed) {
                    return
                }
                this.armWatchdog(controller)
                buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n')
                for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
                    this.onEvent(buffer.slice(0, end), controller)
                    buffer = buffer.slice(end + 2)
                }
            }
        } finally {
            reader.releaseLock()
        }
    }

    private onEvent(block: string, controller: AbortController): void {
        let name = 'message'
        let data = ''
        for (const line of block.split('\n')) {
            if (line.startsWith(':')) {
                continue // a keep-alive comment
            }
            const colon = line.indexOf(':')
            const field = colon < 0 ? line : line.slice(0, colon)
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
            if (field === 'event') {
                name = value
            } else if (field === 'data') {
                data += data ? `\n${value}` : value
            }
        }
        if (name === 'change') {
            this.changed()
        } else if (name === 'ready') {
            const keepAliveMs = (safeJson(data) as { keepAliveMs?: unknown } | null)?.keepAliveMs
            if (typeof keepAliveMs === 'number' && keepAliveMs > 0) {
                this.silenceMs = keepAliveMs * 2 + 5000
                this.armWatchdog(controller)
            }
        }
    }

    private armWatchdog(controller: AbortController): void {
        this.clearWatchdog()
        if (this.silenceMs !== null) {
            this.watchdogHandle = this.timers.setTimeout(() => controller.abort(), this.silenceMs)
        }
    }

    private clearWatchdog(): void {
        if (this.watchdogHandle !== null) {
            this.timers.clearTimeout(this.watchdogHandle)
            this.watchdogHandle = null
        }
    }

    private changed(): void {
        if (!this.closed) {
            try {
                this.options.onChange()
            } catch {
                // The subscriber's failure must not end the stream.
            }
        }
    }

    private status(status: 'connecting' | 'open' | 'closed' | 'failed', error?: unknown): void {
        try {
            this.options.onStatus?.(status, error)
        } catch {
            // as above
        }
    }
}

async function responseError(response: Response): Promise<HttpSyncServiceError> {
    let body: unknown
    try {
        body = safeJson(await response.text())
    } catch {
        body = undefined
    }
    const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error
    const code = typeof error?.code === 'string' ? error.code : `HTTP_${response.status}`
    const message = typeof error?.message === 'string' ? error.message : `status ${response.status}`
    return new HttpSyncServiceError(code, `GET /Live failed (${response.status}): ${message}`, response.status, body)
}

function safeJson(text: string): unknown {
    try {
        return JSON.parse(text)
    } catch {
        return null
    }
}
