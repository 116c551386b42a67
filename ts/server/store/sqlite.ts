/**
 * The embedded store: one SQLite file through better-sqlite3 (WAL for files). Every write is one
 * BEGIN IMMEDIATE transaction, so writes are atomic and serialized database-wide; seq numbers
 * therefore become visible in order (invariant 4) without further locking.
 */
import type Database from 'better-sqlite3'
import { v4 as uuidv4 } from 'uuid'
import { SyncConfigurationError, SyncError } from '../../errors'
import {
    planUpsert,
    requireCount,
    requireIdentifier,
    requireNonEmptyString,
    requireOptionalCount,
    pageCursor,
    StoredVersion,
    SyncIdMismatchError,
    toSafeInteger,
    toUtcString,
    validateDocs,
} from './doc-rules'
import { SQLITE_MIGRATIONS } from './sqlite-schema'
import { DocQuery, DocQueryResult, DocStore, IncomingDoc, StoredDoc, TokenInfo, UpsertResult, tokenIdOf } from './types'

export interface SqliteDocStoreOptions {
    /** A file path, or ':memory:'. */
    filename: string
    /** How long a write waits for another process holding the file's write lock (default 5000). */
    busyTimeoutMs?: number
}

interface DocRow {
    id: string
    client_version: number
    client_id: string
    data: string
    deleted: number
    last_update_ms: number
    seq: number
}

const DOC_COLUMNS = 'id, client_version, client_id, data, deleted, last_update_ms, seq'
const SYNC_ID_KEY = 'sync_id'
const ID_CHUNK = 500

export class SqliteDocStore implements DocStore {
    private database?: Database.Database
    private readonly statements = new Map<string, Database.Statement>()

    constructor(private readonly options: SqliteDocStoreOptions) {}

    async init(): Promise<void> {
        if (this.database) {
            return
        }
        // Loaded here, not at import: `storex-synclog/server` serves PostgreSQL without `better-sqlite3` installed.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const BetterSqlite = require('better-sqlite3') as typeof import('better-sqlite3')
        const db = new BetterSqlite(this.options.filename)
        try {
            db.pragma(`busy_timeout = ${this.options.busyTimeoutMs ?? 5000}`)
            if (this.options.filename !== ':memory:' && this.options.filename !== '') {
                db.pragma('journal_mode = WAL')
                db.pragma('synchronous = NORMAL')
            }
            db.transaction(() => {
                db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL)')
                const applied = new Set(
                    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map(row => row.version),
                )
                for (const migration of SQLITE_MIGRATIONS) {
                    if (!applied.has(migration.version)) {
                        db.exec(migration.sql)
                        db.prepare('INSERT INTO schema_migrations (version, applied_ms) VALUES (?, ?)').run(migration.version, Date.now())
                    }
                }
                db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING').run(SYNC_ID_KEY, uuidv4())
            }).immediate()
        } catch (error) {
            db.close()
            throw error
        }
        this.database = db
    }

    async close(): Promise<void> {
        this.statements.clear()
        this.database?.close()
        this.database = undefined
    }

    /** A prepared statement, cached per SQL text (the store's SQL comes in a handful of shapes). */
    private prepare(sql: string): Database.Statement {
        let statement = this.statements.get(sql)
        if (!statement) {
            statement = this.db.prepare(sql)
            this.statements.set(sql, statement)
        }
        return statement
    }

    private get db(): Database.Database {
        if (!this.database) {
            throw new SyncConfigurationError('SqliteDocStore: call init() before using the store')
        }
        return this.database
    }

    async getSyncId(): Promise<string> {
        return this.readSyncId()
    }

    private readSyncId(): string {
        const row = this.prepare('SELECT value FROM meta WHERE key = ?').get(SYNC_ID_KEY) as { value: string } | undefined
        if (!row) {
            throw new SyncError('STORE_CORRUPT', 'The store has no SyncId')
        }
        return row.value
    }

    async reset(): Promise<string> {
        const db = this.db
        const syncId = uuidv4()
        db.transaction(() => {
            db.exec('DELETE FROM docs; DELETE FROM devices;')
            this.prepare('UPDATE meta SET value = ? WHERE key = ?').run(syncId, SYNC_ID_KEY)
        }).immediate()
        return syncId
    }

    async upsertDocs(options: {
        userId: string
        clientId: string
        docs: IncomingDoc[]
        nowMs: number
        syncId?: string
    }): Promise<UpsertResult[]> {
        const userId = requireIdentifier(options.userId, 'userId')
        const clientId = requireIdentifier(options.clientId, 'clientId')
        const nowMs = requireCount(options.nowMs, 'nowMs', 0)
        const docs = validateDocs(options.docs)
        const db = this.db
        const selectDoc = this.prepare('SELECT client_version, client_id, seq, last_update_ms FROM docs WHERE user_id = ? AND id = ?')
        const writeDoc = this.prepare(`
            INSERT INTO docs (user_id, id, client_version, client_id, data, deleted, last_update_ms, seq)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (user_id, id) DO UPDATE SET
                client_version = excluded.client_version, client_id = excluded.client_id, data = excluded.data,
                deleted = excluded.deleted, last_update_ms = excluded.last_update_ms, seq = excluded.seq`)
        return db
            .transaction((): UpsertResult[] => {
                if (options.syncId !== undefined) {
                    const serverSyncId = this.readSyncId()
                    if (options.syncId !== serverSyncId) {
                        throw new SyncIdMismatchError(serverSyncId, options.syncId)
                    }
                }
                this.prepare('INSERT INTO users (user_id, last_seq, created_ms) VALUES (?, 0, ?) ON CONFLICT (user_id) DO NOTHING').run(userId, nowMs)
                const { last_seq } = this.prepare('SELECT last_seq FROM users WHERE user_id = ?').get(userId) as { last_seq: number }
                const stored = new Map<string, StoredVersion>()
                for (const doc of docs) {
                    if (!stored.has(doc.id)) {
                        const row = selectDoc.get(userId, doc.id) as
                            | { client_version: number; client_id: string; seq: number; last_update_ms: number }
                            | undefined
                        if (row) {
                            stored.set(doc.id, {
                                clientVersion: row.client_version,
                                clientId: row.client_id,
                                seq: row.seq,
                                lastUpdateMs: row.last_update_ms,
                            })
                        }
                    }
                }
                const plan = planUpsert({ stored, docs, clientId, nowMs, lastSeq: last_seq })
                for (const w of plan.writes) {
                    writeDoc.run(userId, w.id, w.clientVersion, w.clientId, w.dataJson, w.deleted ? 1 : 0, w.lastUpdateMs, w.seq)
                }
                if (plan.lastSeq !== last_seq) {
                    this.prepare('UPDATE users SET last_seq = ? WHERE user_id = ?').run(plan.lastSeq, userId)
                }
                return plan.results
            })
            .immediate()
    }

    async queryDocs(query: DocQuery): Promise<DocQueryResult> {
        const userId = requireIdentifier(query.userId, 'userId')
        const limit = requireCount(query.limit, 'limit', 1)
        const sinceSeq = requireOptionalCount(query.sinceSeq, 'sinceSeq')
        const sinceUtcMs = requireOptionalCount(query.sinceUtcMs, 'sinceUtcMs')
        const conditions = ['user_id = ?', 'seq > ?']
        const params: unknown[] = [userId, sinceSeq ?? 0]
        if (query.excludeClientId !== undefined) {
            requireIdentifier(query.excludeClientId, 'excludeClientId')
            conditions.push('client_id <> ?')
            params.push(query.excludeClientId)
        }
        if (sinceUtcMs !== undefined) {
            conditions.push('last_update_ms >= ?')
            params.push(sinceUtcMs)
        }
        params.push(limit + 1)
        const sql = `SELECT ${DOC_COLUMNS} FROM docs INDEXED BY docs_user_seq WHERE ${conditions.join(' AND ')} ORDER BY seq LIMIT ?`
        // One read transaction: the user's last seq is of the same snapshot as the page.
        return this.db
            .transaction(() => {
                const rows = this.prepare(sql).all(...params) as DocRow[]
                const hasMore = rows.length > limit
                const docs = rows.slice(0, limit).map(rowToDoc)
                const lastSeq = hasMore ? 0 : this.lastSeqOf(userId)
                return { docs, hasMore, cursor: pageCursor(docs, hasMore, sinceSeq ?? 0, lastSeq) }
            })
            .deferred()
    }

    async getDocs(options: { userId: string; ids: string[] }): Promise<StoredDoc[]> {
        const userId = requireIdentifier(options.userId, 'userId')
        const ids = [...new Set(options.ids)]
        options.ids.forEach((id, index) => requireIdentifier(id, `ids/${index}`))
        const found = new Map<string, StoredDoc>()
        for (let start = 0; start < ids.length; start += ID_CHUNK) {
            const chunk = ids.slice(start, start + ID_CHUNK)
            const sql = `SELECT ${DOC_COLUMNS} FROM docs WHERE user_id = ? AND id IN (${chunk.map(() => '?').join(', ')})`
            const rows = this.db.prepare(sql).all(userId, ...chunk) as DocRow[] // not cached: one shape per chunk size
            for (const row of rows) {
                found.set(row.id, rowToDoc(row))
            }
        }
        return ids.filter(id => found.has(id)).map(id => found.get(id)!)
    }

    async listDocs(options: { userId: string; afterSeq: number; limit: number }): Promise<StoredDoc[]> {
        const userId = requireIdentifier(options.userId, 'userId')
        const afterSeq = requireCount(options.afterSeq, 'afterSeq', 0)
        const limit = requireCount(options.limit, 'limit', 1)
        const sql = `SELECT ${DOC_COLUMNS} FROM docs INDEXED BY docs_user_seq WHERE user_id = ? AND seq > ? ORDER BY seq LIMIT ?`
        const rows = this.prepare(sql).all(userId, afterSeq, limit) as DocRow[]
        return rows.map(rowToDoc)
    }

    async registerDevice(options: { userId: string; deviceId: string; nowMs: number }): Promise<void> {
        const userId = requireIdentifier(options.userId, 'userId')
        const deviceId = requireIdentifier(options.deviceId, 'deviceId')
        const nowMs = requireCount(options.nowMs, 'nowMs', 0)
        this.prepare(`
            INSERT INTO devices (user_id, device_id, registered_ms, last_seen_ms, cursor) VALUES (?, ?, ?, ?, 0)
            ON CONFLICT (user_id, device_id) DO UPDATE SET
                registered_ms = coalesce(devices.registered_ms, excluded.registered_ms), last_seen_ms = excluded.last_seen_ms`,
        ).run(userId, deviceId, nowMs, nowMs)
    }

    async acknowledge(options: { userId: string; deviceId: string; cursor: number }): Promise<void> {
        const userId = requireIdentifier(options.userId, 'userId')
        const deviceId = requireIdentifier(options.deviceId, 'deviceId')
        const cursor = requireCount(options.cursor, 'cursor', 0)
        this.prepare(`
            INSERT INTO devices (user_id, device_id, cursor) VALUES (?, ?, ?)
            ON CONFLICT (user_id, device_id) DO UPDATE SET cursor = max(devices.cursor, excluded.cursor)`,
        ).run(userId, deviceId, cursor)
    }

    async getDeviceCursor(options: { userId: string; deviceId: string }): Promise<number | null> {
        requireIdentifier(options.userId, 'userId')
        requireIdentifier(options.deviceId, 'deviceId')
        const row = this.prepare('SELECT cursor FROM devices WHERE user_id = ? AND device_id = ?').get(options.userId, options.deviceId) as
            | { cursor: number }
            | undefined
        return row ? row.cursor : null
    }

    async createToken(options: { userId: string; tokenHash: string; nowMs: number }): Promise<void> {
        const userId = requireIdentifier(options.userId, 'userId')
        const tokenHash = requireNonEmptyString(options.tokenHash, 'tokenHash')
        const nowMs = requireCount(options.nowMs, 'nowMs', 0)
        const db = this.db
        db.transaction(() => {
            this.prepare('INSERT INTO users (user_id, last_seq, created_ms) VALUES (?, 0, ?) ON CONFLICT (user_id) DO NOTHING').run(userId, nowMs)
            this.prepare('INSERT INTO tokens (token_hash, user_id, created_ms, token_id) VALUES (?, ?, ?, ?) ON CONFLICT (token_hash) DO NOTHING')
                .run(tokenHash, userId, nowMs, tokenIdOf(tokenHash))
            const owner = this.prepare('SELECT user_id FROM tokens WHERE token_hash = ?').get(tokenHash) as { user_id: string }
            if (owner.user_id !== userId) {
                throw new SyncError('TOKEN_CONFLICT', 'This token hash already belongs to another user')
            }
        }).immediate()
    }

    async findUserByTokenHash(tokenHash: string): Promise<string | null> {
        const row = this.prepare('SELECT user_id FROM tokens WHERE token_hash = ?').get(tokenHash) as { user_id: string } | undefined
        return row ? row.user_id : null
    }

    async listTokens(options: { userId?: string } = {}): Promise<TokenInfo[]> {
        const rows = (options.userId === undefined
            ? this.prepare('SELECT token_id, user_id, created_ms FROM tokens ORDER BY created_ms, token_id').all()
            : this.prepare('SELECT token_id, user_id, created_ms FROM tokens WHERE user_id = ? ORDER BY created_ms, token_id').all(
                  requireIdentifier(options.userId, 'userId'),
              )) as { token_id: string; user_id: string; created_ms: number }[]
        return rows.map(row => ({ tokenId: row.token_id, userId: row.user_id, createdMs: row.created_ms }))
    }

    async revokeToken(options: { tokenId: string }): Promise<boolean> {
        const tokenId = requireNonEmptyString(options.tokenId, 'tokenId')
        return this.prepare('DELETE FROM tokens WHERE token_id = ?').run(tokenId).changes > 0
    }

    async lastSeq(options: { userId: string }): Promise<number> {
        return this.lastSeqOf(requireIdentifier(options.userId, 'userId'))
    }

    /** Synchronous, so it can run inside a better-sqlite3 transaction. */
    private lastSeqOf(userId: string): number {
        const row = this.prepare('SELECT last_seq FROM users WHERE user_id = ?').get(userId) as { last_seq: number } | undefined
        return row ? row.last_seq : 0
    }
}

function rowToDoc(row: DocRow): StoredDoc {
    return {
        id: row.id,
        clientVersion: toSafeInteger(row.client_version, 'clientVersion'),
        data: JSON.parse(row.data),
        deleted: row.deleted === 1,
        clientId: row.client_id,
        lastUpdateUtc: toUtcString(row.last_update_ms),
        seq: row.seq,
    }
}
