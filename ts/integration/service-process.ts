/**
 * Runs `synclog serve` as a real OS process (the TypeScript sources through ts-node, so no build
 * is needed), for tests and benchmarks that need separate service processes. The port is read
 * from the CLI's "listening on" line, so `--port 0` works.
 */
import { spawn } from 'child_process'
import type { ChildProcess } from 'child_process'
import { randomBytes } from 'crypto'
import { resolve } from 'path'
import { Pool } from 'pg'

const ROOT = resolve(__dirname, '../..')
const BIN = resolve(ROOT, 'ts/server/bin.ts')

export interface ServiceProcess {
    url: string
    pid: number
    /** Everything the process printed so far (stdout and stderr), for failure messages. */
    output(): string
    /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. Safe to call twice. */
    stop(graceMs?: number): Promise<void>
}

/** Children still running, killed when this process exits however it exits. */
const running = new Set<ChildProcess>()
let exitHookInstalled = false

function installExitHook(): void {
    if (exitHookInstalled) {
        return
    }
    exitHookInstalled = true
    process.once('exit', () => {
        for (const child of running) {
            child.kill('SIGKILL')
        }
    })
}

/** Starts `synclog <args>` (e.g. ['serve', '--port', '0', '--postgres', url]) and waits until it listens. */
export function startServiceProcess(args: string[], options: { startTimeoutMs?: number } = {}): Promise<ServiceProcess> {
    installExitHook()
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', BIN, ...args], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, TS_NODE_PROJECT: resolve(ROOT, 'tsconfig.json') },
    })
    running.add(child)
    let output = ''
    const exited = new Promise<void>(done => child.once('exit', () => {
        running.delete(child)
        done()
    }))

    const stop = async (graceMs = 5000): Promise<void> => {
        if (child.exitCode !== null || child.signalCode !== null) {
            return
        }
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
        await exited
        clearTimeout(timer)
    }

    return new Promise<ServiceProcess>((resolveStart, rejectStart) => {
        let settled = false
        const fail = (reason: string) => {
            if (settled) {
                return
            }
            settled = true
            clearTimeout(timer)
            stop(0).then(() => rejectStart(new Error(`synclog ${args.join(' ')}: ${reason}\n${output}`)))
        }
        const timer = setTimeout(() => fail(`did not listen within ${options.startTimeoutMs ?? 15000} ms`), options.startTimeoutMs ?? 15000)
        const onData = (chunk: Buffer) => {
            output += chunk.toString('utf8')
            const match = /synclog listening on (http:\/\/\S+)/.exec(output)
            if (match && !settled) {
                settled = true
                clearTimeout(timer)
                child.stdout?.off('data', onData)
                child.stdout?.on('data', (more: Buffer) => (output += more.toString('utf8')))
                resolveStart({ url: match[1], pid: child.pid ?? -1, output: () => output, stop })
            }
        }
        child.stdout?.on('data', onData)
        child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
        child.once('exit', (code, signal) => fail(`exited (code ${code}, signal ${signal}) before listening`))
        child.once('error', error => fail(`could not start: ${error.message}`))
    })
}

export interface TemporaryDatabase {
    /** Connection string of the new database (the admin URL with its database name replaced). */
    url: string
    name: string
    /** Drops the database, disconnecting whoever is still on it. */
    drop(): Promise<void>
}

/**
 * A fresh PostgreSQL database for a `synclog serve --postgres` process, which always uses the
 * `public` schema: a database per test or benchmark keeps runs apart.
 */
export async function createTemporaryDatabase(adminUrl: string, prefix: string): Promise<TemporaryDatabase> {
    const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`
    const admin = new Pool({ connectionString: adminUrl, max: 1 })
    try {
        await admin.query(`CREATE DATABASE "${name}"`)
    } catch (error) {
        await admin.end()
        throw error
    }
    const url = new URL(adminUrl)
    url.pathname = `/${name}`
    let dropped = false
    return {
        url: url.toString(),
        name,
        async drop() {
            if (dropped) {
                return
            }
            dropped = true
            try {
                await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
            } finally {
                await admin.end()
            }
        },
    }
}
