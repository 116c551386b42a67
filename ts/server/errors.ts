import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { SyncError } from '../errors'
import { IDENTIFIER_RULE, InvalidIdentifierError, invalidIdentifierField } from './identifiers'

/**
 * Every error the service answers with is `{ error: { code, message } }` (plus `syncId` on a
 * 409), so clients branch on a stable `code`. Bad input never becomes a 500: fastify's own
 * validation, parser and body-limit errors are mapped to 400/413 here.
 */

/** An error with the HTTP status the service answers it with. */
export class HttpError extends SyncError {
    constructor(readonly statusCode: number, code: string, message: string, readonly extra: Record<string, unknown> = {}) {
        super(code, message)
    }
}

/** The client's SyncId is not the server's: the client must reconcile (seed 003). */
export class SyncIdMismatchError extends HttpError {
    constructor(readonly serverSyncId: string, clientSyncId: string) {
        super(409, 'SYNC_ID_MISMATCH', `SyncId '${clientSyncId}' does not match the server's; reconcile with POST /Reconcile`, {
            syncId: serverSyncId,
        })
    }
}

export function badRequest(code: string, message: string): HttpError {
    return new HttpError(400, code, message)
}

export interface ErrorBody {
    /** `field` is set on INVALID_IDENTIFIER: the identifier at fault, e.g. `body/docs/0/id`. */
    error: { code: string; message: string; field?: string }
    syncId?: string
}

/** fastify error codes that mean "the client sent something wrong", with our status and code. */
const FASTIFY_CODES: Record<string, [number, string]> = {
    FST_ERR_CTP_INVALID_JSON_BODY: [400, 'MALFORMED_JSON'],
    FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'MALFORMED_JSON'],
    FST_ERR_CTP_BODY_TOO_LARGE: [413, 'BODY_TOO_LARGE'],
    FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'UNSUPPORTED_MEDIA_TYPE'],
    FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'INVALID_CONTENT_LENGTH'],
    FST_ERR_VALIDATION: [400, 'VALIDATION'],
    FST_ERR_BAD_URL: [400, 'BAD_URL'],
    FST_ERR_MAX_PARAM_LENGTH: [414, 'URI_TOO_LONG'],
    FST_ERR_ASYNC_CONSTRAINT: [400, 'BAD_REQUEST'],
}

/**
 * fastify's `frameworkErrors` option: router errors (malformed URL, a too long path parameter)
 * answered before any route runs, in our error format.
 */
export function frameworkErrorHandler(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
    const [status, code] = FASTIFY_CODES[error.code] ?? [400, 'BAD_REQUEST']
    reply.status(status).send(body(code, error.message))
}

/** Store errors caused by the request's content (the store re-checks what the schemas check). */
const STORE_CODES: Record<string, number> = {
    INVALID_DOCUMENT: 400,
    INVALID_REQUEST: 400,
    INVALID_IDENTIFIER: 400,
    SYNC_ID_MISMATCH: 409,
}

export function installErrorHandlers(app: FastifyInstance): void {
    app.setErrorHandler((caught: FastifyError | SyncError, request, reply) => {
        const error = caught as FastifyError
        if (caught instanceof HttpError) {
            return reply.status(caught.statusCode).send({ error: { code: caught.code, message: caught.message }, ...caught.extra })
        }
        if (caught instanceof SyncError && STORE_CODES[caught.code]) {
            const serverSyncId = (caught as SyncError & { serverSyncId?: unknown }).serverSyncId
            const extra = typeof serverSyncId === 'string' ? { syncId: serverSyncId } : {}
            if (caught instanceof InvalidIdentifierError) {
                return reply.status(400).send({ error: { code: caught.code, message: caught.message, field: caught.field } })
            }
            return reply.status(STORE_CODES[caught.code]).send({ ...body(caught.code, caught.message), ...extra })
        }
        const identifierField = error.validation ? invalidIdentifierField(error.validation, error.validationContext) : undefined
        if (identifierField !== undefined) {
            return reply.status(400).send({ error: { code: 'INVALID_IDENTIFIER', message: `${identifierField} ${IDENTIFIER_RULE}`, field: identifierField } })
        }
        if (error.validation) {
            return reply.status(400).send(body('VALIDATION', error.message))
        }
        const known = error.code ? FASTIFY_CODES[error.code] : undefined
        if (known) {
            return reply.status(known[0]).send(body(known[1], error.message))
        }
        // JSON.parse errors from the body parser carry a 4xx status but no FST code.
        if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
            return reply.status(error.statusCode).send(body('BAD_REQUEST', error.message))
        }
        request.log.error({ err: error }, 'unexpected error')
        return reply.status(500).send(body('INTERNAL', 'Internal server error'))
    })
    app.setNotFoundHandler((request, reply) => {
        reply.status(404).send(body('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`))
    })
}

function body(code: string, message: string): ErrorBody {
    return { error: { code, message } }
}
