import { SyncConfigurationError } from '../errors'
import { createToken } from './auth'
import { CORS_MAX_AGE_SECONDS, validateCorsOrigins } from './cors'
import { createSyncService } from './service'
import type { SyncService, SyncServiceOptions } from './service'
import { SqliteDocStore } from './store/sqlite'
import { requestWithHost } from './test-raw-request'

const APP = 'http://localhost:5173'
/** Every route of the protocol, as a preflight would name it. */
const ROUTES: Array<[string, string]> = [
    ['GET', '/health'],
    ['GET', '/SyncId'],
    ['POST', '/Docs'],
    ['POST', '/Docs/Query?origin=other&since=0'],
    ['POST', '/Reconcile'],
    ['POST', '/Devices'],
    ['GET', '/Devices/a'],
    ['POST', '/Devices/a/Ack'],
]
/** What HttpSharedSyncLog sends that is not CORS-safelisted. */
const CLIENT_HEADERS = 'authorization, content-type, x-sync-id'

const preflight = (url: string, path: string, method: string, origin = APP) =>
    fetch(url + path, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': CLIENT_HEADERS },
    })

const corsHeaders = (response: Response) => {
    const names: string[] = []
    response.headers.forEach((_value, name) => names.push(name))
    return names.filter((name) => name.startsWith('access-control-'))
}

describe('CORS of the service (real port, real fetch)', () => {
    let service: SyncService
    let store: SqliteDocStore
    let url: string

    const start = async (options: Partial<SyncServiceOptions> = {}) => {
        store = new SqliteDocStore({ filename: ':memory:' })
        service = await createSyncService({ store, port: 0, ...options })
        url = (await service.listen()).url
    }

    afterEach(() => service.close())

    it('is off by default: no CORS headers, and OPTIONS answers 404 like any unknown route', async () => {
        await start()
        for (const [method, path] of ROUTES) {
            const response = await preflight(url, path, method)
            expect(response.status).toBe(404)
            expect((await response.json()).error.code).toBe('NOT_FOUND')
            expect(corsHeaders(response)).toEqual([])
        }
        const response = await fetch(`${url}/SyncId`, { headers: { origin: APP } })
        expect(response.status).toBe(200)
        expect(corsHeaders(response)).toEqual([])
    })

    it('answers the preflight of every route for a configured origin, allowing the headers the client sends', async () => {
        await start({ corsOrigins: [APP, 'https://notes.example.com'] })
        for (const [method, path] of [...ROUTES, ['POST', '/not-a-route']]) {
            const response = await preflight(url, path, method)
            expect(response.status).toBe(204)
            expect(response.headers.get('access-control-allow-origin')).toBe(APP)
            expect(response.headers.get('access-control-allow-methods')).toContain(method)
            const allowed = (response.headers.get('access-control-allow-headers') ?? '').split(/,\s*/)
            expect(allowed).toEqual(expect.arrayContaining(['authorization', 'content-type', 'x-sync-id', 'accept']))
            expect(response.headers.get('access-control-max-age')).toBe(String(CORS_MAX_AGE_SECONDS))
            expect(response.headers.get('access-control-allow-credentials')).toBeNull()
            expect(response.headers.get('vary')).toMatch(/origin/i)
        }
        const second = await preflight(url, '/Docs', 'POST', 'https://notes.example.com')
        expect(second.headers.get('access-control-allow-origin')).toBe('https://notes.example.com')
    })

    it('sets the headers on answers and on error answers, only for a configured origin', async () => {
        await start({ corsOrigins: [APP] })
        const ok = await fetch(`${url}/SyncId`, { headers: { origin: APP } })
        expect(ok.status).toBe(200)
        expect(ok.headers.get('access-control-allow-origin')).toBe(APP)

        const invalid = await fetch(`${url}/Docs`, { method: 'POST', headers: { origin: APP, 'content-type': 'application/json' }, body: '{"clientId":' })
        expect(invalid.status).toBe(400)
        expect(invalid.headers.get('access-control-allow-origin')).toBe(APP)
        const missing = await fetch(`${url}/nope`, { headers: { origin: APP } })
        expect(missing.status).toBe(404)
        expect(missing.headers.get('access-control-allow-origin')).toBe(APP)
        const port = new URL(url).port
        const foreignHost = await requestWithHost(url, { path: '/SyncId', host: `evil.test:${port}`, headers: { origin: APP } })
        expect(foreignHost.statusCode).toBe(403)
        expect(foreignHost.headers['access-control-allow-origin']).toBe(APP)

        const other = await fetch(`${url}/SyncId`, { headers: { origin: 'http://evil.test' } })
        expect(other.headers.get('access-control-allow-origin')).toBeNull()
        const otherPreflight = await preflight(url, '/Docs', 'POST', 'http://evil.test')
        expect(otherPreflight.headers.get('access-control-allow-origin')).toBeNull()
    })

    it("allows every origin with '*' in single-user mode", async () => {
        await start({ corsOrigins: ['*'] })
        const response = await preflight(url, '/Docs', 'POST', 'http://anything.test:1234')
        expect(response.status).toBe(204)
        expect(response.headers.get('access-control-allow-origin')).toBe('*')
        expect((await fetch(`${url}/SyncId`, { headers: { origin: 'null' } })).headers.get('access-control-allow-origin')).toBe('*')
    })

    it('with auth: preflights need no token, and a 401 carries the headers so the page can read it', async () => {
        await start({ auth: true, corsOrigins: [APP] })
        const response = await preflight(url, '/Docs', 'POST')
        expect(response.status).toBe(204)
        expect(response.headers.get('access-control-allow-origin')).toBe(APP)
        const unauthorized = await fetch(`${url}/SyncId`, { headers: { origin: APP } })
        expect(unauthorized.status).toBe(401)
        expect(unauthorized.headers.get('access-control-allow-origin')).toBe(APP)
        const token = await createToken({ store, userId: 'alice' })
        const authorized = await fetch(`${url}/SyncId`, { headers: { origin: APP, authorization: `Bearer ${token}` } })
        expect(authorized.status).toBe(200)
        expect(authorized.headers.get('access-control-allow-origin')).toBe(APP)
    })
})

describe('corsOrigins validation', () => {
    it('accepts origins as browsers send them, including non-http schemes of app shells', () => {
        const origins = [APP, 'https://notes.example.com', 'http://127.0.0.1:3000', 'http://[::1]:3000', 'capacitor://localhost', 'chrome-extension://abcdefghijklmnop', 'tauri://localhost']
        expect(validateCorsOrigins(origins, { auth: true })).toEqual(origins)
        expect(validateCorsOrigins(['*'], { auth: false })).toEqual(['*'])
        expect(validateCorsOrigins(undefined, { auth: false })).toEqual([])
    })

    it.each([
        ['localhost:3000', /no scheme/],
        ['http://localhost:3000/', /browsers send it as 'http:\/\/localhost:3000'/],
        ['http://LocalHost:3000', /browsers send it as 'http:\/\/localhost:3000'/],
        ['http://localhost:80', /browsers send it as 'http:\/\/localhost'/],
        ['https://notes.example.com/app', /browsers send it as/],
        ['http://localhost:3000?x', /browsers send it as/],
        ['http://', /does not parse/],
        ['capacitor://localhost/', /no path/],
        ['app://Local_Host', /host must be/],
        ['app://localhost:70000', /port must be/],
        ['1http://a', /scheme|no scheme/],
        ['', /no scheme/],
        ['null', /no scheme/],
    ])('refuses %j', (origin, reason) => {
        const attempt = () => validateCorsOrigins([origin], { auth: false })
        expect(attempt).toThrow(SyncConfigurationError)
        expect(attempt).toThrow(/corsOrigins/)
        expect(attempt).toThrow(reason)
        expect(() => attempt()).toThrow(expect.objectContaining({ option: 'corsOrigins' }))
    })

    it("refuses '*' with auth or next to other origins, and values that are not arrays of strings", () => {
        expect(() => validateCorsOrigins(['*'], { auth: true })).toThrow(/only in single-user mode/)
        expect(() => validateCorsOrigins(['*', APP], { auth: false })).toThrow(/cannot be combined/)
        expect(() => validateCorsOrigins(APP, { auth: false })).toThrow(/must be an array/)
        expect(() => validateCorsOrigins([42], { auth: false })).toThrow(/origin strings, got number/)
    })

    it('createSyncService refuses bad origins before it touches the store', async () => {
        const store = new SqliteDocStore({ filename: ':memory:' })
        let initialized = false
        const init = store.init.bind(store)
        store.init = async () => {
            initialized = true
            await init()
        }
        await expect(createSyncService({ store, port: 0, corsOrigins: ['localhost:5173'] })).rejects.toMatchObject({ code: 'SYNC_CONFIGURATION' })
        await expect(createSyncService({ store, port: 0, auth: true, corsOrigins: ['*'] })).rejects.toBeInstanceOf(SyncConfigurationError)
        expect(initialized).toBe(false)
        await store.close()
    })
})
