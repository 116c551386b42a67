import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'fs'
import { tmpdir } from 'os'
import path from 'path'
import { SyncConfigurationError } from '../errors'
import { createSyncService } from './service'
import type { SyncService } from './service'
import { listStaticFiles } from './static'
import { SqliteDocStore } from './store/sqlite'
import { requestWithHost } from './test-raw-request'

describe('static files (staticDir)', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'synclog-static-'))
    const site = path.join(root, 'site')
    const secret = path.join(root, 'secret.txt')
    let service: SyncService
    let url: string
    let host: string

    beforeAll(async () => {
        mkdirSync(path.join(site, 'assets'), { recursive: true })
        writeFileSync(path.join(site, 'index.html'), '<!doctype html><title>demo</title>')
        writeFileSync(path.join(site, 'app.js'), 'console.log(1)')
        writeFileSync(path.join(site, 'assets', 'style.css'), 'body{}')
        writeFileSync(path.join(site, 'notes.db'), 'not a served type')
        writeFileSync(path.join(site, '.env'), 'SECRET=1')
        writeFileSync(secret, 'outside the folder')
        symlinkSync(secret, path.join(site, 'link.txt'))
        service = await createSyncService({ store: new SqliteDocStore({ filename: ':memory:' }), port: 0, staticDir: site })
        url = (await service.listen()).url
        host = new URL(url).host
    })
    afterAll(async () => {
        await service?.close()
        rmSync(root, { recursive: true, force: true })
    })

    const get = (requestPath: string, options: { method?: string; host?: string } = {}) => requestWithHost(url, { path: requestPath, host: options.host ?? host, method: options.method })

    it('serves index.html at / and each file with its content type', async () => {
        const index = await get('/')
        expect(index.statusCode).toBe(200)
        expect(index.headers['content-type']).toBe('text/html; charset=utf-8')
        expect(index.body).toBe('<!doctype html><title>demo</title>')
        expect(index.headers['x-content-type-options']).toBe('nosniff')
        expect(index.headers['content-security-policy']).toContain("connect-src 'self'")
        expect((await get('/index.html')).statusCode).toBe(200)
        const script = await get('/app.js')
        expect([script.statusCode, script.headers['content-type'], script.body]).toEqual([200, 'text/javascript; charset=utf-8', 'console.log(1)'])
        const style = await get('/assets/style.css')
        expect([style.statusCode, style.headers['content-type']]).toEqual([200, 'text/css; charset=utf-8'])
    })

    it('answers HEAD without a body', async () => {
        const head = await get('/app.js', { method: 'HEAD' })
        expect(head.statusCode).toBe(200)
        expect(head.headers['content-type']).toBe('text/javascript; charset=utf-8')
        expect(head.body).toBeUndefined()
    })

    it('refuses other methods on the files', async () => {
        for (const method of ['POST', 'PUT', 'DELETE']) {
            const response = await get('/app.js', { method })
            expect({ method, status: response.statusCode, code: response.body?.error?.code }).toEqual({ method, status: 404, code: 'NOT_FOUND' })
        }
    })

    it('serves nothing outside the listed files: no traversal, dotfiles, symlinks or unknown types', async () => {
        for (const requestPath of [
            '/../secret.txt',
            '/%2e%2e/secret.txt',
            '/assets/..%2f..%2fsecret.txt',
            '/assets/%2e%2e%2fapp.js',
            '/..%5csecret.txt',
            '/link.txt',
            '/.env',
            '/notes.db',
            '/assets/',
            '/app.js/',
            '//etc/passwd',
        ]) {
            const response = await get(requestPath)
            expect({ requestPath, status: response.statusCode, body: typeof response.body === 'string' ? response.body : response.body?.error?.code }).toEqual({ requestPath, status: 404, body: 'NOT_FOUND' })
        }
        expect(listStaticFiles(site).map(file => file.urlPath)).toEqual(['/app.js', '/assets/style.css', '/index.html', '/'])
    })

    it('keeps the Host check on the files (DNS rebinding)', async () => {
        const response = await get('/', { host: `evil.example:${new URL(url).port}` })
        expect(response.statusCode).toBe(403)
        expect(response.body.error.code).toBe('FORBIDDEN_HOST')
        expect((await get('/', { host: `localhost:${new URL(url).port}` })).statusCode).toBe(200)
    })

    it('leaves the API routes as they are', async () => {
        const health = await get('/health')
        expect([health.statusCode, health.body]).toEqual([200, { status: 'ok' }])
        expect((await get('/nothing-here')).body.error.code).toBe('NOT_FOUND')
    })

    it('refuses a missing folder, a file that would shadow a route, and multi-user mode, before opening the store', async () => {
        const store = new SqliteDocStore({ filename: ':memory:' })
        const init = jest.spyOn(store, 'init')
        await expect(createSyncService({ store, port: 0, staticDir: path.join(root, 'missing') })).rejects.toThrow(SyncConfigurationError)
        await expect(createSyncService({ store, port: 0, auth: true, staticDir: site })).rejects.toMatchObject({ option: 'staticDir' })
        expect(init).not.toHaveBeenCalled()

        const shadowing = path.join(root, 'shadowing')
        mkdirSync(shadowing)
        writeFileSync(path.join(shadowing, 'health'), '')
        // No content type for a file without extension: skipped, so nothing shadows /health.
        expect(listStaticFiles(shadowing)).toEqual([])
        mkdirSync(path.join(shadowing, 'health.json'))
        mkdirSync(path.join(shadowing, 'SyncId'))
        writeFileSync(path.join(shadowing, 'SyncId', 'index.html'), '')
        await expect(createSyncService({ store: new SqliteDocStore({ filename: ':memory:' }), port: 0, staticDir: shadowing })).rejects.toThrow(/shadow the service's route/)
    })
})
