import { spawn } from 'child_process'
import { join } from 'path'
import { main } from './cli'
import { findMissing, missingDependencyMessage, missingServerModule, neededModules, peerRanges } from './dependencies'

/** A resolver for which `missing` are not installed and everything else is. */
const without = (...missing: string[]) => (name: string) => {
    if (missing.includes(name)) {
        throw Object.assign(new Error(`Cannot find module '${name}'`), { code: 'MODULE_NOT_FOUND' })
    }
    return `/node_modules/${name}/index.js`
}

describe('server dependencies of the CLI', () => {
    it('needs the service and the chosen store driver only', () => {
        expect(neededModules('serve', { postgres: false })).toEqual(['fastify', '@fastify/cors', 'better-sqlite3'])
        expect(neededModules('serve', { postgres: true })).toEqual(['fastify', '@fastify/cors', 'pg'])
        expect(neededModules('reset', { postgres: false })).toEqual(['better-sqlite3'])
        expect(neededModules('token create', { postgres: true })).toEqual(['pg'])
        expect(neededModules('help', { postgres: false })).toEqual([])
    })

    it('finds what does not resolve (and everything resolves in this repository)', () => {
        expect(findMissing(['fastify', 'pg', 'ws'], without('pg'))).toEqual(['pg'])
        expect(findMissing(['fastify', '@fastify/cors', 'better-sqlite3', 'pg', 'ws'])).toEqual([])
    })

    it('names the missing packages and the npm line with the peer ranges of package.json', () => {
        const ranges = peerRanges()
        expect(ranges.fastify).toMatch(/^\^5\./)
        const message = missingDependencyMessage(['fastify', '@fastify/cors'])
        expect(message).toContain('missing packages: fastify, @fastify/cors.')
        expect(message).toContain(`npm install "fastify@${ranges.fastify}" "@fastify/cors@${ranges['@fastify/cors']}"`)
        expect(missingDependencyMessage(['pg'], {})).toContain('missing package: pg.\n')
        expect(missingDependencyMessage(['pg'], {})).toMatch(/npm install pg$/)
    })

    it('recognises a failed require of a server package, not of anything else', () => {
        const error = (message: string) => Object.assign(new Error(message), { code: 'MODULE_NOT_FOUND' })
        expect(missingServerModule(error("Cannot find module 'fastify'\nRequire stack:\n- /app/lib/server/service.js"))).toBe('fastify')
        expect(missingServerModule(error("Cannot find module '@fastify/cors/package.json'"))).toBe('@fastify/cors')
        expect(missingServerModule(error("Cannot find module 'ws/lib/websocket'"))).toBe('ws')
        expect(missingServerModule(error("Cannot find module './store/sqlite'"))).toBeNull()
        expect(missingServerModule(error("Cannot find module 'left-pad'"))).toBeNull()
        expect(missingServerModule(new Error("Cannot find module 'pg'"))).toBeNull()
        expect(missingServerModule(undefined)).toBeNull()
    })

    describe('synclog with a package missing', () => {
        const run = async (argv: string[], resolveModule: (name: string) => string) => {
            const out: string[] = []
            const err: string[] = []
            const result = await main(argv, { stdout: (line) => out.push(line), stderr: (line) => err.push(line), resolveModule })
            await result.service?.close()
            return { ...result, out, err: err.join('\n') }
        }

        it('serve exits with 1 and the install line, before opening anything', async () => {
            const result = await run(['serve', '--port', '0', '--db', ':memory:'], without('fastify', '@fastify/cors'))
            expect(result.exitCode).toBe(1)
            expect(result.service).toBeUndefined()
            expect(result.out).toEqual([])
            expect(result.err).toMatch(/^synclog: missing packages: fastify, @fastify\/cors\./)
            expect(result.err).toMatch(/npm install "fastify@\^5[^"]*" "@fastify\/cors@\^11[^"]*"/)
        })

        it('asks for pg only with --postgres, and for better-sqlite3 only without it', async () => {
            const noPg = await run(['token', 'create', '--user', 'a', '--postgres', 'postgres://127.0.0.1:1/none'], without('pg'))
            expect(noPg.exitCode).toBe(1)
            expect(noPg.err).toContain('missing package: pg.')
            expect(noPg.err).not.toContain('better-sqlite3')
            const noSqlite = await run(['reset', '--yes', '--db', ':memory:'], without('better-sqlite3', 'fastify'))
            expect(noSqlite.exitCode).toBe(1)
            expect(noSqlite.err).toContain('missing package: better-sqlite3.')
            expect(noSqlite.err).not.toContain('fastify')
            // reset and token create need no service packages.
            expect((await run(['reset', '--yes', '--db', ':memory:'], without('fastify', '@fastify/cors', 'pg'))).exitCode).toBe(0)
        })

        it('help needs nothing', async () => {
            expect((await run(['--help'], without('fastify', '@fastify/cors', 'better-sqlite3', 'pg'))).exitCode).toBe(0)
        })
    })

    describe('the synclog process, with packages really unresolvable', () => {
        const root = join(__dirname, '..', '..')
        /** Runs bin.ts until it exits or prints its URL (then stops it); resolves with its exit code and output. */
        const synclog = (hide: string[], argv: string[]) =>
            new Promise<{ exitCode: number | null; output: string; listening: boolean }>((resolve, reject) => {
                const child = spawn(
                    process.execPath,
                    ['-r', 'ts-node/register/transpile-only', '-r', './ts/server/test-hide-modules.ts', 'ts/server/bin.ts', ...argv],
                    { cwd: root, env: { ...process.env, HIDE_MODULES: hide.join(',') }, stdio: ['ignore', 'pipe', 'pipe'] },
                )
                let output = ''
                let listening = false
                const collect = (chunk: Buffer) => {
                    output += chunk.toString('utf8')
                    if (!listening && /listening on http:\/\/\S+\n/.test(output)) {
                        listening = true
                        child.kill('SIGTERM')
                    }
                }
                child.stdout.on('data', collect)
                child.stderr.on('data', collect)
                child.on('error', reject)
                child.on('close', (exitCode) => resolve({ exitCode, output, listening }))
            })

        it('serves on SQLite without pg installed', async () => {
            const result = await synclog(['pg'], ['serve', '--port', '0', '--db', ':memory:'])
            expect(result.output).not.toContain('missing')
            expect(result.listening).toBe(true)
        })

        it('exits with 1 and the install line without fastify', async () => {
            const result = await synclog(['fastify', 'ws'], ['serve', '--port', '0', '--db', ':memory:'])
            expect(result.exitCode).toBe(1)
            expect(result.listening).toBe(false)
            expect(result.output).toMatch(/^synclog: missing package: fastify\./)
            expect(result.output).toMatch(/npm install "fastify@\^5[^"]*"\n$/)
        })
    })
})
