/**
 * The package as an app gets it: `npm pack`, a fresh app outside the repository (so this repo's
 * node_modules cannot leak in) installed with exactly the README's browser install line, the
 * README's Quick start compiled verbatim with `tsc --strict` and run against a real
 * `synclog serve` process, then a second device that must receive the Quick start's note.
 *
 * Needs the build output (`npm run build`, which .ci/run runs before the tests); builds it when
 * lib/ is missing. Uses the registry through npm's cache (`--prefer-offline`).
 */
import { spawn } from 'child_process'
import type { ChildProcess } from 'child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs'
import { tmpdir } from 'os'
import { join, resolve } from 'path'

const ROOT = resolve(__dirname, '../..')
const BIN = join(ROOT, 'lib/server/bin.js')
const README_URL = 'http://127.0.0.1:8787'
/** The title the README's Quick start creates its note with. */
const QUICK_START_TITLE = 'hello'

jest.setTimeout(170_000)

interface Ran {
    stdout: string
    stderr: string
}

/**
 * Child processes get npm's defaults, not the settings of the `npm test` that runs this file
 * (npm exports its config, e.g. this repository's legacy-peer-deps, as npm_config_* variables).
 */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {}
    for (const [key, value] of Object.entries(process.env)) {
        if (!/^npm_/i.test(key) && !/^(NODE_OPTIONS|TS_NODE_.*|INIT_CWD)$/.test(key)) {
            env[key] = value
        }
    }
    // Speed only: none of these change what npm resolves.
    return { ...env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false', ...extra }
}

function run(command: string, args: string[], cwd: string, env = cleanEnv()): Promise<Ran> {
    return new Promise((done, fail) => {
        const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
        let stdout = ''
        let stderr = ''
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')))
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
        child.once('error', fail)
        child.once('close', code => {
            if (code === 0) {
                done({ stdout, stderr })
            } else {
                fail(new Error(`${command} ${args.join(' ')} (in ${cwd}) exited with ${code}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`))
            }
        })
    })
}

/** The first fenced block of `lang` after each heading in turn (e.g. '## Install', then '### Browser app'). */
function fencedBlockAfter(markdown: string, headings: string[], lang: string): string {
    const lines = markdown.split('\n')
    let at = 0
    for (const heading of headings) {
        const found = lines.findIndex((line, i) => i >= at && line.startsWith(heading))
        if (found < 0) {
            throw new Error(`README.md: no heading starting with '${heading}' (looking for the ${lang} block after '${headings.join("' / '")}')`)
        }
        at = found + 1
    }
    const open = lines.findIndex((line, i) => i >= at && line === '```' + lang)
    const close = lines.findIndex((line, i) => i > open && line === '```')
    if (open < 0 || close < 0) {
        throw new Error(`README.md: no complete \`\`\`${lang} block after '${headings.join("' / '")}'`)
    }
    return lines.slice(open + 1, close).join('\n') + '\n'
}

/** The commands of a sh block: one a line, comments and blank lines dropped. */
function commandsOf(block: string): string[] {
    return block
        .split('\n')
        .map(line => line.replace(/\s+#.*$/, '').trim())
        .filter(line => line !== '' && !line.startsWith('#'))
}

/** Every installed copy of each package in the tree below `dir` (node_modules, scoped and nested). */
function installedCopies(dir: string, found = new Map<string, string[]>()): Map<string, string[]> {
    const modules = join(dir, 'node_modules')
    if (!existsSync(modules)) {
        return found
    }
    for (const entry of readdirSync(modules)) {
        if (entry.startsWith('.')) {
            continue
        }
        const packageDirs = entry.startsWith('@') ? readdirSync(join(modules, entry)).map(name => join(modules, entry, name)) : [join(modules, entry)]
        for (const packageDir of packageDirs) {
            const manifest = join(packageDir, 'package.json')
            if (existsSync(manifest)) {
                const { name, version } = JSON.parse(readFileSync(manifest, 'utf8')) as { name: string; version: string }
                found.set(name, [...(found.get(name) ?? []), `${version} at ${packageDir}`])
            }
            installedCopies(packageDir, found)
        }
    }
    return found
}

/** `synclog serve` from the build output, resolving with the URL it prints. */
function startService(cwd: string): Promise<{ url: string; child: ChildProcess; output: () => string }> {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--db', ':memory:'], { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    return new Promise((done, fail) => {
        const timer = setTimeout(() => fail(new Error(`synclog serve did not listen within 15 s\n${output}`)), 15_000)
        child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
        child.stdout?.on('data', (chunk: Buffer) => {
            output += chunk.toString('utf8')
            const match = /synclog listening on (http:\/\/\S+)/.exec(output)
            if (match) {
                clearTimeout(timer)
                done({ url: match[1], child, output: () => output })
            }
        })
        child.once('exit', code => {
            clearTimeout(timer)
            fail(new Error(`synclog serve exited (${code}) before listening\n${output}`))
        })
    })
}

/** What a page gives the Dexie backend: `window.indexedDB` (fake-indexeddb's, in Node). */
const BROWSER_GLOBALS = `require('fake-indexeddb/auto')\nglobalThis.window = globalThis\n`

/** A second device, written against the installed package: fresh database, same service. */
const SECOND_DEVICE = `const StorageManager = require('@worldbrain/storex').default
const { DexieStorageBackend } = require('@worldbrain/storex-backend-dexie')
const { setupSync, HttpSharedSyncLog } = require('storex-synclog')

async function main() {
    const storageManager = new StorageManager({ backend: new DexieStorageBackend({ dbName: 'second-device' }) })
    storageManager.registry.registerCollections({
        note: { version: new Date('2026-01-01'), fields: { title: { type: 'string' } } },
    })
    const sync = await setupSync({ storageManager, collections: ['note'], sharedLog: new HttpSharedSyncLog({ url: process.argv[2] }) })
    const result = await sync.syncNow()
    const notes = await storageManager.collection('note').findObjects({})
    process.stdout.write(JSON.stringify({ result, notes }))
}
main().catch(error => {
    console.error(error)
    process.exit(1)
})
`

describe('the packed package in a fresh app, installed and used as the README says', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
    const devRanges = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies
    let work: string
    let service: { url: string; child: ChildProcess; output: () => string } | null = null

    beforeAll(async () => {
        if (!existsSync(join(ROOT, 'lib/index.js')) || !existsSync(BIN)) {
            console.log('package.test: lib/ is missing, running `npm run build` first')
            await run('npm', ['run', 'build'], ROOT)
        }
        work = mkdtempSync(join(tmpdir(), 'synclog-package-'))
    })

    afterAll(async () => {
        if (service && service.child.exitCode === null) {
            const exited = new Promise(done => service?.child.once('exit', done))
            service.child.kill('SIGTERM')
            await exited
        }
        if (work) {
            rmSync(work, { recursive: true, force: true })
        }
    })

    /** A failed device run says what the service printed, too. */
    async function withServiceOutput<T>(running: Promise<T>): Promise<T> {
        try {
            return await running
        } catch (error) {
            throw new Error(`${(error as Error).message}\n--- synclog serve\n${service?.output() ?? ''}`)
        }
    }

    it('installs with the README line, compiles and runs the Quick start, and the note reaches a second device', async () => {
        const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT)
        const [{ filename }] = JSON.parse(packed.stdout) as Array<{ filename: string }>
        const tarball = join(work, filename)
        expect(existsSync(tarball)).toBe(true)

        const app = join(work, 'app')
        mkdirSync(app)
        writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'readme-app', version: '1.0.0', private: true }, null, 2))

        const installBlock = fencedBlockAfter(readme, ['## Install', '### Browser app'], 'sh')
        const commands = commandsOf(installBlock)
        const installs = commands.filter(command => /^npm (install|i) /.test(command) && / storex-synclog( |$)/.test(command))
        expect(installs).toHaveLength(1)
        const started = Date.now()
        for (const command of commands) {
            const line = command.split(' ').map(token => (token === 'storex-synclog' ? tarball : token)).join(' ')
            await run('sh', ['-c', line], app)
        }
        const installMs = Date.now() - started
        const installedSize = (await run('du', ['-sk', join(app, 'node_modules')], app)).stdout.split('\t')[0]
        const appPackages = installedCopies(app)

        const storex = appPackages.get('@worldbrain/storex') ?? []
        expect(storex).toHaveLength(1)
        expect(storex[0]).toMatch(/^0\.4\./)
        for (const unwanted of ['better-sqlite3', 'pg', 'fastify', '@fastify/cors', 'ws', 'sqlite3', 'typeorm']) {
            expect([unwanted, appPackages.get(unwanted) ?? []]).toEqual([unwanted, []])
        }
        const tarballKiB = (await run('du', ['-k', tarball], work)).stdout.split('\t')[0]
        console.log(
            `package.test: the README browser install took ${(installMs / 1000).toFixed(1)} s: ` +
                `${appPackages.size} distinct packages, ${(Number(installedSize) / 1024).toFixed(1)} MiB in node_modules (tarball ${tarballKiB} KiB)`,
        )

        // What the test itself needs, in a separate step: the compiler, Node's types (the README
        // tells TypeScript apps to add them) and an IndexedDB for Node.
        const tools = ['typescript', '@types/node', 'fake-indexeddb'].map(name => `${name}@${devRanges[name]}`)
        await run('npm', ['install', '--no-save', '--legacy-peer-deps', ...tools], app)

        const quickStart = fencedBlockAfter(readme, ['## Quick start'], 'ts')
        expect(quickStart.split(README_URL)).toHaveLength(2)
        writeFileSync(join(app, 'quickstart.ts'), quickStart)
        writeFileSync(
            join(app, 'tsconfig.json'),
            JSON.stringify({ compilerOptions: { strict: true, module: 'commonjs', target: 'ES2020', lib: ['ES2020', 'DOM'], outDir: 'out' }, files: ['quickstart.ts'] }, null, 2),
        )
        await run(join(app, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], app)

        service = await startService(work)
        const compiled = join(app, 'out/quickstart.js')
        writeFileSync(compiled, readFileSync(compiled, 'utf8').split(README_URL).join(service.url))
        writeFileSync(join(app, 'browser-globals.js'), BROWSER_GLOBALS)
        const first = await withServiceOutput(run(process.execPath, ['-r', './browser-globals.js', compiled], app))
        expect(first.stderr).not.toMatch(/sync failed|Error/)
        expect(first.stdout).toMatch(/synced: pushed [1-9]/)

        writeFileSync(join(app, 'second-device.js'), SECOND_DEVICE)
        const second = await withServiceOutput(run(process.execPath, ['-r', './browser-globals.js', 'second-device.js', service.url], app))
        const { notes } = JSON.parse(second.stdout) as { notes: Array<{ id: string; title: string }> }
        expect(notes.map(note => note.title)).toEqual([QUICK_START_TITLE])
        expect(notes[0].id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    })
})
