import type { FastifyInstance } from 'fastify'
import type { RouteContext } from './context'

/** `GET /health`: liveness, with a store round trip; the only route that needs no token. */
export function registerHealthRoutes(app: FastifyInstance, context: RouteContext): void {
    app.get('/health', async () => {
        await context.store.getSyncId()
        return { status: 'ok' }
    })
}
