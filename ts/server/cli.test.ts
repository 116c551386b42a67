import { existsSync, mkdtempSync, rmSync } from 'fs'
import { tmpdir } from 'os'
import { join } from 'path'
import { main } from './cli'
import type { CliResult } from './cli'
import { requestWithHost } from './test-raw-request'

describe('synclog CLI (in-process)', () => {
    let dir: string
    let out: string[]
    let err: string[]
    let running: CliResult['service']

    beforeEach(() => {
        dir = mkdtempSync(join(tmpdir(), 'synclog-cli-'))
        out = []
        err = []
        running = undefined
    })

    afterEach(async () => {
        await running?.close()
        rmSync(dir, { recursive: true, force: true })
    })

    const cli = async (...argv: string[]) => {
        const result = await main(argv, { stdout: (line) => out.push(line), stderr: (line) => err.push(line), cwd: dir })
        running = result.service ?? running
        return result
    }

    it('serves single-user on loopback with the default database under ./data, printing the URL', async () => {
        const result = await cli('serve', '--port', '0')
        expect(result.exitCode).toBe(0)
        expect(existsSync(join(dir, 'data', 'synclog.sqlite'))).toBe(true)
        expect(out[0]).toMatch(/single-user mode, listening on 127\.0\.0\.1 only/)
        const url = /listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(out[1])?.[1]
        expect(url).toBeDefined()
        expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: 'ok' })
        const { syncId } = await (await fetch(`${url}/SyncId`)).json()
        expect(typeof syncId).toBe('string')
    })

    it('serves a throwaway in-memory database with --db :memory: (no file named :memory:)', async () => {
        expect((await cli('serve', '--port', '0', '--db', ':memory:')).exitCode).toBe(0)
        const url = /listening on (\S+)$/.exec(out[1])?.[1]
        expect((await fetch(`${url}/health`)).status).toBe(200)
        expect(existsSync(join(dir, ':memory:'))).toBe(false)
        expect(existsSync(join(dir, 'data'))).toBe(false)
    })

    it('refuses a non-loopback host without --auth, and bad arguments, with exit code 2', async () => {
        expect((await cli('serve', '--host', '0.0.0.0', '--port', '0')).exitCode).toBe(2)
        expect(err[0]).toMatch(/loopback only/)
        expect((await cli('serve', '--port', 'x')).exitCode).toBe(2)
        expect((await cli('serve', '--bogus')).exitCode).toBe(2)
        expect((await cli('serve', '--db', 'a', '--postgres', 'postgres://x')).exitCode).toBe(2)
        expect((await cli('fly')).exitCode).toBe(2)
        expect((await cli()).exitCode).toBe(2)
        expect((await cli('token', 'create')).exitCode).toBe(2)
        expect(running).toBeUndefined()
        expect((await cli('--help')).exitCode).toBe(0)
        expect(out.join('\n')).toMatch(/synclog serve/)
    })

    it('resets only with --yes, printing a new SyncId that the service then serves', async () => {
        const db = join(dir, 'custom', 'x.sqlite')
        expect((await cli('reset', '--db', db)).exitCode).toBe(2)
        expect(err[0]).toMatch(/--yes/)
        expect((await cli('reset', '--yes', '--db', db)).exitCode).toBe(0)
        const first = /New SyncId: (\S+)/.exec(out[0])?.[1]
        expect((await cli('reset', '--yes', '--db', db)).exitCode).toBe(0)
        const second = /New SyncId: (\S+)/.exec(out[1])?.[1]
        expect(first).toBeDefined()
        expect(second).not.toBe(first)
        await cli('serve', '--port', '0', '--db', db)
        const url = /listening on (\S+)$/.exec(out[out.length - 1])?.[1]
        expect(await (await fetch(`${url}/SyncId`)).json()).toEqual({ syncId: second })
    })

    it('creates a token that the service accepts with --auth (and nothing else is accepted)', async () => {
        const db = join(dir, 'auth.sqlite')
        expect((await cli('token', 'create', '--user', 'alice', '--db', db)).exitCode).toBe(0)
        const token = out[1]
        expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
        await cli('serve', '--auth', '--port', '0', '--db', db)
        expect(out[2]).toMatch(/multi-user mode/)
        const url = /listening on (\S+)$/.exec(out[3])?.[1]
        const headers = { authorization: `Bearer ${token}` }
        expect((await fetch(`${url}/SyncId`, { headers })).status).toBe(200)
        expect((await fetch(`${url}/SyncId`)).status).toBe(401)
        expect((await fetch(`${url}/SyncId`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401)
    })

    const preflight = (url: string, origin: string) =>
        fetch(`${url}/Docs`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-sync-id' } })

    it('turns CORS on for each --cors-origin, and leaves it off without', async () => {
        await cli('serve', '--port', '0', '--db', ':memory:', '--cors-origin', 'http://localhost:5173', '--cors-origin', 'https://notes.example.com')
        const url = /listening on (\S+)$/.exec(out[1])?.[1] as string
        expect(out[2]).toBe('synclog: CORS on for http://localhost:5173, https://notes.example.com')
        for (const origin of ['http://localhost:5173', 'https://notes.example.com']) {
            const response = await preflight(url, origin)
            expect(response.status).toBe(204)
            expect(response.headers.get('access-control-allow-origin')).toBe(origin)
        }
        expect((await preflight(url, 'http://evil.test')).headers.get('access-control-allow-origin')).toBeNull()
        await running?.close()

        await cli('serve', '--port', '0', '--db', ':memory:')
        const plain = /listening on (\S+)$/.exec(out[out.length - 1])?.[1] as string
        expect((await preflight(plain, 'http://localhost:5173')).status).toBe(404)
    })

    it("allows --cors-origin '*' in single-user mode only, and refuses what is not an origin, with exit code 2", async () => {
        expect((await cli('serve', '--port', '0', '--db', ':memory:', '--cors-origin', '*')).exitCode).toBe(0)
        const url = /listening on (\S+)$/.exec(out[1])?.[1] as string
        expect((await preflight(url, 'http://anything.test')).headers.get('access-control-allow-origin')).toBe('*')
        await running?.close()
        running = undefined

        expect((await cli('serve', '--auth', '--port', '0', '--db', ':memory:', '--cors-origin', '*')).exitCode).toBe(2)
        expect(err[0]).toMatch(/^synclog: --cors-origin: '\*' is allowed only in single-user mode/)
        expect((await cli('serve', '--port', '0', '--cors-origin', 'localhost:5173')).exitCode).toBe(2)
        expect(err.join('\n')).toMatch(/'localhost:5173' is not an origin/)
        expect((await cli('serve', '--port', '0', '--cors-origin', 'http://localhost:5173/')).exitCode).toBe(2)
        expect(err.join('\n')).toMatch(/browsers send it as 'http:\/\/localhost:5173'/)
        expect((await cli('serve', '--port', '0', '--cors-origin')).exitCode).toBe(2)
        expect(running).toBeUndefined()
    })

    it('refuses a foreign Host in single-user mode and accepts it with --auth', async () => {
        await cli('serve', '--port', '0', '--db', ':memory:')
        const single = /listening on (\S+)$/.exec(out[1])?.[1] as string
        const port = new URL(single).port
        const refused = await requestWithHost(single, { path: '/SyncId', host: `rebound.example.com:${port}` })
        expect(refused.statusCode).toBe(403)
        expect(refused.body.error.code).toBe('FORBIDDEN_HOST')
        expect((await requestWithHost(single, { path: '/SyncId', host: `localhost:${port}` })).statusCode).toBe(200)
        await running?.close()

        const db = join(dir, 'auth.sqlite')
        await cli('token', 'create', '--user', 'alice', '--db', db)
        const token = out[out.length - 1]
        await cli('serve', '--auth', '--port', '0', '--db', db)
        const multi = /listening on (\S+)$/.exec(out[out.length - 1])?.[1] as string
        const accepted = await requestWithHost(multi, {
            path: '/SyncId',
            host: `sync.example.com:${new URL(multi).port}`,
            headers: { authorization: `Bearer ${token}` },
        })
        expect(accepted.statusCode).toBe(200)
    })
})
