/**
 * Test support, preloaded into a child process (`node -r ts-node/register/transpile-only -r
 * ./ts/server/test-hide-modules.ts ...`): packages named in HIDE_MODULES (comma-separated) fail
 * to resolve as if they were not installed, the way an app without the optional server peer
 * dependencies sees them.
 */
import Module from 'module'

const hidden = new Set((process.env.HIDE_MODULES ?? '').split(',').filter(Boolean))
const moduleInternals = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string }
const resolveFilename = moduleInternals._resolveFilename
moduleInternals._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]): string {
    const packageName = request.startsWith('@') ? request.split('/').slice(0, 2).join('/') : request.split('/')[0]
    if (hidden.has(packageName)) {
        throw Object.assign(new Error(`Cannot find module '${request}'`), { code: 'MODULE_NOT_FOUND' })
    }
    return resolveFilename.call(this, request, ...rest)
}
