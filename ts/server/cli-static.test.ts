import { mkdtempSync, rmSync, writeFileSync } from 'fs'
import { tmpdir } from 'os'
import path from 'path'
import { main } from './cli'
import type { SyncService } from './service'

/** `synclog serve --static DIR`, the flag `npm start` uses to serve the demo. */
describe('synclog serve --static', () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'synclog-cli-static-'))
    const services: SyncService[] = []
    afterAll(async () => {
        await Promise.all(services.map(service => service.close()))
        rmSync(folder, { recursive: true, force: true })
    })
    const cli = async (...argv: string[]) => {
        const out: string[] = []
        const err: string[] = []
        const result = await main(argv, { stdout: line => out.push(line), stderr: line => err.push(line), cwd: folder })
        if (result.service) {
            services.push(result.service)
        }
        return { ...result, out, err }
    }

    it('serves the folder (resolved against the working folder) at / beside the API', async () => {
        writeFileSync(path.join(folder, 'index.html'), '<p>hi</p>')
        const result = await cli('serve', '--port', '0', '--db', ':memory:', '--static', '.')
        expect(result.exitCode).toBe(0)
        const url = /listening on (http\S+)/.exec(result.out.join('\n'))?.[1] as string
        expect(result.out).toContain(`synclog: serving ${folder} at ${url}/`)
        const page = await fetch(`${url}/`)
        expect([page.status, page.headers.get('content-type'), await page.text()]).toEqual([200, 'text/html; charset=utf-8', '<p>hi</p>'])
        expect((await fetch(`${url}/health`)).status).toBe(200)
    })

    it('refuses --static with --auth, and a folder that does not exist', async () => {
        const withAuth = await cli('serve', '--auth', '--port', '0', '--db', ':memory:', '--static', '.')
        expect(withAuth.exitCode).toBe(2)
        expect(withAuth.err.join('\n')).toMatch(/--static .* only without --auth/)
        const missing = await cli('serve', '--port', '0', '--db', ':memory:', '--static', 'nope')
        expect(missing.exitCode).toBe(1)
        expect(missing.err.join('\n')).toMatch(/staticDir' must name an existing folder/)
    })
})
