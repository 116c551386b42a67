import type { FastifyInstance } from 'fastify'
import { v4 as uuidv4 } from 'uuid'
import { ackBodySchema, deviceParamsSchema, registerDeviceBodySchema, syncIdHeaderSchema } from '../schemas'
import { HttpError } from '../errors'
import { checkSyncId } from './context'
import type { RouteContext } from './context'

/**
 * Devices and their acknowledged cursors, so a device that lost its cursor resumes from the last
 * position it confirmed having applied.
 */
export function registerDeviceRoutes(app: FastifyInstance, context: RouteContext, options: { generateDeviceId?: () => string } = {}): void {
    const { store } = context
    const generate = options.generateDeviceId ?? uuidv4

    app.post<{ Body: { deviceId?: string } | undefined }>(
        '/Devices',
        { schema: { body: registerDeviceBodySchema } },
        async (request) => {
            const deviceId = request.body?.deviceId ?? generate()
            await store.registerDevice({ userId: request.userId, deviceId, nowMs: context.now() })
            return { deviceId }
        },
    )

    app.get<{ Params: { deviceId: string } }>('/Devices/:deviceId', { schema: { params: deviceParamsSchema } }, async (request) => {
        const { deviceId } = request.params
        const cursor = await store.getDeviceCursor({ userId: request.userId, deviceId })
        return { syncId: await store.getSyncId(), deviceId, cursor }
    })

    app.post<{ Params: { deviceId: string }; Body: { cursor: number; syncId?: string } }>(
        '/Devices/:deviceId/Ack',
        { schema: { params: deviceParamsSchema, body: ackBodySchema, headers: syncIdHeaderSchema } },
        async (request) => {
            const syncId = await checkSyncId(context, request, request.body.syncId)
            const { deviceId } = request.params
            const { userId } = request
            // A user's last seq only grows, so a cursor within it now stays within it. A cursor
            // beyond it would make a device that resumes from it skip changes not yet written.
            const lastSeq = await store.lastSeq({ userId })
            if (request.body.cursor > lastSeq) {
                throw new HttpError(400, 'CURSOR_AHEAD', `Cursor ${request.body.cursor} is beyond the last seq ${lastSeq} of this user`, { lastSeq })
            }
            await store.registerDevice({ userId, deviceId, nowMs: context.now() })
            await store.acknowledge({ userId, deviceId, cursor: request.body.cursor })
            // The stored cursor never moves back: an older ack answers the newer cursor it kept.
            const cursor = (await store.getDeviceCursor({ userId, deviceId })) ?? request.body.cursor
            return { syncId, deviceId, cursor }
        },
    )
}
