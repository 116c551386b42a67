import Fastify from 'fastify'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { installAuth } from './auth'
import { frameworkErrorHandler, installErrorHandlers } from './errors'
import { DEFAULT_LIMITS } from './routes/context'
import type { RouteContext, ServiceLimits } from './routes/context'
import { registerDeviceRoutes } from './routes/devices'
import { registerDocRoutes } from './routes/docs'
import { registerHealthRoutes } from './routes/health'
import { registerReconcileRoutes } from './routes/reconcile'
import { registerSyncIdRoutes } from './routes/sync-id'
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
    await options.store.init()

    const loggerOption = options.logger ?? false
    const app = Fastify({
        ...(typeof loggerOption === 'boolean' ? { logger: loggerOption } : { loggerInstance: loggerOption }),
        bodyLimit: limits.bodyBytes,
        frameworkErrors: frameworkErrorHandler,
        // Device ids are up to 256 characters, up to 3 times that when percent-encoded.
        routerOptions: { maxParamLength: 1024 },
        // Refuse instead of repair: no removal of unknown fields, no type coercion.
        ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
    })
    const context: RouteContext = { store: options.store, limits, now: options.now ?? Date.now }
    installErrorHandlers(app)
    installAuth(app, { store: options.store, auth: options.auth ?? false })
    registerHealthRoutes(app, context)
    registerSyncIdRoutes(app, context)
    registerDocRoutes(app, context)
    registerReconcileRoutes(app, context)
    registerDeviceRoutes(app, context, { generateDeviceId: options.generateDeviceId })

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
