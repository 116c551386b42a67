import { mkdirSync } from 'fs'
import { dirname, resolve } from 'path'
import { parseArgs } from 'util'
import { SyncError } from '../errors'
import { createToken } from './auth'
import { createSyncService } from './service'
import type { SyncService } from './service'
import { PostgresDocStore } from './store/postgres'
import { SqliteDocStore } from './store/sqlite'
import type { DocStore } from './store/types'

/**
 * `synclog serve | reset | token create`. Kept apart from the process entry (bin.ts) so tests
 * run it in-process: `main` returns an exit code, and for `serve` the running service.
 */

export const USAGE = `Usage:
  synclog serve [--port 8787] [--host 127.0.0.1] [--db FILE | --postgres URL] [--auth]
  synclog reset --yes [--db FILE | --postgres URL]
  synclog token create --user NAME [--db FILE | --postgres URL]

  --db FILE        SQLite database file (default: ./data/synclog.sqlite, folder created; :memory: for a throwaway one)
  --postgres URL   PostgreSQL connection string instead of SQLite
  --auth           multi-user mode: every request needs a bearer token (synclog token create)
                   without it the service is single-user and listens on loopback only`

/** The command line was wrong; the CLI prints the message and the usage and exits with 2. */
export class CliUsageError extends SyncError {
    constructor(message: string) {
        super('CLI_USAGE', message)
    }
}

export interface CliOptions {
    /** Where normal output goes. Default: process.stdout. */
    stdout?: (line: string) => void
    /** Where errors go. Default: process.stderr. */
    stderr?: (line: string) => void
    /** Folder the default database path is resolved against. Default: process.cwd(). */
    cwd?: string
}

export interface CliResult {
    exitCode: number
    /** Set by `serve`: the running service; close it to stop. */
    service?: SyncService
}

export const DEFAULT_DB_FILE = 'data/synclog.sqlite'
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1'])

export async function main(argv: string[], options: CliOptions = {}): Promise<CliResult> {
    const out = options.stdout ?? ((line: string) => process.stdout.write(line + '\n'))
    const err = options.stderr ?? ((line: string) => process.stderr.write(line + '\n'))
    try {
        return await run(argv, out, options.cwd ?? process.cwd())
    } catch (error) {
        if (error instanceof CliUsageError || (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
            err(`synclog: ${(error as Error).message}`)
            err(USAGE)
            return { exitCode: 2 }
        }
        err(`synclog: ${error instanceof Error ? error.message : String(error)}`)
        return { exitCode: 1 }
    }
}

async function run(argv: string[], out: (line: string) => void, cwd: string): Promise<CliResult> {
    const { values, positionals } = parseArgs({
        args: argv,
        allowPositionals: true,
        strict: true,
        options: {
            port: { type: 'string' },
            host: { type: 'string' },
            db: { type: 'string' },
            postgres: { type: 'string' },
            auth: { type: 'boolean' },
            yes: { type: 'boolean' },
            user: { type: 'string' },
            help: { type: 'boolean', short: 'h' },
        },
    })
    const command = positionals.join(' ')
    if (values.help || command === 'help') {
        out(USAGE)
        return { exitCode: 0 }
    }
    if (values.db !== undefined && values.postgres !== undefined) {
        throw new CliUsageError('--db and --postgres exclude each other')
    }
    const openStore = (): DocStore => {
        if (values.postgres !== undefined) {
            return new PostgresDocStore({ connectionString: values.postgres })
        }
        // SQLite's in-memory database is a name, not a path (resolving it would create a file).
        if (values.db === ':memory:') {
            return new SqliteDocStore({ filename: ':memory:' })
        }
        const filename = resolve(cwd, values.db ?? DEFAULT_DB_FILE)
        mkdirSync(dirname(filename), { recursive: true })
        return new SqliteDocStore({ filename })
    }

    switch (command) {
        case 'serve':
            return { exitCode: 0, service: await serve(values, openStore, out) }
        case 'reset': {
            if (!values.yes) {
                throw new CliUsageError('reset wipes every document and device and issues a new SyncId; confirm with --yes')
            }
            const syncId = await withStore(openStore(), (store) => store.reset())
            out(`Reset done. New SyncId: ${syncId}`)
            return { exitCode: 0 }
        }
        case 'token create': {
            if (!values.user) {
                throw new CliUsageError('token create needs --user NAME')
            }
            const userId = values.user
            const token = await withStore(openStore(), (store) => createToken({ store, userId }))
            out(`Token for user '${userId}' (shown once, only its hash is stored):`)
            out(token)
            return { exitCode: 0 }
        }
        default:
            throw new CliUsageError(command ? `unknown command '${command}'` : 'missing command')
    }
}

async function serve(
    values: { port?: string; host?: string; auth?: boolean },
    openStore: () => DocStore,
    out: (line: string) => void,
): Promise<SyncService> {
    const port = parsePort(values.port ?? '8787')
    const host = values.host ?? '127.0.0.1'
    const auth = values.auth ?? false
    if (!auth && !LOOPBACK_HOSTS.has(host)) {
        throw new CliUsageError(`without --auth the service is single-user and listens on loopback only; refusing --host ${host}`)
    }
    const service = await createSyncService({ store: openStore(), host, port, auth })
    let url: string
    try {
        url = (await service.listen()).url
    } catch (error) {
        await service.close()
        throw error
    }
    out(auth ? 'synclog: multi-user mode, every request needs a bearer token' : `synclog: single-user mode, listening on ${host} only (no tokens; use --auth for multi-user)`)
    out(`synclog listening on ${url}`)
    return service
}

function parsePort(value: string): number {
    const port = /^[0-9]{1,5}$/.test(value) ? Number(value) : NaN
    if (!(port >= 0 && port <= 65535)) {
        throw new CliUsageError(`--port must be 0..65535, got '${value}'`)
    }
    return port
}

async function withStore<T>(store: DocStore, use: (store: DocStore) => Promise<T>): Promise<T> {
    await store.init()
    try {
        return await use(store)
    } finally {
        await store.close()
    }
}
