/**
 * Test support: the two stores a service test runs on (SQLite in memory; PostgreSQL in its own
 * schema per store, dropped by `dropAll`), and a raw row insert that bypasses the store's
 * checks, to plant documents an older version of the service could have stored.
 */
import { Pool } from 'pg'
import type Database from 'better-sqlite3'
import { PostgresDocStore } from './store/postgres'
import { SqliteDocStore } from './store/sqlite'
import { testPostgresUrl } from './store/store-suite'
import type { DocStore } from './store/types'
import { createSyncService } from './service'

export interface RawDocRow {
    userId: string
    id: string
    clientVersion: number
    clientId: string
    /** JSON text, stored as is. */
    dataJson: string
    lastUpdateMs: number
}

export interface TestStoreKind {
    name: string
    open(): Promise<DocStore>
    /** Writes a document row directly, as the next seq of its user. */
    insertRaw(store: DocStore, row: RawDocRow): Promise<void>
    /** Drops what `open` created (PostgreSQL schemas) and closes admin connections. */
    dropAll(): Promise<void>
}

export function sqliteKind(): TestStoreKind {
    return {
        name: 'SQLite',
        async open() {
            return new SqliteDocStore({ filename: ':memory:' })
        },
        async insertRaw(store, row) {
            const db = (store as unknown as { database: Database.Database }).database
            db.transaction(() => {
                db.prepare('INSERT INTO users (user_id, last_seq, created_ms) VALUES (?, 0, 0) ON CONFLICT (user_id) DO NOTHING').run(row.userId)
                db.prepare('UPDATE users SET last_seq = last_seq + 1 WHERE user_id = ?').run(row.userId)
                const { last_seq } = db.prepare('SELECT last_seq FROM users WHERE user_id = ?').get(row.userId) as { last_seq: number }
                db.prepare(
                    'INSERT INTO docs (user_id, id, client_version, client_id, data, deleted, last_update_ms, seq) VALUES (?, ?, ?, ?, ?, 0, ?, ?)',
                ).run(row.userId, row.id, row.clientVersion, row.clientId, row.dataJson, row.lastUpdateMs, last_seq)
            })()
        },
        async dropAll() {},
    }
}

export function postgresKind(label: string): TestStoreKind {
    const url = testPostgresUrl()
    const schemas: string[] = []
    let admin: Pool | undefined
    return {
        name: 'PostgreSQL',
        async open() {
            const schema = `synclog_${label}_${process.pid}_${schemas.length + 1}`
            schemas.push(schema)
            return new PostgresDocStore({ connectionString: url, schema })
        },
        async insertRaw(store, row) {
            const schema = (store as PostgresDocStore).schema
            admin ??= new Pool({ connectionString: url, max: 1 })
            await admin.query(
                `WITH u AS (
                    INSERT INTO "${schema}".users (user_id, last_seq) VALUES ($1, 1)
                    ON CONFLICT (user_id) DO UPDATE SET last_seq = "${schema}".users.last_seq + 1 RETURNING last_seq
                 )
                 INSERT INTO "${schema}".docs (user_id, id, client_version, client_id, data, deleted, last_update_ms, seq)
                 SELECT $1, $2, $3, $4, $5, false, $6, last_seq FROM u`,
                [row.userId, row.id, row.clientVersion, row.clientId, row.dataJson, row.lastUpdateMs],
            )
        },
        async dropAll() {
            admin ??= new Pool({ connectionString: url, max: 1 })
            for (const schema of schemas.splice(0)) {
                await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
            }
            await admin.end()
            admin = undefined
        },
    }
}

/** An answer of the service, the body parsed when it is JSON. */
export interface RawAnswer {
    status: number
    contentType: string | null
    text: string
    body: any // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary shapes
}

/** Sends `body` as is (bytes or text) with the given content type. */
export async function sendRaw(
    url: string,
    method: string,
    path: string,
    body?: string | Uint8Array<ArrayBuffer>,
    contentType = 'application/json',
): Promise<RawAnswer> {
    const headers: Record<string, string> = body === undefined ? {} : { 'content-type': contentType }
    const response = await fetch(url + path, { method, headers, body })
    const text = await response.text()
    let parsed: unknown
    try {
        parsed = JSON.parse(text)
    } catch {
        parsed = undefined
    }
    return { status: response.status, contentType: response.headers.get('content-type'), text, body: parsed }
}

/**
 * For each test of the enclosing `describe`: a service on a fresh store of `kind`, listening on a
 * free port, closed after the test (the stores' schemas dropped after them all), and raw requests
 * to it. `store` and `url` are read when a test runs.
 */
export function serviceForEachTest(kind: TestStoreKind, now: () => number): {
    readonly store: DocStore
    readonly url: string
    send(method: string, path: string, body?: string | Uint8Array<ArrayBuffer>, contentType?: string): Promise<RawAnswer>
    /** POSTs a JSON body (a string is sent as it is). */
    post(path: string, body: unknown): Promise<RawAnswer>
} {
    let current: { store: DocStore; url: string; close(): Promise<void> } | null = null
    beforeEach(async () => {
        const store = await kind.open()
        const service = await createSyncService({ store, port: 0, now })
        current = { store, url: (await service.listen()).url, close: () => service.close() }
    })
    afterEach(() => current?.close())
    afterAll(() => kind.dropAll())
    const running = () => {
        if (!current) {
            throw new Error('serviceForEachTest: read inside a test')
        }
        return current
    }
    const send = (method: string, path: string, body?: string | Uint8Array<ArrayBuffer>, contentType?: string) => sendRaw(running().url, method, path, body, contentType)
    return {
        get store() {
            return running().store
        },
        get url() {
            return running().url
        },
        send,
        post: (path, body) => send('POST', path, typeof body === 'string' ? body : JSON.stringify(body)),
    }
}
