import Fastify from 'fastify'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { SyncConfigurationError } from '../errors'
import { installAuth } from './auth'
// Not from './live': its index also exports the PostgreSQL bridge, which would load the optional `pg`.
import { LiveHub } from './live/hub'
import type { LiveBridge } from './live/hub'
import { observeCommits } from './live/observe-commits'
import { registerLiveRoutes } from './live/route'
import { installCors, validateCorsOrigins } from './cors'
import { frameworkErrorHandler, installErrorHandlers } from './errors'
import { installHostCheck } from './host-check'
import { installJsonBodyParser } from './json-body'
import { installRequestGuard } from './request-guard'
import { DEFAULT_LIMITS } from './routes/context'
import type { RouteContext, ServiceLimits } from './routes/context'
import { registerDeviceRoutes } from './routes/devices'
import { registerDocRoutes } from './routes/docs'
import { registerHealthRoutes } from './routes/health'
import { registerReconcileRoutes } from './routes/reconcile'
import { registerSyncIdRoutes } from './routes/sync-id'
import { registerPairingRoutes } from './pairing/routes'
import { listStaticFiles, registerStaticRoutes } from './static'
import type { PairingLimits } from './pairing/registry'
import type { DocStore } from './store/types'

export type { ServiceLimits } from './routes/context'
export { DEFAULT_LIMITS } from './routes/context'

export interface SyncServiceOptions {
    /** Where documents, devices, tokens and the SyncId live. `init()` is called by `createSyncService`. */
    store: DocStore
    /** Multi-user mode: every route but `/health` needs `Authorization: Bearer <token>`. Default: false (single user). */
    auth?: boolean
    /** Interface to listen on. Default: '127.0.0.1'. */
    host?: string
    /** Port to listen on; 0 picks a free one. Default: 8787. */
    port?: number
    /** Server clock (ms since epoch) stamped on writes as lastUpdateUtc. Default: Date.now. */
    now?: () => number
    /** Request bounds; missing fields take the defaults of `DEFAULT_LIMITS`. */
    limits?: Partial<ServiceLimits>
    /** fastify logger: false (default), true, or a pino-compatible logger instance. */
    logger?: boolean | FastifyBaseLogger
    /** Issues ids for devices registered without one. Default: random UUID v4. */
    generateDeviceId?: () => string
    /**
     * Origins whose pages may call the service (CORS), each as the browser sends it in `Origin`
     * (`scheme://host[:port]`), or `['*']` for any origin (single-user mode only). Preflights are
     * answered on every route and every answer carries the headers. Default: none (CORS off: no
     * CORS headers, OPTIONS answers 404).
     */
    corsOrigins?: string[]
    /**
     * Live notifications (`GET /Live`, server-sent events). `bridge` carries them to other
     * service processes on the same database (`PostgresLiveBridge`); `keepAliveMs` is the
     * keep-alive comment period. Default: on, this process only, 25000 ms. `false`: no route.
     */
    live?: { bridge?: LiveBridge; keepAliveMs?: number } | false
    /**
     * The pairing relay for initial sync (`POST /Pairing`, `POST /Pairing/Join`, the
     * `/Pairing/Socket` WebSocket); missing fields take `DEFAULT_PAIRING_LIMITS`. Default: on. `false`: no routes.
     */
    pairing?: Partial<PairingLimits> | false
    /**
     * A folder of built files (the demo app) served at `/` by GET and HEAD, listed once at
     * startup (see `ts/server/static.ts`). Single-user mode only: the pages would need no token
     * while everything else does. Default: none (no static files).
     */
    staticDir?: string
}

export interface SyncService {
    app: FastifyInstance
    /** Starts listening; resolves with the base URL (e.g. http://127.0.0.1:8787). */
    listen(): Promise<{ url: string }>
    /** Stops listening and closes the store. */
    close(): Promise<void>
}

/** The sync service (seed 000 documents, seed 003 SyncId) on a store, ready for `inject` or `listen`. */
export async function createSyncService(options: SyncServiceOptions): Promise<SyncService> {
    const limits: ServiceLimits = { ...DEFAULT_LIMITS, ...options.limits }
    const host = options.host ?? '127.0.0.1'
    const port = options.port ?? 8787
    const auth = options.auth ?? false
    const corsOrigins = validateCorsOrigins(options.corsOrigins, { auth })
    if (options.staticDir !== undefined) {
        if (auth) {
            throw new SyncConfigurationError("Option 'staticDir' works in single-user mode only (auth: false): its pages would answer without a token", { option: 'staticDir' })
        }
        listStaticFiles(options.staticDir) // a wrong folder fails before the store is opened
    }
    await options.store.init()

    const loggerOption = options.logger ?? false
    const app = Fastify({
        ...(typeof loggerOption === 'boolean' ? { logger: loggerOption } : { loggerInstance: loggerOption }),
        bodyLimit: limits.bodyBytes,
        // Slow bodies time out like slow headers (Node's own default leaves a slow body open);
        // Node checks at most every `connectionsCheckingInterval`, so that follows the timeouts.
        requestTimeout: limits.requestTimeoutMs,
        http: {
            requestTimeout: limits.requestTimeoutMs,
            headersTimeout: limits.requestTimeoutMs > 0 ? Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) : limits.headersTimeoutMs,
            connectionsCheckingInterval: Math.max(10, Math.min(30_000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs || Infinity) / 4))),
        },
        frameworkErrors: frameworkErrorHandler,
        // Device ids are up to 256 characters, up to 3 times that when percent-encoded.
        routerOptions: { maxParamLength: 1024 },
        // Refuse instead of repair: no removal of unknown fields, no type coercion.
        ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
    })
    const hub = options.live === false ? null : new LiveHub(options.live?.bridge ?? null)
    await hub?.start()
    // Routes write through the observed store, so every committed write is announced.
    const store = hub ? observeCommits(options.store, notification => hub.published(notification)) : options.store
    const context: RouteContext = { store, limits, now: options.now ?? Date.now }
    installErrorHandlers(app)
    // Charset, UTF-8 and depth checks on the raw body, before any JSON reaches a recursive routine.
    installJsonBodyParser(app, { dataDepth: limits.dataDepth })
    // Hook order: CORS (answers preflights, headers on every answer), Host check, auth.
    await installCors(app, corsOrigins)
    if (!auth) {
        installHostCheck(app, { host, port })
    }
    installAuth(app, { store: options.store, auth })
    // After auth: a request without a valid token is refused before it takes a heavy-request slot.
    installRequestGuard(app, { maxHeavyRequests: limits.maxHeavyRequests, heavyBodyBytes: limits.heavyBodyBytes, retryAfterSeconds: 1 })
    // Bodies are JSON only: without this fastify parses text/plain and the schema answers 400, not 415.
    app.removeContentTypeParser('text/plain')
    registerHealthRoutes(app, context)
    registerSyncIdRoutes(app, context)
    registerDocRoutes(app, context)
    registerReconcileRoutes(app, context)
    registerDeviceRoutes(app, context, { generateDeviceId: options.generateDeviceId })
    if (options.pairing !== false) {
        registerPairingRoutes(app, { now: context.now, limits: options.pairing })
    }
    if (hub) {
        registerLiveRoutes(app, hub, { keepAliveMs: options.live ? options.live.keepAliveMs : undefined })
    }
    if (options.staticDir !== undefined) {
        // Last, so a file that would shadow an API route is refused instead.
        try {
            registerStaticRoutes(app, { dir: options.staticDir })
        } catch (error) {
            await app.close()
            await options.store.close()
            throw error
        }
    }

    let closed = false
    return {
        app,
        async listen() {
            await app.listen({ host, port })
            const address = app.server.address()
            const actualPort = typeof address === 'object' && address ? address.port : port
            const urlHost = host.includes(':') ? `[${host}]` : host
            return { url: `http://${urlHost}:${actualPort}` }
        },
        async close() {
            if (closed) {
                return
            }
            closed = true
            await app.close()
            await options.store.close()
        },
    }
}
