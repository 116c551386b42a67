import { readFileSync } from 'fs'
import { join } from 'path'
import { SyncError } from '../errors'

/**
 * The service's packages are optional peer dependencies, so that a browser app installing
 * storex-synclog does not get fastify or compile native database drivers it never runs. The CLI
 * therefore checks what a command needs before loading it and names the exact install line,
 * the way TypeORM does for its drivers.
 */

/** Packages `synclog serve` loads, whatever the store. */
export const SERVICE_MODULES = ['fastify', '@fastify/cors']
export const SQLITE_MODULE = 'better-sqlite3'
export const POSTGRES_MODULE = 'pg'
/** Every optional package the server may load (also for mapping a failed `require`). */
export const SERVER_MODULES = [...SERVICE_MODULES, SQLITE_MODULE, POSTGRES_MODULE, 'ws']

/** Resolves a module name to a file, throwing when it is not installed (`require.resolve`). */
export type ModuleResolver = (name: string) => string

/** A command needs packages that are not installed. */
export class MissingDependencyError extends SyncError {
    constructor(readonly modules: string[], message: string) {
        super('MISSING_DEPENDENCY', message)
    }
}

/** What a command loads: the service for `serve`, and the store driver for every command with a database. */
export function neededModules(command: string, options: { postgres: boolean }): string[] {
    const store = options.postgres ? POSTGRES_MODULE : SQLITE_MODULE
    switch (command) {
        case 'serve':
            return [...SERVICE_MODULES, store]
        case 'reset':
        case 'token create':
        case 'token list':
        case 'token revoke':
            return [store]
        default:
            return []
    }
}

export function findMissing(modules: string[], resolve: ModuleResolver = require.resolve): string[] {
    return modules.filter((name) => {
        try {
            resolve(name)
            return false
        } catch {
            return true
        }
    })
}

/** The message for missing packages, with the npm line (each spec quoted, as `^` means something to some shells). */
export function missingDependencyMessage(missing: string[], ranges: Record<string, string> = peerRanges()): string {
    const specs = missing.map((name) => (ranges[name] ? `"${name}@${ranges[name]}"` : name))
    return [
        `missing ${missing.length === 1 ? 'package' : 'packages'}: ${missing.join(', ')}.`,
        'The sync service and its database drivers are optional peer dependencies of storex-synclog',
        '(so browser apps do not install them). Install what this command needs with:',
        `  npm install ${specs.join(' ')}`,
    ].join('\n')
}

export function assertInstalled(modules: string[], resolve?: ModuleResolver): void {
    const missing = findMissing(modules, resolve)
    if (missing.length > 0) {
        throw new MissingDependencyError(missing, missingDependencyMessage(missing))
    }
}

/**
 * The server package a failed `require` could not find, or null for any other error (a missing
 * file of this package, an error inside a module).
 */
export function missingServerModule(error: unknown): string | null {
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown }
    if (code !== 'MODULE_NOT_FOUND' || typeof message !== 'string') {
        return null
    }
    const name = /Cannot find module '([^']+)'/.exec(message)?.[1]
    if (!name) {
        return null
    }
    const parts = name.split('/')
    const packageName = name.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]
    return SERVER_MODULES.includes(packageName) ? packageName : null
}

/** Version ranges of the peer dependencies, from this package's package.json (empty if unreadable). */
export function peerRanges(): Record<string, string> {
    try {
        // ts/server and lib/server are both two levels below the package root.
        const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { peerDependencies?: Record<string, string> }
        return manifest.peerDependencies ?? {}
    } catch {
        return {}
    }
}
