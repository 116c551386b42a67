import type { FastifyInstance } from 'fastify'
import { HttpError } from '../errors'
import { reconcileBodySchema } from '../schemas'
import type { DocStore, IncomingDoc, StoredDoc } from '../store/types'
import { checkDataSizes, toDocOut } from './context'
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
        async (request) => {
            const { clientId, docs } = request.body
            const userId = request.userId
            if (docs.length > limits.reconcileDocs) {
                throw new HttpError(413, 'TOO_MANY_DOCS', `At most ${limits.reconcileDocs} documents per reconciliation (got ${docs.length})`)
            }
            checkDataSizes(docs, limits)
            const syncId = await store.getSyncId()
            const clientState = latestPerId(docs)
            const newer = await newerThanStored(store, userId, [...clientState.values()])
            if (newer.length) {
                await store.upsertDocs({ userId, clientId, docs: newer, nowMs: context.now() })
            }
            const { missing, cursor } = await findMissing(store, userId, clientState)
            return { syncId, docs: missing.map(toDocOut), cursor }
        },
    )
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

/**
 * Walks every stored document in seq order. Seqs become visible in order, so the last seq seen
 * is a cursor below which nothing new can still appear (invariant 4): the client pulls on from it.
 */
async function findMissing(store: DocStore, userId: string, clientState: Map<string, IncomingDoc>) {
    const missing: StoredDoc[] = []
    let cursor = 0
    for (;;) {
        const page = await store.listDocs({ userId, afterSeq: cursor, limit: LIST_PAGE })
        for (const doc of page) {
            const held = clientState.get(doc.id)
            if (!held || held.clientVersion < doc.clientVersion || (held.clientVersion === doc.clientVersion && !sameContent(doc, held))) {
                missing.push(doc)
            }
        }
        if (page.length) {
            cursor = page[page.length - 1].seq
        }
        if (page.length < LIST_PAGE) {
            return { missing, cursor }
        }
    }
}

function sameContent(stored: StoredDoc, held: IncomingDoc): boolean {
    return stored.deleted === (held.deleted ?? false) && jsonEqual(stored.data, held.data)
}

/** Deep equality of JSON values, independent of object key order. */
export function jsonEqual(a: unknown, b: unknown): boolean {
    if (a === b) {
        return true
    }
    if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) {
        return false
    }
    if (Array.isArray(a) && Array.isArray(b)) {
        return a.length === b.length && a.every((item, index) => jsonEqual(item, b[index]))
    }
    const left = a as Record<string, unknown>
    const right = b as Record<string, unknown>
    const keys = Object.keys(left)
    return keys.length === Object.keys(right).length && keys.every((key) => Object.prototype.hasOwnProperty.call(right, key) && jsonEqual(left[key], right[key]))
}
