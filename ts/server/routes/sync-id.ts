import type { FastifyInstance } from 'fastify'
import type { RouteContext } from './context'

/** `GET /SyncId`: the server's SyncId (seed 003), which clients keep and send with writes. */
export function registerSyncIdRoutes(app: FastifyInstance, context: RouteContext): void {
    app.get('/SyncId', async () => ({ syncId: await context.store.getSyncId() }))
}
