/**
 * Keeps one client's large requests from starving the others, and makes refusals of large
 * bodies reach the client as answers instead of connection resets:
 *
 * - A body whose `Content-Length` is over the route's limit is refused (413) before it is read.
 *   The connection is not closed: Node reads and discards the rest of the upload, so `fetch`
 *   sees the 413 instead of `EPIPE` (closing while the client still sends resets the
 *   connection). A chunked body over the limit is read to its end and discarded (bounded in
 *   time by the request timeout), then refused the same way.
 * - At most `maxHeavyRequests` heavy requests (a `POST /Docs` or `/Reconcile` whose body is over
 *   `heavyBodyBytes` or of unknown length) are in progress at once; past that the
 *   answer is 429 `BUSY` with `Retry-After`, before the body is read. With the body limits this
 *   bounds the memory the service needs for request bodies.
 */
import { Transform } from 'stream'
import type { TransformCallback } from 'stream'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { HttpError } from './errors'

export interface RequestGuardOptions {
    /** Heavy requests in progress at once; more get 429 BUSY. */
    maxHeavyRequests: number
    /** A `POST /Docs` body larger than this (or of unknown length) is heavy. */
    heavyBodyBytes: number
    /** Seconds sent in `Retry-After` with a 429 BUSY. */
    retryAfterSeconds: number
}

/** Routes whose work grows with their body. (A small `/Reconcile` can have a large answer, but that is streamed page by page.) */
const SIZED_HEAVY_ROUTES = new Set(['/Docs', '/Reconcile'])

declare module 'fastify' {
    interface FastifyRequest {
        /** Set while the request holds one of the heavy-request slots. */
        heavySlot: boolean
    }
}

export function installRequestGuard(app: FastifyInstance, options: RequestGuardOptions): void {
    let active = 0
    app.decorateRequest('heavySlot', false)
    app.addHook('onRequest', async (request: FastifyRequest, reply) => {
        const url = request.routeOptions.url
        if (url === undefined || request.method !== 'POST') {
            return
        }
        const header = request.headers['content-length']
        const length = header === undefined ? undefined : Number(header)
        const limit = request.routeOptions.bodyLimit ?? app.initialConfig.bodyLimit ?? Infinity
        if (length !== undefined && length > limit) {
            throw new HttpError(413, 'BODY_TOO_LARGE', `The body (${length} bytes) is larger than this route's limit of ${limit} bytes`)
        }
        const heavy = SIZED_HEAVY_ROUTES.has(url) && (length === undefined || !(length <= options.heavyBodyBytes))
        if (!heavy) {
            return
        }
        if (active >= options.maxHeavyRequests) {
            reply.header('retry-after', String(options.retryAfterSeconds))
            throw new HttpError(429, 'BUSY', `The service is processing ${active} large requests; retry after ${options.retryAfterSeconds} s`)
        }
        active += 1
        request.heavySlot = true
        // 'close' fires once however the exchange ends: answered, failed, or the client gone.
        reply.raw.once('close', () => {
            active -= 1
        })
    })
    app.addHook('preParsing', async (request: FastifyRequest, _reply, payload) => {
        if (request.headers['content-length'] !== undefined) {
            return payload
        }
        const limit = request.routeOptions.bodyLimit ?? app.initialConfig.bodyLimit ?? Infinity
        return payload.pipe(new DiscardOverLimit(limit))
    })
}

/**
 * Passes a chunked body through up to `limit` bytes; past it, reads on and discards, and fails
 * with 413 at the end, so the answer goes out once the client has finished sending.
 */
class DiscardOverLimit extends Transform {
    private received = 0

    constructor(private readonly limit: number) {
        super()
    }

    override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
        this.received += chunk.length
        done(null, this.received > this.limit ? undefined : chunk)
    }

    override _flush(done: TransformCallback): void {
        done(this.received > this.limit ? new HttpError(413, 'BODY_TOO_LARGE', `The body is larger than this route's limit of ${this.limit} bytes`) : null)
    }
}

/** Lets other requests run: between chunks of a large request's work. */
export function yieldToEventLoop(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve))
}
