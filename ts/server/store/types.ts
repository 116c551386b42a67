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
     * cannot slip in between). Invalid documents throw `InvalidDocumentError`, and ids, user ids or
     * clientIds with NUL or a lone surrogate `InvalidIdentifierError` (on every method that takes
     * them, the same on every store); nothing is stored.
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
    /** Tokens (never their hashes) in creation order, of one user or of all. */
    listTokens(options?: { userId?: string }): Promise<TokenInfo[]>
    /** Deletes a token by its id; resolves whether one was deleted. Its requests get 401 from then on. */
    revokeToken(options: { tokenId: string }): Promise<boolean>

    /** The user's last assigned seq (0 before the first write): no cursor can be beyond it. */
    lastSeq(options: { userId: string }): Promise<number>
}

/** A token as `listTokens` shows it: an id to revoke it by, never the token or its hash. */
export interface TokenInfo {
    /** The first 16 hex digits of the token's SHA-256 hash (`tokenIdOf`). */
    tokenId: string
    userId: string
    createdMs: number
}

/** Length of a token id: a prefix of the token's hash, so existing tokens get one without a secret. */
export const TOKEN_ID_LENGTH = 16

export function tokenIdOf(tokenHash: string): string {
    return tokenHash.slice(0, TOKEN_ID_LENGTH)
}
