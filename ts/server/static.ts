import { lstatSync, readdirSync, readFileSync, realpathSync } from 'fs'
import { extname, join, relative, sep } from 'path'
import type { FastifyInstance } from 'fastify'
import { SyncConfigurationError } from '../errors'
import { HttpError } from './errors'

/**
 * Serves a folder of built files (the demo app) at `/`. Safety comes from never mapping a URL to
 * a path: the folder is listed once when the service starts and each file found gets its own
 * exact GET route (fastify adds HEAD), so no `..`, encoded slash or symlink in a request can reach
 * anything else. Symlinks, dotfiles and files whose type is not in `CONTENT_TYPES` are skipped.
 * Files are read at request time, so rebuilding the app needs no restart (a new file does).
 */

export const CONTENT_TYPES: Record<string, string> = {
    '.html': 'text/html; charset=utf-8',
    '.js': 'text/javascript; charset=utf-8',
    '.mjs': 'text/javascript; charset=utf-8',
    '.css': 'text/css; charset=utf-8',
    '.json': 'application/json; charset=utf-8',
    '.map': 'application/json; charset=utf-8',
    '.svg': 'image/svg+xml',
    '.png': 'image/png',
    '.ico': 'image/x-icon',
    '.txt': 'text/plain; charset=utf-8',
    '.wasm': 'application/wasm',
}

/** Most files served from one folder: a guard against pointing `staticDir` at a home folder. */
const MAX_FILES = 1000

/**
 * The page may talk to its own origin only (HTTP and the pairing WebSocket); scripts and styles
 * come from files, never inline, so an injected note title cannot run as code. `'unsafe-eval'`
 * because Dexie 2 detects native async functions with `new Function(...)` and otherwise falls
 * back to other promise handling than the app would get without this header.
 */
const CONTENT_SECURITY_POLICY =
    "default-src 'self'; script-src 'self' 'unsafe-eval'; connect-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

export interface StaticFile {
    /** URL path, e.g. `/app.js`; `index.html` files are also served at their folder's path. */
    urlPath: string
    file: string
    contentType: string
}

/** The files `registerStaticRoutes` serves from `dir`, with their URL paths. */
export function listStaticFiles(dir: string): StaticFile[] {
    let root: string
    try {
        root = realpathSync(dir)
        if (!lstatSync(root).isDirectory()) {
            throw new Error('not a folder')
        }
    } catch (error) {
        throw new SyncConfigurationError(`Option 'staticDir' must name an existing folder, got '${dir}' (${(error as Error).message})`, { option: 'staticDir' })
    }
    const files: StaticFile[] = []
    const walk = (folder: string) => {
        for (const name of readdirSync(folder).sort()) {
            if (name.startsWith('.')) {
                continue
            }
            const path = join(folder, name)
            const stat = lstatSync(path)
            if (stat.isDirectory()) {
                walk(path)
                continue
            }
            const contentType = CONTENT_TYPES[extname(name).toLowerCase()]
            if (!stat.isFile() || !contentType) {
                continue
            }
            const urlPath = '/' + relative(root, path).split(sep).map(encodeURIComponent).join('/')
            files.push({ urlPath, file: path, contentType })
            if (name === 'index.html') {
                const folderPath = urlPath.slice(0, -'index.html'.length)
                files.push({ urlPath: folderPath.length > 1 ? folderPath.slice(0, -1) : '/', file: path, contentType })
            }
            if (files.length > MAX_FILES) {
                throw new SyncConfigurationError(`Option 'staticDir' ('${dir}') holds more than ${MAX_FILES} files; point it at the built app's folder`, { option: 'staticDir' })
            }
        }
    }
    walk(root)
    return files
}

/**
 * Registers one GET (and HEAD) route per file of `dir`. Call it after the API routes: a file
 * whose path equals a GET route of the API is refused at startup rather than shadowed.
 */
export function registerStaticRoutes(app: FastifyInstance, options: { dir: string }): StaticFile[] {
    const files = listStaticFiles(options.dir)
    for (const entry of files) {
        if (app.hasRoute({ method: 'GET', url: entry.urlPath })) {
            throw new SyncConfigurationError(`Option 'staticDir': the file for ${entry.urlPath} would shadow the service's route of that path; rename it`, { option: 'staticDir' })
        }
        app.get(entry.urlPath, async (_request, reply) => {
            let content: Buffer
            try {
                content = readFileSync(entry.file)
            } catch {
                // Removed since startup (a rebuild in progress): the same answer as any unknown path.
                throw new HttpError(404, 'NOT_FOUND', `No route GET ${entry.urlPath}`)
            }
            return reply
                .header('content-type', entry.contentType)
                .header('cache-control', 'no-cache')
                .header('x-content-type-options', 'nosniff')
                .header('content-security-policy', CONTENT_SECURITY_POLICY)
                .send(content)
        })
    }
    return files
}
