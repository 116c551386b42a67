import { SyncConfigurationError, SyncError } from '../errors'

/**
 * JSON requests to the sync service with retries: network errors, 5xx and 429 are retried with
 * exponential backoff and jitter; every other answer is final. Safe because every request of
 * the protocol is idempotent (an upsert retried after a lost answer is discarded as an equal
 * version from the same client).
 */

export interface RetryOptions {
    /** Retries after the first attempt. Default: 5. */
    retries?: number
    /** Delay before the first retry, doubled for each further one. Default: 200 ms. */
    baseDelayMs?: number
    /** Upper bound of one delay. Default: 10000 ms. */
    maxDelayMs?: number
    /** Jitter source in [0, 1). Default: Math.random. */
    random?: () => number
    /** Waits between attempts. Default: setTimeout. */
    sleep?: (ms: number) => Promise<void>
}

/** The service answered with an error, or could not be reached within the retries. */
export class HttpSyncServiceError extends SyncError {
    constructor(
        code: string,
        message: string,
        /** HTTP status, or 0 when no answer arrived. */
        readonly status: number,
        /** The parsed error body, when there was one. */
        readonly body?: unknown,
        options: { cause?: unknown; retryAfterMs?: number } = {},
    ) {
        super(code, message, options)
        this.retryAfterMs = options.retryAfterMs
    }

    /** The answer's `Retry-After`, in ms, when it had one (429 BUSY, 503). */
    readonly retryAfterMs?: number

    /** Whether another attempt can succeed: no answer, an overloaded or failing service, a cut-off body. Every other 4xx is final. */
    get transient(): boolean {
        return isTransient(this)
    }
}

/** The service's default `limits.bodyBytes`. */
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024

/** The service's default `limits.reconcileBodyBytes`. */
export const DEFAULT_MAX_RECONCILE_BODY_BYTES = 64 * 1024 * 1024

export interface TransportOptions {
    /** Base URL of the service: http: or https:, optionally with a path prefix, no query or fragment. */
    url: string
    /** Bearer token, sent as `Authorization: Bearer <token>`. Default: none. */
    token?: string
    /** The fetch implementation. Default: the global fetch (looked up at each request). */
    fetch?: typeof fetch
    /** Retries of transient failures; see `RetryOptions` for the defaults. */
    retry?: RetryOptions
    /**
     * Largest request body in UTF-8 bytes (the service's `limits.bodyBytes`); a larger one is
     * refused before it is sent with `HttpSyncServiceError` `BODY_TOO_LARGE` (status 413), as the
     * service would refuse it. A request may give its own bound (`/Reconcile` does). Default: 10 MiB.
     */
    maxBodyBytes?: number
}

export interface JsonResponse {
    status: number
    body: unknown
}

export class HttpTransport {
    private readonly baseUrl: string
    private readonly fetch: typeof fetch
    private readonly retries: number
    private readonly baseDelayMs: number
    private readonly maxDelayMs: number
    private readonly random: () => number
    private readonly sleep: (ms: number) => Promise<void>
    private readonly maxBodyBytes: number

    /** Validates the options up front (`SyncConfigurationError` naming the option). */
    constructor(private readonly options: TransportOptions) {
        validateTransportOptions(options)
        this.baseUrl = options.url.replace(/\/+$/, '')
        this.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
        this.retries = options.retry?.retries ?? 5
        this.baseDelayMs = options.retry?.baseDelayMs ?? 200
        this.maxDelayMs = options.retry?.maxDelayMs ?? 10_000
        this.random = options.retry?.random ?? Math.random
        this.sleep = options.retry?.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)))
        this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
    }

    /**
     * Sends one request, retrying transient failures. Resolves with any final answer whose
     * status is in `accept` (default: 2xx only); rejects with `HttpSyncServiceError` otherwise.
     */
    async request(
        method: string,
        path: string,
        options: { body?: unknown; headers?: Record<string, string>; accept?: number[]; maxBodyBytes?: number } = {},
    ): Promise<JsonResponse> {
        const headers: Record<string, string> = { accept: 'application/json', ...options.headers }
        if (this.options.token !== undefined) {
            headers.authorization = `Bearer ${this.options.token}`
        }
        if (options.body !== undefined) {
            headers['content-type'] = 'application/json'
        }
        const init = { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) }
        if (init.body !== undefined) {
            assertBodySize(method, path, init.body, options.maxBodyBytes ?? this.maxBodyBytes)
        }
        for (let attempt = 0; ; attempt++) {
            let failure: HttpSyncServiceError
            try {
                const response = await this.fetch(this.baseUrl + path, init)
                const body = await readJson(response)
                if ((response.status >= 200 && response.status < 300) || options.accept?.includes(response.status)) {
                    return { status: response.status, body }
                }
                failure = errorFromResponse(method, path, response.status, body, retryAfterMs(response))
            } catch (error) {
                failure =
                    error instanceof HttpSyncServiceError
                        ? error
                        : new HttpSyncServiceError(
                              'SERVICE_UNREACHABLE',
                              `${method} ${path}: ${(error as Error)?.message ?? String(error)}${crossOriginHint(this.baseUrl)}`,
                              0,
                              undefined,
                              { cause: error },
                          )
            }
            if (!isTransient(failure) || attempt >= this.retries) {
                throw failure
            }
            // A busy service says when to come back; never sooner than the backoff, never past its ceiling.
            await this.sleep(Math.max(this.delay(attempt), Math.min(failure.retryAfterMs ?? 0, this.maxDelayMs)))
        }
    }

    /** Exponential backoff with "equal jitter": half the delay fixed, half random. */
    private delay(attempt: number): number {
        const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** attempt)
        return ceiling / 2 + (this.random() * ceiling) / 2
    }
}

/**
 * In a browser (or worker), a request that CORS blocks fails exactly like an unreachable
 * service: fetch rejects and the reason is only in the console. When the page's origin is not
 * the service's, say that CORS may be the cause and how to allow the page.
 */
export function crossOriginHint(serviceUrl: string): string {
    const location = (globalThis as { location?: { origin?: unknown } }).location
    const pageOrigin = typeof location?.origin === 'string' ? location.origin : undefined
    if (pageOrigin === undefined) {
        return ''
    }
    let serviceOrigin: string
    try {
        serviceOrigin = new URL(serviceUrl).origin
    } catch {
        return ''
    }
    if (pageOrigin === serviceOrigin) {
        return ''
    }
    if (pageOrigin === 'null') {
        return (
            ` (if the service is running: this page has an opaque origin, e.g. a file:// page, so the browser may have blocked the request by CORS;` +
            ` serve the page over http(s) and start the service with --cors-origin <that origin>, or with --cors-origin '*')`
        )
    }
    return (
        ` (if the service is running: this page's origin ${pageOrigin} is not the service's ${serviceOrigin}, so the browser may have blocked the request by CORS;` +
        ` start the service with --cors-origin ${pageOrigin}, or pass corsOrigins: ['${pageOrigin}'] to createSyncService)`
    )
}

/**
 * Refuses options that could only fail later, and worse: a URL without scheme makes every
 * fetch throw, which would be retried as a network fault; a token with a line break too.
 */
function validateTransportOptions(options: TransportOptions): void {
    if (typeof options !== 'object' || options === null) {
        throw new SyncConfigurationError(`HttpSharedSyncLog needs an options object with 'url'`, { option: 'url' })
    }
    validateUrl(options.url)
    if (options.token !== undefined && (typeof options.token !== 'string' || !/^[\x21-\x7e]+$/.test(options.token))) {
        // The value is a secret: the message never shows it.
        const got = typeof options.token === 'string' ? (options.token ? 'a string with other characters' : 'an empty string') : options.token === null ? 'null' : typeof options.token
        throw new SyncConfigurationError(`Option 'token' must be a non-empty string of visible ASCII characters (no spaces or line breaks), got ${got}`, { option: 'token' })
    }
    if (options.fetch !== undefined && typeof options.fetch !== 'function') {
        throw new SyncConfigurationError(`Option 'fetch' must be a fetch function, got ${describe(options.fetch)}`, { option: 'fetch' })
    }
    const maxBodyBytes: unknown = options.maxBodyBytes
    if (maxBodyBytes !== undefined && !(typeof maxBodyBytes === 'number' && Number.isSafeInteger(maxBodyBytes) && maxBodyBytes > 0)) {
        throw new SyncConfigurationError(`Option 'maxBodyBytes' must be an integer > 0, got ${describe(maxBodyBytes)}`, { option: 'maxBodyBytes' })
    }
    const retry: unknown = options.retry
    if (retry === undefined) {
        return
    }
    if (typeof retry !== 'object' || retry === null || Array.isArray(retry)) {
        throw new SyncConfigurationError(`Option 'retry' must be an object, got ${describe(retry)}`, { option: 'retry' })
    }
    const { retries, baseDelayMs, maxDelayMs, random, sleep } = retry as Record<string, unknown>
    if (retries !== undefined && !(typeof retries === 'number' && Number.isInteger(retries) && retries >= 0)) {
        throw new SyncConfigurationError(`Option 'retry.retries' must be an integer >= 0, got ${describe(retries)}`, { option: 'retry.retries' })
    }
    for (const [name, value] of [['baseDelayMs', baseDelayMs], ['maxDelayMs', maxDelayMs]] as const) {
        if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value >= 0)) {
            throw new SyncConfigurationError(`Option 'retry.${name}' must be a finite number >= 0, got ${describe(value)}`, { option: `retry.${name}` })
        }
    }
    for (const [name, value] of [['random', random], ['sleep', sleep]] as const) {
        if (value !== undefined && typeof value !== 'function') {
            throw new SyncConfigurationError(`Option 'retry.${name}' must be a function, got ${describe(value)}`, { option: `retry.${name}` })
        }
    }
}

function validateUrl(url: unknown): void {
    const expected = `an absolute http:// or https:// URL such as 'http://127.0.0.1:8787'`
    if (typeof url !== 'string') {
        throw new SyncConfigurationError(`Option 'url' must be ${expected}, got ${describe(url)}`, { option: 'url' })
    }
    let parsed: URL
    try {
        parsed = new URL(url)
    } catch {
        throw new SyncConfigurationError(`Option 'url' must be ${expected}, got '${url}'`, { option: 'url' })
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
        throw new SyncConfigurationError(`Option 'url' must be ${expected}, got '${url}' (scheme '${parsed.protocol}')`, { option: 'url' })
    }
    if (parsed.username || parsed.password) {
        throw new SyncConfigurationError(`Option 'url' must not contain credentials ('${parsed.protocol}//user:password@...'); use the 'token' option`, { option: 'url' })
    }
    if (/[?#]/.test(url)) {
        throw new SyncConfigurationError(`Option 'url' must be the service's base URL without query or fragment, got '${url}'`, { option: 'url' })
    }
}

function describe(value: unknown): string {
    if (typeof value === 'string') {
        return JSON.stringify(value)
    }
    if (typeof value === 'number') {
        return String(value)
    }
    return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value
}

async function readJson(response: Response): Promise<unknown> {
    const text = await response.text()
    if (!text) {
        return undefined
    }
    try {
        return JSON.parse(text)
    } catch (error) {
        // A proxy's error page or a cut-off body; `isTransient` decides whether to retry.
        throw new HttpSyncServiceError('BAD_RESPONSE', `Response with status ${response.status} is not JSON`, response.status, text, { cause: error })
    }
}

function errorFromResponse(method: string, path: string, status: number, body: unknown, retryAfter?: number): HttpSyncServiceError {
    const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error
    const code = typeof error?.code === 'string' ? error.code : `HTTP_${status}`
    const message = typeof error?.message === 'string' ? error.message : `status ${status}`
    return new HttpSyncServiceError(code, `${method} ${path} failed (${status}): ${message}`, status, body, { retryAfterMs: retryAfter })
}

/** `Retry-After` in ms, when given in seconds (the service's form; an HTTP date is ignored). */
function retryAfterMs(response: Response): number | undefined {
    const value = response.headers?.get?.('retry-after')
    return value && /^[0-9]{1,6}$/.test(value.trim()) ? Number(value.trim()) * 1000 : undefined
}

/**
 * Refuses a body the service would refuse with 413, before sending it: final, like the
 * service's answer. (Counting UTF-8 bytes only when the text could be over the bound.)
 */
function assertBodySize(method: string, path: string, text: string, maxBytes: number): void {
    if (text.length * 3 <= maxBytes) {
        return
    }
    const bytes = new TextEncoder().encode(text).length
    if (bytes > maxBytes) {
        throw new HttpSyncServiceError(
            'BODY_TOO_LARGE',
            `${method} ${path}: the body is ${bytes} bytes, more than the service accepts (${maxBytes}); not sent`,
            413,
        )
    }
}

/** Worth another attempt: no answer, an overloaded or failing server, or a cut-off 2xx body. */
function isTransient(error: HttpSyncServiceError): boolean {
    return error.status === 0 || error.status === 429 || error.status >= 500 || (error.code === 'BAD_RESPONSE' && error.status < 300)
}
