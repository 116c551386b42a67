import { createToken } from './auth'
import { allowedHostNames, isAllowedHost } from './host-check'
import { createSyncService } from './service'
import type { SyncService } from './service'
import { SqliteDocStore } from './store/sqlite'
import { requestWithHost } from './test-raw-request'

describe('Host rule of single-user mode (DNS rebinding)', () => {
    it('accepts localhost, 127.0.0.1 and [::1] for every loopback or wildcard listen address, and a literal listen host', () => {
        for (const host of ['127.0.0.1', '::1', 'localhost', '0.0.0.0', '::']) {
            expect(allowedHostNames(host)).toEqual(['localhost', '127.0.0.1', '[::1]'])
        }
        expect(allowedHostNames('192.168.1.5')).toEqual(['localhost', '127.0.0.1', '[::1]', '192.168.1.5'])
        expect(allowedHostNames('fe80::1')).toEqual(['localhost', '127.0.0.1', '[::1]', '[fe80::1]'])
    })

    it('matches name and port exactly; the port may be left out only when it is 80', () => {
        const names = allowedHostNames('127.0.0.1')
        for (const header of ['127.0.0.1:8787', 'localhost:8787', 'LocalHost:8787', '[::1]:8787']) {
            expect(isAllowedHost(header, names, 8787)).toBe(true)
        }
        for (const header of [
            undefined,
            '',
            'evil.test:8787',
            '127.0.0.1:8788',
            '127.0.0.1',
            'localhost.:8787',
            '127.0.0.1.nip.io:8787',
            'localhost.evil.test:8787',
            '127.0.0.2:8787',
            '[::1]:8787:1',
            '::1:8787',
            '127.0.0.1:8787 ',
            '127.0.0.1:99999',
        ]) {
            expect(isAllowedHost(header, names, 8787)).toBe(false)
        }
        expect(isAllowedHost('localhost', names, 80)).toBe(true)
        expect(isAllowedHost('[::1]', names, 80)).toBe(true)
        expect(isAllowedHost('localhost:80', names, 80)).toBe(true)
    })
})

describe('Host check on a listening service', () => {
    let service: SyncService
    let store: SqliteDocStore
    let url: string
    let port: number

    const start = async (options: { auth?: boolean } = {}) => {
        store = new SqliteDocStore({ filename: ':memory:' })
        service = await createSyncService({ store, port: 0, ...options })
        url = (await service.listen()).url
        port = Number(new URL(url).port)
    }

    afterEach(() => service.close())

    it('single-user: answers requests to its loopback names and port, refuses any other Host with 403 FORBIDDEN_HOST', async () => {
        await start()
        for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
            const response = await requestWithHost(url, { path: '/SyncId', host })
            expect(response.statusCode).toBe(200)
        }
        for (const host of [`evil.test:${port}`, `127.0.0.1:${port + 1}`, 'localhost', `rebind.127.0.0.1.nip.io:${port}`]) {
            for (const path of ['/health', '/SyncId', '/Devices/a', '/no-such-route']) {
                const response = await requestWithHost(url, { path, host })
                expect(response.statusCode).toBe(403)
                expect(response.body.error.code).toBe('FORBIDDEN_HOST')
                expect(response.body.error.message).toContain(`localhost:${port}`)
            }
        }
    })

    it('single-user: a refused write stores nothing', async () => {
        await start()
        const doc = { id: 'n1', clientVersion: 1, data: { title: 'x' } }
        const refused = await requestWithHost(url, { path: '/Docs', method: 'POST', host: `evil.test:${port}`, payload: { clientId: 'a', docs: [doc] } })
        expect(refused.statusCode).toBe(403)
        expect(await store.listDocs({ userId: 'default', afterSeq: 0, limit: 10 })).toEqual([])
        const accepted = await requestWithHost(url, { path: '/Docs', method: 'POST', host: `localhost:${port}`, payload: { clientId: 'a', docs: [doc] } })
        expect(accepted.statusCode).toBe(200)
        expect(await store.listDocs({ userId: 'default', afterSeq: 0, limit: 10 })).toHaveLength(1)
    })

    it('single-user: a request without Host is not answered with data', async () => {
        await start()
        const response = await requestWithHost(url, { path: '/SyncId', host: null })
        expect(response.statusCode).toBeGreaterThanOrEqual(400)
        expect(response.statusCode).toBeLessThan(500)
    })

    it('multi-user (auth): any Host is accepted, the token decides', async () => {
        await start({ auth: true })
        const token = await createToken({ store, userId: 'alice' })
        const host = `sync.example.com:${port}`
        const withToken = await requestWithHost(url, { path: '/SyncId', host, headers: { authorization: `Bearer ${token}` } })
        expect(withToken.statusCode).toBe(200)
        const withoutToken = await requestWithHost(url, { path: '/SyncId', host })
        expect(withoutToken.statusCode).toBe(401)
        expect(withoutToken.body.error.code).toBe('UNAUTHORIZED')
    })
})
