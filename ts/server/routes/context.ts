import type { FastifyReply, FastifyRequest } from 'fastify'
import { SyncIdMismatchError, badRequest } from '../errors'
import { jsonDepthExceeds, stringifyJson } from '../json-values'
import type { DocStore, StoredDoc } from '../store/types'

/** Bounds on what one request may carry; each exceeded bound is a JSON 413 or 400. */
export interface ServiceLimits {
    /** Largest request body in bytes (413 BODY_TOO_LARGE). Default: 10 MiB. */
    bodyBytes: number
    /** Most documents in one `POST /Docs` (413 TOO_MANY_DOCS). Default: 5000. */
    docsPerRequest: number
    /** Longest document id in characters (400 VALIDATION); the stores hold up to 1024. Default: 1024. */
    idLength: number
    /** Largest document `data` as JSON, in UTF-8 bytes (400 DATA_TOO_LARGE). Default: 256 KiB. */
    dataBytes: number
    /**
     * Deepest nesting of objects and arrays in a document's `data`, `data` itself being level 1
     * (400 DATA_TOO_DEEP), 1..1000. Default: 128 (the library refuses entry values deeper than 64).
     */
    dataDepth: number
    /** Largest `POST /Reconcile` body in bytes: it carries a client's whole state. Default: 64 MiB. */
    reconcileBodyBytes: number
    /** Most documents in one `POST /Reconcile` (413 TOO_MANY_DOCS). Default: 100000. */
    reconcileDocs: number
    /** Default page size of `POST /Docs/Query`. Default: 500. */
    queryLimit: number
    /** Largest `limit` of `POST /Docs/Query` (larger ones are capped). Default: 5000. */
    maxQueryLimit: number
    /**
     * Heavy requests (a `POST /Docs` or `/Reconcile` body over `heavyBodyBytes` or of unknown
     * length) in progress at once; past it 429 `BUSY` with `Retry-After`. With the body limits
     * this bounds the memory bodies take. Default: 2.
     */
    maxHeavyRequests: number
    /** A `POST /Docs` or `/Reconcile` body over this many bytes is heavy. Default: 1 MiB. */
    heavyBodyBytes: number
    /**
     * Time for a request to arrive whole, headers and body, in ms (a slower one is answered 408
     * and closed); 0 for none. Default: 120000.
     */
    requestTimeoutMs: number
    /** Time for the headers to arrive, in ms (at most `requestTimeoutMs`). Default: 60000. */
    headersTimeoutMs: number
}

export const DEFAULT_LIMITS: ServiceLimits = {
    bodyBytes: 10 * 1024 * 1024,
    docsPerRequest: 5000,
    idLength: 1024,
    dataBytes: 256 * 1024,
    dataDepth: 128,
    reconcileBodyBytes: 64 * 1024 * 1024,
    reconcileDocs: 100_000,
    queryLimit: 500,
    maxQueryLimit: 5000,
    maxHeavyRequests: 2,
    heavyBodyBytes: 1024 * 1024,
    requestTimeoutMs: 120_000,
    headersTimeoutMs: 60_000,
}

/** What every route needs. */
export interface RouteContext {
    store: DocStore
    limits: ServiceLimits
    now: () => number
}

/**
 * The server's SyncId, after checking the client's (from the body and/or the `X-Sync-Id`
 * header): one that is given must match, else 409 with the server's SyncId. A request without
 * any is accepted (first contact: the response tells the client the SyncId to keep).
 */
export async function checkSyncId(context: RouteContext, request: FastifyRequest, bodySyncId: string | undefined): Promise<string> {
    const serverSyncId = await context.store.getSyncId()
    const header = request.headers['x-sync-id']
    for (const syncId of [bodySyncId, typeof header === 'string' ? header : undefined]) {
        if (syncId !== undefined && syncId !== serverSyncId) {
            throw new SyncIdMismatchError(serverSyncId, syncId)
        }
    }
    return serverSyncId
}

/** The SyncId the client sent (body first, then the `X-Sync-Id` header), if any. */
export function clientSyncId(request: FastifyRequest, bodySyncId: string | undefined): string | undefined {
    const header = request.headers['x-sync-id']
    return bodySyncId ?? (typeof header === 'string' ? header : undefined)
}

/** A document as the protocol returns it (the writer's clientId stays on the server). */
export interface DocOut {
    id: string
    clientVersion: number
    data: unknown | null
    deleted: boolean
    lastUpdateUtc: string
    seq: number
}

export function toDocOut(doc: StoredDoc): DocOut {
    return {
        id: doc.id,
        clientVersion: doc.clientVersion,
        data: doc.data,
        deleted: doc.deleted,
        lastUpdateUtc: doc.lastUpdateUtc,
        seq: doc.seq,
    }
}

/**
 * Refuses a document whose `data` is too deep or too large, before anything is stored. (The body
 * parser already bounds the depth of the whole body; this names the document.)
 */
export function checkDataSizes(docs: Array<{ id: string; data: unknown }>, limits: ServiceLimits): void {
    for (const doc of docs) {
        if (jsonDepthExceeds(doc.data, limits.dataDepth)) {
            throw badRequest('DATA_TOO_DEEP', `Document '${doc.id}' has data nested deeper than ${limits.dataDepth} levels`)
        }
        if (doc.data !== null && Buffer.byteLength(JSON.stringify(doc.data), 'utf8') > limits.dataBytes) {
            throw badRequest('DATA_TOO_LARGE', `Document '${doc.id}' has data larger than ${limits.dataBytes} bytes`)
        }
    }
}

/** `checkDataSizes` in chunks of `CHECK_CHUNK` documents, yielding to other requests between them. */
export async function checkDataSizesInChunks(docs: Array<{ id: string; data: unknown }>, limits: ServiceLimits): Promise<void> {
    for (let start = 0; start < docs.length; start += CHECK_CHUNK) {
        if (start > 0) {
            await new Promise<void>((resolve) => setImmediate(resolve))
        }
        checkDataSizes(docs.length <= CHECK_CHUNK ? docs : docs.slice(start, start + CHECK_CHUNK), limits)
    }
}

const CHECK_CHUNK = 1000

/**
 * Makes `reply` serialize with `stringifyJson`: documents an older service stored may nest deeper
 * than JSON.stringify's stack allows. (A custom serializer also needs the content type set.)
 */
export function serializeStoredDocs(reply: FastifyReply): void {
    reply.type('application/json; charset=utf-8').serializer(stringifyJson)
}
