/**
 * The scale-out store: PostgreSQL through `pg`, safe with several service processes on one
 * database.
 *
 * Invariant 4 (no skipped changes): a write transaction first locks its user's `users` row
 * (SELECT ... FOR UPDATE) and holds it until commit, and takes the next seqs from that row. So a
 * user's writes run one after another, each starting after the previous one is visible, and seqs
 * become visible in increasing order: a reader that has seen seq n has seen every seq below n.
 *
 * `reset` takes an exclusive advisory lock that every write takes shared, so a write never
 * straddles a reset, and a write's SyncId check is atomic with it.
 */
import type { Pool, PoolClient } from 'pg'
import { v4 as uuidv4 } from 'uuid'
import { SyncError } from '../../errors'
import {
    pageCursor,
    planUpsert,
    requireCount,
    requireIdentifier,
    requireNonEmptyString,
    requireOptionalCount,
    StoredVersion,
    SyncIdMismatchError,
    toSafeInteger,
    toUtcString,
    validateDocs,
} from './doc-rules'
import { postgresMigrations, quoteIdentifier } from './postgres-schema'
import { DocQuery, DocQueryResult, DocStore, IncomingDoc, StoredDoc, TokenInfo, UpsertResult, tokenIdOf } from './types'

export interface PostgresDocStoreOptions {
    /** Used to create a pool the store owns (and ends on `close`). */
    connectionString?: string
    /** A pool owned by the caller (not ended on `close`). */
    pool?: Pool
    /** Default 'public'. Created when missing. */
    schema?: string
}

/** First key of the store's two-key advisory locks ('SYNC'); the second is hashtext(schema). */
const LOCK_CLASS = 0x53594e43
/** First key of the reset lock ('SYND'). */
const RESET_LOCK_CLASS = 0x53594e44
const SYNC_ID_KEY = 'sync_id'
const DOC_COLUMNS = 'id, client_version, client_id, data, deleted, last_update_ms, seq'

interface DocRow {
    id: string
    client_version: string
    client_id: string
    data: string
    deleted: boolean
    last_update_ms: string
    seq: string
}

export class PostgresDocStore implements DocStore {
    readonly schema: string
    private readonly pool: Pool
    private readonly ownsPool: boolean
    private readonly t: { meta: string; users: string; docs: string; devices: string; tokens: string; migrations: string }

    constructor(options: PostgresDocStoreOptions) {
        if (!options.pool && !options.connectionString) {
            throw new SyncError('SYNC_CONFIGURATION', 'PostgresDocStore needs a connectionString or a pool')
        }
        this.schema = options.schema ?? 'public'
        if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(this.schema)) {
            throw new SyncError('SYNC_CONFIGURATION', `PostgresDocStore: invalid schema name '${this.schema}'`)
        }
        this.ownsPool = !options.pool
        // Loaded here, not at import: `storex-synclog/server` serves SQLite without `pg` installed.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        this.pool = options.pool ?? new (require('pg') as typeof import('pg')).Pool({ connectionString: options.connectionString })
        const s = quoteIdentifier(this.schema)
        this.t = {
            meta: `${s}.meta`,
            users: `${s}.users`,
            docs: `${s}.docs`,
            devices: `${s}.devices`,
            tokens: `${s}.tokens`,
            migrations: `${s}.schema_migrations`,
        }
    }

    async init(): Promise<void> {
        await this.transaction(async client => {
            await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_CLASS, this.schema])
            const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [this.schema])
            if (exists.rowCount === 0) {
                await client.query(`CREATE SCHEMA ${quoteIdentifier(this.schema)}`)
            }
            await client.query(
                `CREATE TABLE IF NOT EXISTS ${this.t.migrations} (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
            )
            const applied = new Set((await client.query(`SELECT version FROM ${this.t.migrations}`)).rows.map(row => row.version as number))
            for (const migration of postgresMigrations(this.schema)) {
                if (!applied.has(migration.version)) {
                    await client.query(migration.sql)
                    await client.query(`INSERT INTO ${this.t.migrations} (version) VALUES ($1)`, [migration.version])
                }
            }
            await client.query(`INSERT INTO ${this.t.meta} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, [SYNC_ID_KEY, uuidv4()])
        })
    }

    async close(): Promise<void> {
        if (this.ownsPool) {
            await this.pool.end()
        }
    }

    async getSyncId(): Promise<string> {
        return this.readSyncId(this.pool)
    }

    private async readSyncId(client: Pool | PoolClient): Promise<string> {
        const result = await client.query(`SELECT value FROM ${this.t.meta} WHERE key = $1`, [SYNC_ID_KEY])
        if (result.rowCount === 0) {
            throw new SyncError('STORE_CORRUPT', 'The store has no SyncId (was init() called?)')
        }
        return result.rows[0].value
    }

    async reset(): Promise<string> {
        const syncId = uuidv4()
        await this.transaction(async client => {
            await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [RESET_LOCK_CLASS, this.schema])
            await client.query(`TRUNCATE ${this.t.docs}, ${this.t.devices}`)
            await client.query(`UPDATE ${this.t.meta} SET value = $2 WHERE key = $1`, [SYNC_ID_KEY, syncId])
        })
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
        return this.transaction(async client => {
            await client.query('SELECT pg_advisory_xact_lock_shared($1, hashtext($2))', [RESET_LOCK_CLASS, this.schema])
            if (options.syncId !== undefined) {
                const serverSyncId = await this.readSyncId(client)
                if (options.syncId !== serverSyncId) {
                    throw new SyncIdMismatchError(serverSyncId, options.syncId)
                }
            }
            const lastSeq = await this.lockUser(client, userId, nowMs)
            const ids = [...new Set(docs.map(doc => doc.id))]
            const existing = await client.query(
                `SELECT id, client_version, client_id, seq, last_update_ms FROM ${this.t.docs} WHERE user_id = $1 AND id = ANY($2::text[])`,
                [userId, ids],
            )
            const stored = new Map<string, StoredVersion>()
            for (const row of existing.rows) {
                stored.set(row.id, {
                    clientVersion: toSafeInteger(row.client_version, 'clientVersion'),
                    clientId: row.client_id,
                    seq: Number(row.seq),
                    lastUpdateMs: Number(row.last_update_ms),
                })
            }
            const plan = planUpsert({ stored, docs, clientId, nowMs, lastSeq })
            if (plan.writes.length > 0) {
                const w = plan.writes
                // One statement (one round trip while holding the user's lock): the rows and the user's last seq.
                await client.query(
                    `WITH seq AS (UPDATE ${this.t.users} SET last_seq = $9 WHERE user_id = $1)
                     INSERT INTO ${this.t.docs} (user_id, id, client_version, client_id, data, deleted, last_update_ms, seq)
                     SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::boolean[], $7::bigint[], $8::bigint[])
                     ON CONFLICT (user_id, id) DO UPDATE SET
                        client_version = excluded.client_version, client_id = excluded.client_id, data = excluded.data,
                        deleted = excluded.deleted, last_update_ms = excluded.last_update_ms, seq = excluded.seq`,
                    [
                        userId,
                        w.map(x => x.id),
                        w.map(x => String(x.clientVersion)),
                        w.map(x => x.clientId),
                        w.map(x => x.dataJson),
                        w.map(x => x.deleted),
                        w.map(x => String(x.lastUpdateMs)),
                        w.map(x => String(x.seq)),
                        plan.lastSeq,
                    ],
                )
            }
            return plan.results
        })
    }

    /** Locks the user's row until commit (creating it on the first write) and returns its last seq. */
    private async lockUser(client: PoolClient, userId: string, nowMs: number): Promise<number> {
        const select = `SELECT last_seq FROM ${this.t.users} WHERE user_id = $1 FOR UPDATE`
        let result = await client.query(select, [userId])
        if (result.rowCount === 0) {
            await client.query(`INSERT INTO ${this.t.users} (user_id, created_ms) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING`, [userId, nowMs])
            result = await client.query(select, [userId])
        }
        return Number(result.rows[0].last_seq)
    }

    async queryDocs(query: DocQuery): Promise<DocQueryResult> {
        const userId = requireIdentifier(query.userId, 'userId')
        const limit = requireCount(query.limit, 'limit', 1)
        const sinceSeq = requireOptionalCount(query.sinceSeq, 'sinceSeq')
        const sinceUtcMs = requireOptionalCount(query.sinceUtcMs, 'sinceUtcMs')
        const params: unknown[] = [userId, sinceSeq ?? 0]
        const conditions = ['user_id = $1', 'seq > $2']
        if (query.excludeClientId !== undefined) {
            requireIdentifier(query.excludeClientId, 'excludeClientId')
            params.push(query.excludeClientId)
            conditions.push(`client_id <> $${params.length}`)
        }
        if (sinceUtcMs !== undefined) {
            params.push(sinceUtcMs)
            conditions.push(`last_update_ms >= $${params.length}`)
        }
        params.push(limit + 1)
        // Read before the page, in its own snapshot: a user's writes take its row lock and set
        // last_seq in the transaction that stores their documents, so every document up to this
        // seq is committed and visible to the page's query below.
        const lastSeq = await this.lastSeq({ userId })
        const result = await this.pool.query(
            `SELECT ${DOC_COLUMNS} FROM ${this.t.docs} WHERE ${conditions.join(' AND ')} ORDER BY seq LIMIT $${params.length}`,
            params,
        )
        const hasMore = result.rows.length > limit
        const docs = (result.rows as DocRow[]).slice(0, limit).map(rowToDoc)
        return { docs, hasMore, cursor: pageCursor(docs, hasMore, sinceSeq ?? 0, lastSeq) }
    }

    async getDocs(options: { userId: string; ids: string[] }): Promise<StoredDoc[]> {
        const userId = requireIdentifier(options.userId, 'userId')
        const ids = [...new Set(options.ids)]
        options.ids.forEach((id, index) => requireIdentifier(id, `ids/${index}`))
        if (ids.length === 0) {
            return []
        }
        const result = await this.pool.query(`SELECT ${DOC_COLUMNS} FROM ${this.t.docs} WHERE user_id = $1 AND id = ANY($2::text[])`, [
            userId,
            ids,
        ])
        const found = new Map((result.rows as DocRow[]).map(row => [row.id, rowToDoc(row)]))
        return ids.filter(id => found.has(id)).map(id => found.get(id)!)
    }

    async listDocs(options: { userId: string; afterSeq: number; limit: number }): Promise<StoredDoc[]> {
        const userId = requireIdentifier(options.userId, 'userId')
        const afterSeq = requireCount(options.afterSeq, 'afterSeq', 0)
        const limit = requireCount(options.limit, 'limit', 1)
        const result = await this.pool.query(
            `SELECT ${DOC_COLUMNS} FROM ${this.t.docs} WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
            [userId, afterSeq, limit],
        )
        return (result.rows as DocRow[]).map(rowToDoc)
    }

    async registerDevice(options: { userId: string; deviceId: string; nowMs: number }): Promise<void> {
        const userId = requireIdentifier(options.userId, 'userId')
        const deviceId = requireIdentifier(options.deviceId, 'deviceId')
        const nowMs = requireCount(options.nowMs, 'nowMs', 0)
        await this.pool.query(
            `INSERT INTO ${this.t.devices} AS d (user_id, device_id, registered_ms, last_seen_ms, cursor) VALUES ($1, $2, $3, $3, 0)
             ON CONFLICT (user_id, device_id) DO UPDATE SET
                registered_ms = coalesce(d.registered_ms, excluded.registered_ms), last_seen_ms = excluded.last_seen_ms`,
            [userId, deviceId, nowMs],
        )
    }

    async acknowledge(options: { userId: string; deviceId: string; cursor: number }): Promise<void> {
        const userId = requireIdentifier(options.userId, 'userId')
        const deviceId = requireIdentifier(options.deviceId, 'deviceId')
        const cursor = requireCount(options.cursor, 'cursor', 0)
        await this.pool.query(
            `INSERT INTO ${this.t.devices} AS d (user_id, device_id, cursor) VALUES ($1, $2, $3)
             ON CONFLICT (user_id, device_id) DO UPDATE SET cursor = greatest(d.cursor, excluded.cursor)`,
            [userId, deviceId, cursor],
        )
    }

    async getDeviceCursor(options: { userId: string; deviceId: string }): Promise<number | null> {
        requireIdentifier(options.userId, 'userId')
        requireIdentifier(options.deviceId, 'deviceId')
        const result = await this.pool.query(`SELECT cursor FROM ${this.t.devices} WHERE user_id = $1 AND device_id = $2`, [
            options.userId,
            options.deviceId,
        ])
        return result.rowCount === 0 ? null : Number(result.rows[0].cursor)
    }

    async createToken(options: { userId: string; tokenHash: string; nowMs: number }): Promise<void> {
        const userId = requireIdentifier(options.userId, 'userId')
        const tokenHash = requireNonEmptyString(options.tokenHash, 'tokenHash')
        const nowMs = requireCount(options.nowMs, 'nowMs', 0)
        await this.transaction(async client => {
            await client.query(`INSERT INTO ${this.t.users} (user_id, created_ms) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING`, [userId, nowMs])
            await client.query(
                `INSERT INTO ${this.t.tokens} (token_hash, user_id, created_ms, token_id) VALUES ($1, $2, $3, $4) ON CONFLICT (token_hash) DO NOTHING`,
                [tokenHash, userId, nowMs, tokenIdOf(tokenHash)],
            )
            const owner = await client.query(`SELECT user_id FROM ${this.t.tokens} WHERE token_hash = $1`, [tokenHash])
            if (owner.rows[0].user_id !== userId) {
                throw new SyncError('TOKEN_CONFLICT', 'This token hash already belongs to another user')
            }
        })
    }

    async findUserByTokenHash(tokenHash: string): Promise<string | null> {
        const result = await this.pool.query(`SELECT user_id FROM ${this.t.tokens} WHERE token_hash = $1`, [tokenHash])
        return result.rowCount === 0 ? null : result.rows[0].user_id
    }

    async listTokens(options: { userId?: string } = {}): Promise<TokenInfo[]> {
        const columns = `SELECT token_id, user_id, created_ms FROM ${this.t.tokens}`
        const result = options.userId === undefined
            ? await this.pool.query(`${columns} ORDER BY created_ms, token_id`)
            : await this.pool.query(`${columns} WHERE user_id = $1 ORDER BY created_ms, token_id`, [requireIdentifier(options.userId, 'userId')])
        return result.rows.map(row => ({ tokenId: row.token_id as string, userId: row.user_id as string, createdMs: Number(row.created_ms) }))
    }

    async revokeToken(options: { tokenId: string }): Promise<boolean> {
        const tokenId = requireNonEmptyString(options.tokenId, 'tokenId')
        const result = await this.pool.query(`DELETE FROM ${this.t.tokens} WHERE token_id = $1`, [tokenId])
        return (result.rowCount ?? 0) > 0
    }

    async lastSeq(options: { userId: string }): Promise<number> {
        const userId = requireIdentifier(options.userId, 'userId')
        const result = await this.pool.query(`SELECT last_seq FROM ${this.t.users} WHERE user_id = $1`, [userId])
        return result.rowCount === 0 ? 0 : Number(result.rows[0].last_seq)
    }

    /** Runs `work` in one READ COMMITTED transaction (the row locks above rely on its per-statement snapshots). */
    private async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
        const client = await this.pool.connect()
        try {
            await client.query('BEGIN ISOLATION LEVEL READ COMMITTED')
            const result = await work(client)
            await client.query('COMMIT')
            client.release()
            return result
        } catch (error) {
            try {
                await client.query('ROLLBACK')
                client.release()
            } catch (rollbackError) {
                client.release(rollbackError as Error) // a broken connection leaves the pool
            }
            throw error
        }
    }
}

function rowToDoc(row: DocRow): StoredDoc {
    return {
        id: row.id,
        clientVersion: toSafeInteger(row.client_version, 'clientVersion'),
        data: JSON.parse(row.data),
        deleted: row.deleted,
        clientId: row.client_id,
        lastUpdateUtc: toUtcString(Number(row.last_update_ms)),
        seq: Number(row.seq),
    }
}
