import { SyncError } from '../errors'

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
        options: { cause?: unknown } = {},
    ) {
        super(code, message, options)
    }
}

export interface TransportOptions {
    url: string
    token?: string
    fetch?: typeof fetch
    retry?: RetryOptions
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

    constructor(private readonly options: TransportOptions) {
        this.baseUrl = options.url.replace(/\/+$/, '')
        this.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
        this.retries = options.retry?.retries ?? 5
        this.baseDelayMs = options.retry?.baseDelayMs ?? 200
        this.maxDelayMs = options.retry?.maxDelayMs ?? 10_000
        this.random = options.retry?.random ?? Math.random
        this.sleep = options.retry?.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)))
    }

    /**
     * Sends one request, retrying transient failures. Resolves with any final answer whose
     * status is in `accept` (default: 2xx only); rejects with `HttpSyncServiceError` otherwise.
     */
    async request(method: string, path: string, options: { body?: unknown; headers?: Record<string, string>; accept?: number[] } = {}): Promise<JsonResponse> {
        const headers: Record<string, string> = { accept: 'application/json', ...options.headers }
        if (this.options.token !== undefined) {
            headers.authorization = `Bearer ${this.options.token}`
        }
        if (options.body !== undefined) {
            headers['content-type'] = 'application/json'
        }
        const init = { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) }
        for (let attempt = 0; ; attempt++) {
            let failure: HttpSyncServiceError
            try {
                const response = await this.fetch(this.baseUrl + path, init)
                const body = await readJson(response)
                if ((response.status >= 200 && response.status < 300) || options.accept?.includes(response.status)) {
                    return { status: response.status, body }
                }
                failure = errorFromResponse(method, path, response.status, body)
            } catch (error) {
                failure =
                    error instanceof HttpSyncServiceError
                        ? error
                        : new HttpSyncServiceError('SERVICE_UNREACHABLE', `${method} ${path}: ${(error as Error)?.message ?? String(error)}`, 0, undefined, { cause: error })
            }
            if (!isTransient(failure) || attempt >= this.retries) {
                throw failure
            }
            await this.sleep(this.delay(attempt))
        }
    }

    /** Exponential backoff with "equal jitter": half the delay fixed, half random. */
    private delay(attempt: number): number {
        const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** attempt)
        return ceiling / 2 + (this.random() * ceiling) / 2
    }
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

function errorFromResponse(method: string, path: string, status: number, body: unknown): HttpSyncServiceError {
    const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error
    const code = typeof error?.code === 'string' ? error.code : `HTTP_${status}`
    const message = typeof error?.message === 'string' ? error.message : `status ${status}`
    return new HttpSyncServiceError(code, `${method} ${path} failed (${status}): ${message}`, status, body)
}

/** Worth another attempt: no answer, an overloaded or failing server, or a cut-off 2xx body. */
function isTransient(error: HttpSyncServiceError): boolean {
    return error.status === 0 || error.status === 429 || error.status >= 500 || (error.code === 'BAD_RESPONSE' && error.status < 300)
}
