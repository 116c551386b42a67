/**
 * The sync service keeps documents (seed 000) per user behind this interface, so SQLite and
 * PostgreSQL are interchangeable and pass one store test suite.
 */

/** A document as a client sends it. */
export interface IncomingDoc {
    id: string
    /** Client-chosen 64-bit version; the library sends its hybrid-logical-clock version. Safe integer. */
    clientVersion: number
    data: unknown | null
    deleted?: boolean
}

/** A document as the service stores and returns it. */
export interface StoredDoc {
    id: string
    clientVersion: number
    data: unknown | null
    deleted: boolean
    /** The client that provided the current version. */
    clientId: string
    /** Server time of the last accepted write, ISO-8601 with ms. */
    lastUpdateUtc: string
    /** Strictly increasing per user; assigned on every accepted write (the reliable cursor). */
    seq: number
}

export type UpsertStatus = 'created' | 'updated' | 'discarded'

export interface UpsertResult {
    id: string
    status: UpsertStatus
    /** The stored document's lastUpdateUtc after this write (unchanged when discarded). */
    lastUpdateUtc: string
    seq: number
}

export interface DocQuery {
    userId: string
    /** Leave out documents last written by this client (`origin=other`). */
    excludeClientId?: string
    /** Only documents with lastUpdateUtc >= this (ms since epoch). */
    sinceUtcMs?: number
    /** Only documents with seq > this. */
    sinceSeq?: number
    /** At most this many documents, in seq order. */
    limit: number
}

export interface DocQueryResult {
    docs: StoredDoc[]
    /** seq of the last returned document, or the `sinceSeq` given when none were returned. */
    cursor: number
    hasMore: boolean
}

export interface DocStore {
    /** Creates or migrates the schema; creates the SyncId on first start. Idempotent. */
    init(): Promise<void>
    close(): Promise<void>

    /** The server's SyncId: created at first start, immutable until `reset`. */
    getSyncId(): Promise<string>
    /** Wipes all documents and devices (not users or tokens) and issues a new SyncId. */
    reset(): Promise<string>

    /**
     * Upserts documents for one user atomically, serialized per user so that seq numbers become
     * visible in order (invariant 4). A document is written when absent, or when the stored
     * (clientVersion, clientId) is lower than the incoming (clientVersion, clientId), or when both
     * clientVersions are 0; an equal version from the same client is discarded (idempotent retry).
     *
     * With `syncId` given, the write is refused with a `SyncIdMismatchError` (code 'SYNC_ID_MISMATCH')
     * when it is not the server's SyncId, checked atomically with the write (a concurrent `reset`
     * cannot slip in between). Invalid documents throw `InvalidDocumentError`; nothing is stored.
     */
    upsertDocs(options: { userId: string; clientId: string; docs: IncomingDoc[]; nowMs: number; syncId?: string }): Promise<UpsertResult[]>

    queryDocs(query: DocQuery): Promise<DocQueryResult>

    /** Stored documents of a user with the given ids (missing ids are left out). */
    getDocs(options: { userId: string; ids: string[] }): Promise<StoredDoc[]>

    /** Every stored document of a user in seq order, paged (for reconciliation). */
    listDocs(options: { userId: string; afterSeq: number; limit: number }): Promise<StoredDoc[]>

    /** Records a device and its acknowledged cursor. */
    registerDevice(options: { userId: string; deviceId: string; nowMs: number }): Promise<void>
    acknowledge(options: { userId: string; deviceId: string; cursor: number }): Promise<void>
    getDeviceCursor(options: { userId: string; deviceId: string }): Promise<number | null>

    /** Stores a token hash for a user (the plain token never reaches the store). */
    createToken(options: { userId: string; tokenHash: string; nowMs: number }): Promise<void>
    /** The user owning a token hash, or null. */
    findUserByTokenHash(tokenHash: string): Promise<string | null>
}
