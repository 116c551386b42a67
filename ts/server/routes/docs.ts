import type { FastifyInstance } from 'fastify'
import { HttpError, badRequest } from '../errors'
import { docsBodySchema, queryBodySchema, queryStringSchema, syncIdHeaderSchema } from '../schemas'
import type { IncomingDoc, UpsertResult } from '../store/types'
import { yieldToEventLoop } from '../request-guard'
import { checkDataSizesInChunks, checkSyncId, clientSyncId, serializeStoredDocs, toDocOut } from './context'
import type { RouteContext } from './context'

/** Documents per write transaction of a `POST /Docs`; the event loop is yielded between them. */
export const WRITE_CHUNK = 500

interface DocsBody {
    clientId: string
    syncId?: string
    docs: IncomingDoc[]
}

interface QueryString {
    origin?: 'other' | 'all'
    sinceUtc?: string
    since?: string
    limit?: string
}

/** The document routes of seed 000: `POST /Docs` (upsert) and `POST /Docs/Query` (changes since). */
export function registerDocRoutes(app: FastifyInstance, context: RouteContext): void {
    const { store, limits } = context

    app.post<{ Body: DocsBody }>('/Docs', { schema: { body: docsBodySchema(limits), headers: syncIdHeaderSchema } }, async (request) => {
        const body = request.body
        if (body.docs.length > limits.docsPerRequest) {
            throw new HttpError(413, 'TOO_MANY_DOCS', `At most ${limits.docsPerRequest} documents per request (got ${body.docs.length})`)
        }
        await checkDataSizesInChunks(body.docs, limits)
        const syncId = await checkSyncId(context, request, body.syncId)
        // A large batch is written in chunks, one transaction each, with other requests let in
        // between: a retried batch finds the chunks that committed equal and discards them.
        const results: UpsertResult[] = []
        for (let start = 0; start < body.docs.length || start === 0; start += WRITE_CHUNK) {
            if (start > 0) {
                await yieldToEventLoop()
            }
            const chunk = body.docs.length <= WRITE_CHUNK ? body.docs : body.docs.slice(start, start + WRITE_CHUNK)
            results.push(
                ...(await store.upsertDocs({
                    userId: request.userId,
                    clientId: body.clientId,
                    docs: chunk,
                    nowMs: context.now(),
                    // Checked again inside the write transaction, so a concurrent reset cannot slip in.
                    syncId: clientSyncId(request, body.syncId),
                })),
            )
        }
        return {
            syncId,
            results: results.map((result) => ({ id: result.id, status: result.status, lastUpdateUtc: result.lastUpdateUtc })),
        }
    })

    app.post<{ Body: { clientId: string; syncId?: string }; Querystring: QueryString }>(
        '/Docs/Query',
        { schema: { body: queryBodySchema, querystring: queryStringSchema, headers: syncIdHeaderSchema } },
        async (request, reply) => {
            const query = request.query
            const syncId = await checkSyncId(context, request, request.body.syncId)
            const sinceSeq = query.since === undefined ? 0 : Number(query.since)
            const limit = Math.min(query.limit === undefined ? limits.queryLimit : Number(query.limit), limits.maxQueryLimit)
            const result = await store.queryDocs({
                userId: request.userId,
                excludeClientId: (query.origin ?? 'other') === 'other' ? request.body.clientId : undefined,
                sinceUtcMs: query.sinceUtc === undefined ? undefined : parseSinceUtc(query.sinceUtc),
                sinceSeq,
                limit,
            })
            serializeStoredDocs(reply)
            return { syncId, docs: result.docs.map(toDocOut), cursor: result.cursor, hasMore: result.hasMore }
        },
    )
}

/** `sinceUtc` as the seed allows it: ms since epoch, or an ISO-8601 date(-time). */
export function parseSinceUtc(value: string): number {
    if (/^[0-9]{1,16}$/.test(value)) {
        return Number(value)
    }
    const parsed = /^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.]+(Z|[+-][0-9]{2}:?[0-9]{2})?)?$/.test(value) ? Date.parse(value) : NaN
    if (Number.isNaN(parsed)) {
        throw badRequest('VALIDATION', `querystring/sinceUtc '${value}' is neither ISO-8601 nor ms since epoch`)
    }
    return parsed
}
