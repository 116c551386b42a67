import { mkdirSync } from 'fs'
import { dirname, resolve } from 'path'
import { parseArgs } from 'util'
import { SyncConfigurationError, SyncError } from '../errors'
import { createToken, revokeToken, tokenIdOfToken } from './auth'
import { IDENTIFIER_RULE, isValidIdentifier } from './identifiers'
import { validateCorsOrigins } from './cors-origins'
import { assertInstalled, missingDependencyMessage, missingServerModule, neededModules } from './dependencies'
import type { ModuleResolver } from './dependencies'
import type { SyncService } from './service'
import type { DocStore } from './store/types'

/**
 * `synclog serve | reset | token create | token list | token revoke`. Kept apart from the process entry (bin.ts) so tests
 * run it in-process: `main` returns an exit code, and for `serve` the running service.
 *
 * The service (fastify) and the store drivers (better-sqlite3, pg) are optional peer
 * dependencies, so they are loaded only by the commands that use them: `reset` and `token
 * create` need no fastify, and only the chosen driver is loaded.
 */

export const USAGE = `Usage:
  synclog serve [--port 8787] [--host 127.0.0.1] [--db FILE | --postgres URL] [--auth] [--cors-origin ORIGIN ...] [--static DIR]
  synclog reset --yes [--db FILE | --postgres URL]
  synclog token create --user NAME [--db FILE | --postgres URL]
  synclog token list [--user NAME] [--db FILE | --postgres URL]
  synclog token revoke --id TOKEN_ID [--db FILE | --postgres URL]

  --db FILE        SQLite database file (default: ./data/synclog.sqlite, folder created; :memory: for a throwaway one)
  --postgres URL   PostgreSQL connection string instead of SQLite
  --auth           multi-user mode: every request needs a bearer token (synclog token create)
                   without it the service is single-user: it listens on loopback only and answers
                   only requests whose Host is localhost, 127.0.0.1 or [::1] with its port
  --cors-origin ORIGIN
                   let pages of ORIGIN (scheme://host[:port], e.g. http://localhost:5173) call the
                   service from a browser; repeat for more; * for any origin (not with --auth)
  --static DIR     also serve the built files of DIR at / (npm start: the demo app, demo/dist);
                   single-user mode only`

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
    /** Checks that a package is installed before a command loads it. Default: require.resolve. */
    resolveModule?: ModuleResolver
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
        return await run(argv, out, options.cwd ?? process.cwd(), options.resolveModule)
    } catch (error) {
        // parseArgs: an unknown option, a missing value, a stray positional.
        const code = (error as { code?: unknown }).code
        if (error instanceof CliUsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_'))) {
            err(`synclog: ${(error as Error).message}`)
            err(USAGE)
            return { exitCode: 2 }
        }
        // A package missing from the pre-check's list still gets the install line.
        const missing = missingServerModule(error)
        const message = missing ? missingDependencyMessage([missing]) : error instanceof Error ? error.message : String(error)
        err(`synclog: ${message}`)
        return { exitCode: 1 }
    }
}

async function run(argv: string[], out: (line: string) => void, cwd: string, resolveModule?: ModuleResolver): Promise<CliResult> {
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
            id: { type: 'string' },
            'cors-origin': { type: 'string', multiple: true },
            static: { type: 'string' },
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
    assertInstalled(neededModules(command, { postgres: values.postgres !== undefined }), resolveModule)
    const openStore = (): DocStore => {
        if (values.postgres !== undefined) {
            const { PostgresDocStore } = require('./store/postgres') as typeof import('./store/postgres')
            return new PostgresDocStore({ connectionString: values.postgres })
        }
        const { SqliteDocStore } = require('./store/sqlite') as typeof import('./store/sqlite')
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
            return { exitCode: 0, service: await serve(values, openStore, out, cwd) }
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
            if (!isValidIdentifier(values.user)) {
                throw new CliUsageError(`--user ${IDENTIFIER_RULE}`)
            }
            const userId = values.user
            const token = await withStore(openStore(), (store) => createToken({ store, userId }))
            out(`Token for user '${userId}' (shown once, only its hash is stored), id ${tokenIdOfToken(token)}:`)
            out(token)
            return { exitCode: 0 }
        }
        case 'token list': {
            if (values.user !== undefined && !isValidIdentifier(values.user)) {
                throw new CliUsageError(`--user ${IDENTIFIER_RULE}`)
            }
            const user = values.user
            const tokens = await withStore(openStore(), (store) => store.listTokens(user === undefined ? {} : { userId: user }))
            // Ids and creation times only: the store has no token, and the hash is not for showing.
            out('TOKEN_ID          USER  CREATED')
            for (const token of tokens) {
                out(`${token.tokenId}  ${token.userId}  ${new Date(token.createdMs).toISOString()}`)
            }
            out(`${tokens.length} token${tokens.length === 1 ? '' : 's'}`)
            return { exitCode: 0 }
        }
        case 'token revoke': {
            if (!values.id) {
                throw new CliUsageError('token revoke needs --id TOKEN_ID (see synclog token list)')
            }
            if (!/^[0-9a-f]{16}$/.test(values.id)) {
                throw new CliUsageError(`--id must be a token id of 16 lowercase hex digits as 'synclog token list' shows, got '${values.id}'`)
            }
            const tokenId = values.id
            const revoked = await withStore(openStore(), (store) => revokeToken({ store, tokenId }))
            if (!revoked) {
                out(`No token with id ${tokenId}`)
                return { exitCode: 1 }
            }
            out(`Token ${tokenId} revoked: its requests are refused (401) from now on`)
            return { exitCode: 0 }
        }
        default:
            throw new CliUsageError(command ? `unknown command '${command}'` : 'missing command')
    }
}

async function serve(
    values: { port?: string; host?: string; auth?: boolean; 'cors-origin'?: string[]; postgres?: string; static?: string },
    openStore: () => DocStore,
    out: (line: string) => void,
    cwd: string,
): Promise<SyncService> {
    const port = parsePort(values.port ?? '8787')
    const host = values.host ?? '127.0.0.1'
    const auth = values.auth ?? false
    if (!auth && !LOOPBACK_HOSTS.has(host)) {
        throw new CliUsageError(`without --auth the service is single-user and listens on loopback only; refusing --host ${host}`)
    }
    const corsOrigins = parseCorsOrigins(values['cors-origin'], auth)
    if (values.static !== undefined && auth) {
        throw new CliUsageError('--static serves pages that need no token, so it works only without --auth')
    }
    const staticDir = values.static === undefined ? undefined : resolve(cwd, values.static)
    const { createSyncService } = require('./service') as typeof import('./service')
    // On PostgreSQL, live notifications also reach devices connected to other processes on the database.
    const { PostgresLiveBridge } = values.postgres === undefined ? { PostgresLiveBridge: null } : (require('./live/postgres-bridge') as typeof import('./live/postgres-bridge'))
    const live = PostgresLiveBridge && values.postgres !== undefined ? { bridge: new PostgresLiveBridge({ connectionString: values.postgres }) } : undefined
    const service = await createSyncService({ store: openStore(), host, port, auth, corsOrigins, live, staticDir })
    let url: string
    try {
        url = (await service.listen()).url
    } catch (error) {
        await service.close()
        throw error
    }
    out(auth ? 'synclog: multi-user mode, every request needs a bearer token' : `synclog: single-user mode, listening on ${host} only (no tokens; use --auth for multi-user)`)
    out(`synclog listening on ${url}`)
    if (corsOrigins) {
        out(`synclog: CORS on for ${corsOrigins.join(', ')}`)
    }
    if (staticDir !== undefined) {
        out(`synclog: serving ${staticDir} at ${url}/`)
    }
    return service
}

function parseCorsOrigins(values: string[] | undefined, auth: boolean): string[] | undefined {
    if (values === undefined) {
        return undefined
    }
    try {
        return validateCorsOrigins(values, { auth, option: '--cors-origin' })
    } catch (error) {
        if (error instanceof SyncConfigurationError) {
            throw new CliUsageError(error.message.replace(/^Option '--cors-origin'/, '--cors-origin'))
        }
        throw error
    }
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
