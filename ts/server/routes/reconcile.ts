import { Readable } from 'stream'
import type { FastifyInstance } from 'fastify'
import { HttpError } from '../errors'
import { reconcileBodySchema } from '../schemas'
import { jsonEqual, stringifyJson } from '../json-values'
import { yieldToEventLoop } from '../request-guard'
import type { DocStore, IncomingDoc, StoredDoc } from '../store/types'
import { checkDataSizesInChunks, toDocOut } from './context'
import type { RouteContext } from './context'

/** Page size of the server-side walk over a user's documents. */
const LIST_PAGE = 1000

/**
 * `POST /Reconcile` (seed 003): a client whose SyncId is stale sends its entire state. The
 * server merges it last-write-wins, then returns every stored document the client lacks or
 * holds in an older (or, at an equal version, different) form, the server's SyncId, and the
 * cursor to continue pulling from. No SyncId check: this is how a client learns the current one.
 */
export function registerReconcileRoutes(app: FastifyInstance, context: RouteContext): void {
    const { store, limits } = context

    app.post<{ Body: { clientId: string; docs: IncomingDoc[] } }>(
        '/Reconcile',
        { bodyLimit: limits.reconcileBodyBytes, schema: { body: reconcileBodySchema(limits) } },
        async (request, reply) => {
            const { clientId, docs } = request.body
            const userId = request.userId
            if (docs.length > limits.reconcileDocs) {
                throw new HttpError(413, 'TOO_MANY_DOCS', `At most ${limits.reconcileDocs} documents per reconciliation (got ${docs.length})`)
            }
            // Every check comes before the write: nothing after it may fail on the request's content.
            await checkDataSizesInChunks(docs, limits)
            const syncId = await store.getSyncId()
            const clientState = latestPerId(docs)
            // In chunks, other requests let in between: a 100,000-document state otherwise holds
            // the event loop for seconds.
            const held = [...clientState.values()]
            for (let start = 0; start < held.length; start += LIST_PAGE) {
                await yieldToEventLoop()
                const newer = await newerThanStored(store, userId, held.slice(start, start + LIST_PAGE))
                if (newer.length) {
                    await store.upsertDocs({ userId, clientId, docs: newer, nowMs: context.now() })
                }
            }
            // The answer is streamed page by page, so the service never holds the documents the
            // client lacks (for a new device: all of them) next to their serialization.
            reply.type('application/json; charset=utf-8')
            return reply.send(Readable.from(streamMissing(store, userId, syncId, clientState)))
        },
    )
}

/**
 * `{"syncId":…,"docs":[…],"cursor":…}`: every stored document, walked in seq order, that the
 * client lacks. Seqs become visible in order, so the last seq seen is a cursor below which
 * nothing new can still appear (invariant 4): the client pulls on from it. Should the walk fail
 * midway the stream breaks off, and the client, finding the body cut, tries again.
 */
async function* streamMissing(store: DocStore, userId: string, syncId: string, clientState: Map<string, IncomingDoc>): AsyncGenerator<string> {
    yield `{"syncId":${JSON.stringify(syncId)},"docs":[`
    let cursor = 0
    let first = true
    for (;;) {
        await yieldToEventLoop()
        const page = await store.listDocs({ userId, afterSeq: cursor, limit: LIST_PAGE })
        const parts: string[] = []
        for (const doc of page) {
            const held = clientState.get(doc.id)
            if (!held || held.clientVersion < doc.clientVersion || (held.clientVersion === doc.clientVersion && !sameContent(doc, held))) {
                parts.push(stringifyJson(toDocOut(doc)))
            }
        }
        if (parts.length) {
            yield (first ? '' : ',') + parts.join(',')
            first = false
        }
        if (page.length) {
            cursor = page[page.length - 1].seq
        }
        if (page.length < LIST_PAGE) {
            yield `],"cursor":${cursor}}`
            return
        }
    }
}

/** The client's newest document per id (a state should not repeat ids, but may). */
function latestPerId(docs: IncomingDoc[]): Map<string, IncomingDoc> {
    const state = new Map<string, IncomingDoc>()
    for (const doc of docs) {
        const held = state.get(doc.id)
        if (!held || held.clientVersion <= doc.clientVersion) {
            state.set(doc.id, doc)
        }
    }
    return state
}

/**
 * The client documents the server lacks or holds in an older version. An equal version is not
 * written: a client's state mostly holds documents it received from others, and re-stamping
 * them under its clientId would make every other client download them again. (The store's
 * upsert still decides, so a concurrent newer write is never overwritten.)
 */
async function newerThanStored(store: DocStore, userId: string, docs: IncomingDoc[]): Promise<IncomingDoc[]> {
    const stored = new Map((await store.getDocs({ userId, ids: docs.map((doc) => doc.id) })).map((doc) => [doc.id, doc]))
    return docs.filter((doc) => {
        const current = stored.get(doc.id)
        return !current || current.clientVersion < doc.clientVersion || (current.clientVersion === 0 && doc.clientVersion === 0 && !sameContent(current, doc))
    })
}

function sameContent(stored: StoredDoc, held: IncomingDoc): boolean {
    return stored.deleted === (held.deleted ?? false) && jsonEqual(stored.data, held.data)
}

/** Deep equality of JSON values, independent of object key order (iterative: stored data may be deep). */
export { jsonEqual } from '../json-values'
