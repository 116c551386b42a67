/**
 * Node only, tests only (excluded from the package by tsconfig.build.json): it reads another
 * package's published files from disk, which is what the compatibility suites are about.
 *
 * Loads one of @worldbrain/storex-sync 0.1.1's published files (`lib/*.js`) with some of its
 * `require`s answered by us: the thin adapters that put our parts where the file expects
 * storex-sync's, and stand-ins for what it needs but the package does not depend on
 * (`@worldbrain/storex-pattern-modules` is neither a dependency of storex-sync 0.1.1 nor installed
 * here; the files only use its `StorageModule` base class and `registerModuleCollections`).
 * Every other `require` resolves from the file's own directory, as Node would.
 */
import fs from 'fs'
import path from 'path'

const LIB = path.dirname(require.resolve('@worldbrain/storex-sync/lib/index.js'))

export function loadPublished<T = Record<string, unknown>>(file: string, overrides: Record<string, unknown> = {}): T {
    const filename = path.join(LIB, file)
    const source = fs.readFileSync(filename, 'utf8')
    const localRequire = (request: string): unknown => {
        if (Object.prototype.hasOwnProperty.call(overrides, request)) {
            return overrides[request]
        }
        const resolved = request.startsWith('.') ? require.resolve(path.resolve(path.dirname(filename), request)) : require.resolve(request, { paths: [path.dirname(filename)] })
        return require(resolved)
    }
    const module = { exports: {} as Record<string, unknown> }
    // The file's own CommonJS wrapper, as Node builds it.
    const run = new Function('exports', 'require', 'module', '__filename', '__dirname', source) as (...args: unknown[]) => void
    run(module.exports, localRequire, module, filename, path.dirname(filename))
    return module.exports as T
}

/**
 * storex-pattern-modules' `StorageModule`, as far as the published files use it: a base class
 * whose subclasses declare `getConfig()`. A plain function: the ES5 subclasses call it with `apply`.
 */
export const StorageModuleBase = function StorageModule(this: { options: unknown }, options: unknown = {}) {
    this.options = options
} as unknown as new (options?: unknown) => { options: unknown }

/**
 * storex-sync 0.1.1's tests were written for `expect` 23, whose module is the function itself;
 * `expect` 29 exports it as a property. The published files get the function.
 */
export function callableExpect(): unknown {
    const loaded = require('expect') as { expect?: unknown; default?: unknown }
    return loaded.expect ?? loaded.default ?? loaded
}

export interface MemexCollections {
    [name: string]: { version: Date; fields: Record<string, { type: string; optional?: boolean; pk?: boolean }>; indices?: Array<Record<string, unknown>> }
}

/** The Memex schema published with storex-sync (`lib/memex-schema.tests.js`): every module's collections. */
export function loadMemexCollections(): MemexCollections {
    const modules = loadPublished<Record<string, new () => { getConfig(): { collections: MemexCollections } }>>('memex-schema.tests.js', {
        '@worldbrain/storex-pattern-modules': { StorageModule: StorageModuleBase },
    })
    const collections: MemexCollections = {}
    for (const StorageModule of Object.values(modules)) {
        if (typeof StorageModule === 'function') {
            Object.assign(collections, new StorageModule().getConfig().collections)
        }
    }
    return collections
}
