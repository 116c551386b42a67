import { SyncConfigurationError } from '../errors'
import { HttpSharedSyncLog } from './http'
import { HttpSyncServiceError, HttpTransport } from './http-transport'
import type { TransportOptions } from './http-transport'

const SERVICE = 'http://127.0.0.1:8787'

/** A fetch that never reaches anything, counting its calls: what a browser's fetch does when CORS blocks a request. */
function blockedFetch() {
    const calls: string[] = []
    const fetch = (async (input: string | URL | Request) => {
        calls.push(String(input))
        throw new TypeError('Failed to fetch')
    }) as typeof globalThis.fetch
    return { fetch, calls }
}

function configurationError(create: () => unknown): SyncConfigurationError {
    try {
        create()
    } catch (error) {
        expect(error).toBeInstanceOf(SyncConfigurationError)
        expect((error as SyncConfigurationError).code).toBe('SYNC_CONFIGURATION')
        return error as SyncConfigurationError
    }
    throw new Error('expected a SyncConfigurationError')
}

describe('HttpTransport options', () => {
    it.each(['http://127.0.0.1:8787', 'http://127.0.0.1:8787/', 'https://sync.example.com/base/path', 'http://[::1]:8787', 'HTTP://LOCALHOST:8787'])(
        'accepts the url %j',
        (url) => {
            expect(() => new HttpTransport({ url })).not.toThrow()
        },
    )

    it.each([
        ['127.0.0.1:8787', /'url' must be an absolute http:\/\/ or https:\/\/ URL/],
        ['localhost:8787', /scheme 'localhost:'/],
        ['sync.example.com', /'url' must be an absolute/],
        ['', /'url' must be an absolute/],
        ['/relative/path', /'url' must be an absolute/],
        ['ftp://127.0.0.1', /scheme 'ftp:'/],
        ['ws://127.0.0.1:8787', /scheme 'ws:'/],
        ['http://127.0.0.1:8787/?token=x', /without query or fragment/],
        ['http://127.0.0.1:8787/?', /without query or fragment/],
        ['http://127.0.0.1:8787/#sync', /without query or fragment/],
        ['http://user:secret@127.0.0.1:8787', /must not contain credentials.*'token'/],
    ])('refuses the url %j, naming the option', (url, reason) => {
        const error = configurationError(() => new HttpTransport({ url }))
        expect(error.message).toMatch(reason)
        expect(error.option).toBe('url')
    })

    it('refuses a url that is not a string', () => {
        expect(configurationError(() => new HttpTransport({ url: 8787 } as unknown as TransportOptions)).message).toMatch(/'url'.*got 8787/)
        expect(configurationError(() => new HttpTransport({} as TransportOptions)).message).toMatch(/'url'.*got undefined/)
    })

    it('HttpSharedSyncLog refuses a url without scheme in its constructor, so it is never fetched nor retried', async () => {
        const { fetch, calls } = blockedFetch()
        const error = configurationError(() => new HttpSharedSyncLog({ url: '127.0.0.1:8787', fetch }))
        expect(error.message).toContain("'url'")
        expect(calls).toEqual([])
    })

    it.each([
        [{ token: '' }, /'token'.*an empty string/],
        [{ token: 'with space' }, /'token'/],
        [{ token: 'line\nbreak' }, /'token'/],
        [{ token: 42 }, /'token'.*got number/],
        [{ fetch: 'fetch' }, /'fetch' must be a fetch function/],
        [{ retry: null }, /'retry' must be an object/],
        [{ retry: 3 }, /'retry' must be an object/],
        [{ retry: { retries: -1 } }, /'retry\.retries' must be an integer >= 0, got -1/],
        [{ retry: { retries: 1.5 } }, /'retry\.retries'/],
        [{ retry: { retries: NaN } }, /'retry\.retries'.*NaN/],
        [{ retry: { retries: Infinity } }, /'retry\.retries'/],
        [{ retry: { retries: '3' } }, /'retry\.retries'.*"3"/],
        [{ retry: { baseDelayMs: -5 } }, /'retry\.baseDelayMs' must be a finite number >= 0/],
        [{ retry: { baseDelayMs: Infinity } }, /'retry\.baseDelayMs'/],
        [{ retry: { maxDelayMs: NaN } }, /'retry\.maxDelayMs'/],
        [{ retry: { random: 0.5 } }, /'retry\.random' must be a function/],
        [{ retry: { sleep: 'soon' } }, /'retry\.sleep' must be a function/],
    ])('refuses %p, naming the option', (options, reason) => {
        const error = configurationError(() => new HttpTransport({ url: SERVICE, ...(options as object) } as TransportOptions))
        expect(error.message).toMatch(reason)
        expect(error.message).toContain(`'${error.option}'`)
        expect(Object.keys(options)[0]).toBe(error.option?.split('.')[0])
    })

    it('never shows the token in its error', () => {
        const error = configurationError(() => new HttpTransport({ url: SERVICE, token: 'secret value' }))
        expect(error.message).not.toContain('secret')
    })

    it('accepts zero retries and zero delays', () => {
        expect(() => new HttpTransport({ url: SERVICE, token: 'abc_-123', retry: { retries: 0, baseDelayMs: 0, maxDelayMs: 0 } })).not.toThrow()
    })
})

describe('HttpTransport: a request that got no answer, in a browser on another origin', () => {
    const hadLocation = Object.prototype.hasOwnProperty.call(globalThis, 'location')
    const originalLocation = Object.getOwnPropertyDescriptor(globalThis, 'location')

    const setPageOrigin = (origin: string) => {
        Object.defineProperty(globalThis, 'location', { value: { origin, href: `${origin}/index.html` }, configurable: true, writable: true })
    }

    afterEach(() => {
        if (hadLocation && originalLocation) {
            Object.defineProperty(globalThis, 'location', originalLocation)
        } else {
            delete (globalThis as { location?: unknown }).location
        }
    })

    const failedRequest = async (url = SERVICE) => {
        const { fetch } = blockedFetch()
        const transport = new HttpTransport({ url, fetch, retry: { retries: 0 } })
        const error = await transport.request('POST', '/Docs', { body: {} }).then(
            () => null,
            (caught: unknown) => caught,
        )
        expect(error).toBeInstanceOf(HttpSyncServiceError)
        expect(error).toMatchObject({ code: 'SERVICE_UNREACHABLE', status: 0 })
        return (error as HttpSyncServiceError).message
    }

    it('says that CORS may have blocked it and how to allow the page', async () => {
        setPageOrigin('http://localhost:5173')
        const message = await failedRequest()
        expect(message).toContain('POST /Docs: Failed to fetch')
        expect(message).toContain('CORS')
        expect(message).toContain('http://127.0.0.1:8787')
        expect(message).toContain('--cors-origin http://localhost:5173')
    })

    it('gives the hint for a service on the same host but another port (another origin)', async () => {
        setPageOrigin('http://127.0.0.1:3000')
        expect(await failedRequest()).toContain('--cors-origin http://127.0.0.1:3000')
    })

    it('says how to serve a page with an opaque origin (file://)', async () => {
        setPageOrigin('null')
        const message = await failedRequest()
        expect(message).toContain('CORS')
        expect(message).toContain("--cors-origin '*'")
    })

    it('gives no hint when the page is on the service origin', async () => {
        setPageOrigin('http://127.0.0.1:8787')
        expect(await failedRequest('http://127.0.0.1:8787/')).not.toContain('CORS')
    })

    it('gives no hint outside a browser (no location)', async () => {
        delete (globalThis as { location?: unknown }).location
        expect(await failedRequest()).toBe('POST /Docs: Failed to fetch')
    })
})

describe('HttpTransport final and busy answers', () => {
    const answering = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        const calls: string[] = []
        const fetch = (async (input: string | URL | Request) => {
            calls.push(String(input))
            return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } })
        }) as typeof globalThis.fetch
        return { fetch, calls }
    }

    it('never retries a final 4xx, and reports it typed with its code', async () => {
        for (const [status, code] of [[413, 'BODY_TOO_LARGE'], [400, 'VALIDATION'], [401, 'UNAUTHORIZED'], [415, 'UNSUPPORTED_MEDIA_TYPE']] as const) {
            const service = answering(status, { error: { code, message: 'no' } })
            const transport = new HttpTransport({ url: SERVICE, fetch: service.fetch, retry: { retries: 5, sleep: async () => undefined } })
            const error = await transport.request('POST', '/Docs', { body: {} }).catch((caught: unknown) => caught)
            expect(error).toBeInstanceOf(HttpSyncServiceError)
            expect([(error as HttpSyncServiceError).status, (error as HttpSyncServiceError).code, (error as HttpSyncServiceError).transient]).toEqual([status, code, false])
            expect(service.calls).toHaveLength(1)
        }
    })

    it('waits at least the Retry-After of a 429, within maxDelayMs', async () => {
        const slept: number[] = []
        const service = answering(429, { error: { code: 'BUSY', message: 'busy' } }, { 'retry-after': '2' })
        const transport = new HttpTransport({
            url: SERVICE,
            fetch: service.fetch,
            retry: { retries: 2, baseDelayMs: 10, maxDelayMs: 1500, random: () => 0, sleep: async (ms) => void slept.push(ms) },
        })
        const error = (await transport.request('POST', '/Reconcile', { body: {} }).catch((caught: unknown) => caught)) as HttpSyncServiceError
        expect(error.code).toBe('BUSY')
        expect(error.retryAfterMs).toBe(2000)
        expect(slept).toEqual([1500, 1500])
        expect(service.calls).toHaveLength(3)
    })

    it('refuses a body over maxBodyBytes before sending it, and validates the option', async () => {
        const service = answering(200, {})
        const transport = new HttpTransport({ url: SERVICE, fetch: service.fetch, maxBodyBytes: 1000 })
        const error = (await transport.request('POST', '/Docs', { body: { text: 'é'.repeat(600) } }).catch((caught: unknown) => caught)) as HttpSyncServiceError
        expect([error.code, error.status, error.transient]).toEqual(['BODY_TOO_LARGE', 413, false])
        expect(service.calls).toHaveLength(0)
        // 1,200 bytes of two-byte characters fit when the request gives its own, larger bound.
        await expect(transport.request('POST', '/Reconcile', { body: { text: 'é'.repeat(600) }, maxBodyBytes: 2000 })).resolves.toMatchObject({ status: 200 })
        for (const value of [0, -1, 1.5, '10']) {
            expect(configurationError(() => new HttpTransport({ url: SERVICE, maxBodyBytes: value as number })).message).toMatch(/'maxBodyBytes'/)
        }
    })
})
