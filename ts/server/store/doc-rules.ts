/**
 * The store-independent part of the document protocol (seed 000): input validation and the
 * upsert decision. Both stores read the current versions under their per-user write lock, run
 * `planUpsert`, and write what it returns, so SQLite and PostgreSQL decide identically.
 */
import { SyncError } from '../../errors'
import { isValidIdentifier, InvalidIdentifierError } from '../identifiers'
import { IncomingDoc, UpsertResult, UpsertStatus } from './types'

export const MAX_DOC_ID_LENGTH = 1024

/** A document in an upsert call is malformed; nothing of that call was stored. */
export class InvalidDocumentError extends SyncError {
    constructor(readonly index: number, readonly docId: unknown, reason: string) {
        super('INVALID_DOCUMENT', `Document #${index}${typeof docId === 'string' ? ` '${docId.slice(0, 100)}'` : ''}: ${reason}`)
    }
}

/** A store call got an argument it cannot serve (empty user id, bad limit, ...). */
export class InvalidStoreRequestError extends SyncError {
    constructor(reason: string) {
        super('INVALID_REQUEST', reason)
    }
}

/** The write carried a SyncId that is not the server's (seed 003); nothing was stored. */
export class SyncIdMismatchError extends SyncError {
    constructor(readonly serverSyncId: string, readonly clientSyncId: string) {
        super('SYNC_ID_MISMATCH', `SyncId '${clientSyncId}' does not match the server's SyncId '${serverSyncId}'`)
    }
}

/** The version a stored document was written with. */
export interface DocVersion {
    clientVersion: number
    clientId: string
}

/**
 * Whether an incoming version replaces the stored one: always when absent; when both
 * clientVersions are 0; otherwise when (clientVersion, clientId) is lexicographically greater.
 * An equal pair is an idempotent retry and is discarded.
 */
export function decideUpsert(stored: DocVersion | undefined, incoming: DocVersion): UpsertStatus {
    if (!stored) {
        return 'created'
    }
    if (stored.clientVersion === 0 && incoming.clientVersion === 0) {
        return 'updated'
    }
    if (stored.clientVersion !== incoming.clientVersion) {
        return stored.clientVersion < incoming.clientVersion ? 'updated' : 'discarded'
    }
    return stored.clientId < incoming.clientId ? 'updated' : 'discarded'
}

export function requireNonEmptyString(value: unknown, what: string): string {
    if (typeof value !== 'string' || value.length === 0) {
        throw new InvalidStoreRequestError(`${what} must be a non-empty string`)
    }
    return value
}

/**
 * A key the store indexes rows by (user, client, device): a non-empty string (else
 * InvalidStoreRequestError) that follows the identifier rule (else InvalidIdentifierError), the
 * same on every store.
 */
export function requireIdentifier(value: unknown, what: string): string {
    const text = requireNonEmptyString(value, what)
    if (!isValidIdentifier(text)) {
        throw new InvalidIdentifierError(what)
    }
    return text
}

export function requireCount(value: unknown, what: string, min: number): number {
    if (!Number.isSafeInteger(value) || (value as number) < min) {
        throw new InvalidStoreRequestError(`${what} must be an integer >= ${min}, got ${String(value)}`)
    }
    return value as number
}

export function requireOptionalCount(value: unknown, what: string): number | undefined {
    return value === undefined ? undefined : requireCount(value, what, 0)
}

/** A checked document, its data already serialized to the JSON text the stores keep. */
export interface ValidDoc {
    id: string
    clientVersion: number
    dataJson: string
    deleted: boolean
}

/** Checks every document of a call before anything is written, so a bad one stores nothing. */
export function validateDocs(docs: unknown): ValidDoc[] {
    if (!Array.isArray(docs)) {
        throw new InvalidStoreRequestError('docs must be an array')
    }
    return docs.map((doc, index): ValidDoc => {
        if (doc === null || typeof doc !== 'object') {
            throw new InvalidDocumentError(index, undefined, 'not an object')
        }
        const { id, clientVersion, data, deleted } = doc as IncomingDoc
        if (typeof id !== 'string' || id.length === 0) {
            throw new InvalidDocumentError(index, id, 'id must be a non-empty string')
        }
        if (id.length > MAX_DOC_ID_LENGTH) {
            throw new InvalidDocumentError(index, id, `id is longer than ${MAX_DOC_ID_LENGTH} characters`)
        }
        if (!isValidIdentifier(id)) {
            throw new InvalidIdentifierError(`docs/${index}/id`)
        }
        if (!Number.isSafeInteger(clientVersion) || clientVersion < 0) {
            throw new InvalidDocumentError(index, id, `clientVersion must be a non-negative safe integer, got ${String(clientVersion)}`)
        }
        if (data === undefined || (data !== null && (typeof data !== 'object' || Array.isArray(data)))) {
            throw new InvalidDocumentError(index, id, 'data must be an object or null')
        }
        if (deleted !== undefined && typeof deleted !== 'boolean') {
            throw new InvalidDocumentError(index, id, 'deleted must be a boolean')
        }
        let dataJson: string
        try {
            dataJson = JSON.stringify(data)
        } catch (error) {
            throw new InvalidDocumentError(index, id, `data is not JSON-serializable (${(error as Error).message})`)
        }
        return { id, clientVersion, dataJson, deleted: deleted === true }
    })
}

/** A document row as a store writes it; `data` is already JSON text. */
export interface DocWrite {
    id: string
    clientVersion: number
    clientId: string
    dataJson: string
    deleted: boolean
    lastUpdateMs: number
    seq: number
}

export interface StoredVersion extends DocVersion {
    seq: number
    lastUpdateMs: number
}

export interface UpsertPlan {
    results: UpsertResult[]
    /** The final row per written id (a doc written twice in one call appears once, last write). */
    writes: DocWrite[]
    lastSeq: number
}

/**
 * Applies the documents of one call in order against the stored versions (which the caller read
 * under its per-user write lock). Every accepted write takes the next seq after `lastSeq`.
 */
export function planUpsert(options: {
    stored: Map<string, StoredVersion>
    docs: ValidDoc[]
    clientId: string
    nowMs: number
    lastSeq: number
}): UpsertPlan {
    const current = new Map(options.stored)
    const writes = new Map<string, DocWrite>()
    let lastSeq = options.lastSeq
    const results = options.docs.map((doc): UpsertResult => {
        const stored = current.get(doc.id)
        const status = decideUpsert(stored, { clientVersion: doc.clientVersion, clientId: options.clientId })
        if (status === 'discarded') {
            return { id: doc.id, status, lastUpdateUtc: toUtcString(stored!.lastUpdateMs), seq: stored!.seq }
        }
        lastSeq += 1
        const write: DocWrite = {
            id: doc.id,
            clientVersion: doc.clientVersion,
            clientId: options.clientId,
            dataJson: doc.dataJson,
            deleted: doc.deleted,
            lastUpdateMs: options.nowMs,
            seq: lastSeq,
        }
        writes.delete(doc.id) // keep the map in order of last write, so rows are written in seq order
        writes.set(doc.id, write)
        current.set(doc.id, write)
        return { id: doc.id, status, lastUpdateUtc: toUtcString(options.nowMs), seq: lastSeq }
    })
    return { results, writes: [...writes.values()], lastSeq }
}

export function toUtcString(ms: number): string {
    return new Date(ms).toISOString()
}

/** Parses a clientVersion read back from a store, refusing anything that is not a safe integer. */
export function toSafeInteger(value: number | string | bigint, what: string): number {
    const n = Number(value)
    if (!Number.isSafeInteger(n)) {
        throw new SyncError('STORE_CORRUPT', `Stored ${what} ${String(value)} is not a safe integer`)
    }
    return n
}

/**
 * The cursor a query page hands back. A page that ends the query passes everything up to the
 * user's last seq (read where every document up to it is visible to the page): the documents it left out (the reader's own, or
 * older than `sinceUtc`) are not walked again by the next query, which for a device that is the
 * only writer would otherwise start from its first own document every time. A cursor never goes back.
 */
export function pageCursor(docs: Array<{ seq: number }>, hasMore: boolean, sinceSeq: number, lastSeq: number): number {
    const lastDoc = docs.length ? docs[docs.length - 1].seq : sinceSeq
    return hasMore ? lastDoc : Math.max(lastDoc, sinceSeq, lastSeq)
}
