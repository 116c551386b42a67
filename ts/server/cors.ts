import cors from '@fastify/cors'
import type { FastifyInstance } from 'fastify'

/**
 * CORS for pages on other origins (a web app served by its own dev server, an extension, a
 * Capacitor/Tauri shell). Off unless origins are configured: a service without them sends no
 * CORS headers and answers OPTIONS with 404 like any unknown route.
 */

/** Request headers a browser client may send: the ones `HttpSharedSyncLog` sends, and `accept`. */
export const CORS_ALLOWED_HEADERS = ['accept', 'authorization', 'content-type', 'x-sync-id']

/**
 * Methods a preflight allows. Wider than today's routes (GET and POST) so that routes added
 * later work cross-origin without touching this list; a method without a route still gets 404.
 */
export const CORS_ALLOWED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']

/** How long a browser may cache a preflight answer (Chromium caps this at 2 hours). */
export const CORS_MAX_AGE_SECONDS = 600

export { validateCorsOrigins } from './cors-origins'

/**
 * Registers `@fastify/cors` for `origins` (validated). Must be awaited before other hooks are
 * added: its onRequest hook then runs first, so preflights (which carry no token) are answered
 * before auth, and every answer, errors included, carries the CORS headers.
 */
export async function installCors(app: FastifyInstance, origins: string[]): Promise<void> {
    if (origins.length === 0) {
        return
    }
    await app.register(cors, {
        origin: origins.length === 1 && origins[0] === '*' ? '*' : origins,
        methods: CORS_ALLOWED_METHODS,
        allowedHeaders: CORS_ALLOWED_HEADERS,
        maxAge: CORS_MAX_AGE_SECONDS,
        // Bearer tokens travel in a header, never in cookies.
        credentials: false,
        // An OPTIONS without Origin is answered like a preflight instead of with a text/plain 400.
        strictPreflight: false,
    })
}
