import type { FastifyInstance } from 'fastify'
import type { LiveHub } from './hub'

export interface LiveRouteOptions {
    /** A comment line is sent this often so proxies keep the idle stream open and clients notice a dead one. Default: 25000. */
    keepAliveMs?: number
}

export const DEFAULT_LIVE_KEEP_ALIVE_MS = 25_000

const liveQuerySchema = {
    type: 'object',
    required: ['clientId'],
    additionalProperties: false,
    properties: { clientId: { type: 'string', minLength: 1, maxLength: 256 } },
} as const

/**
 * `GET /Live?clientId=<deviceId>`: a server-sent-events stream of "something new after seq N"
 * for the user of the request (authenticated like every route, by its `Authorization` header).
 * Events: `ready` once (`{ keepAliveMs }`), then `change` (`{ seq }`) after each committed write
 * of another device of the user, and a `: keep-alive` comment every `keepAliveMs`.
 */
export function registerLiveRoutes(app: FastifyInstance, hub: LiveHub, options: LiveRouteOptions = {}): void {
    const keepAliveMs = options.keepAliveMs ?? DEFAULT_LIVE_KEEP_ALIVE_MS
    const open = new Set<() => void>()

    app.get<{ Querystring: { clientId: string } }>('/Live', { schema: { querystring: liveQuerySchema } }, (request, reply) => {
        reply.hijack()
        const raw = reply.raw
        // Headers set by hooks (CORS) would be lost by writing the raw response directly.
        for (const [name, value] of Object.entries(reply.getHeaders())) {
            if (value !== undefined) {
                raw.setHeader(name, value)
            }
        }
        raw.writeHead(200, {
            'content-type': 'text/event-stream; charset=utf-8',
            'cache-control': 'no-cache, no-transform',
            connection: 'keep-alive',
            // Tells nginx-like proxies not to buffer the stream.
            'x-accel-buffering': 'no',
        })
        let blocked = false
        let latest: number | null = null
        const write = (text: string): void => {
            if (!raw.writableEnded && !raw.destroyed) {
                blocked = !raw.write(text)
            }
        }
        const sendLatest = (): void => {
            if (latest !== null && !blocked) {
                const seq = latest
                latest = null
                write(`event: change\ndata: {"seq":${seq}}\n\n`)
            }
        }
        // A slow reader gets only the newest seq once its socket drains: a hint needs no backlog.
        raw.on('drain', () => {
            blocked = false
            sendLatest()
        })
        write(`event: ready\ndata: ${JSON.stringify({ keepAliveMs })}\n\n`)
        const unsubscribe = hub.subscribe({
            userId: request.userId,
            deviceId: request.query.clientId,
            notify: seq => {
                latest = latest === null ? seq : Math.max(latest, seq)
                sendLatest()
            },
        })
        const keepAlive = setInterval(() => {
            if (!blocked) {
                write(': keep-alive\n\n')
            }
        }, keepAliveMs)
        const end = (): void => {
            if (!open.delete(end)) {
                return
            }
            clearInterval(keepAlive)
            unsubscribe()
            if (!raw.writableEnded) {
                raw.end()
            }
        }
        open.add(end)
        // The response closes when the client goes away (or when `end` ended it).
        raw.on('close', end)
    })

    // Open streams never end by themselves; without this, closing the server would wait for them.
    app.addHook('preClose', done => {
        for (const end of [...open]) {
            end()
        }
        done()
    })
    app.addHook('onClose', async () => {
        await hub.close()
    })
}
