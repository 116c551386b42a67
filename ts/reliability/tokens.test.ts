/**
 * `synclog token list` and `synclog token revoke` (issue 10): ids and creation times, never the
 * token; a revoked token is refused (401) by a running service at its next request; a database
 * made before token ids existed gets them when opened (SQLite and PostgreSQL).
 */
import { mkdtempSync, rmSync } from 'fs'
import { tmpdir } from 'os'
import { join } from 'path'
import Database from 'better-sqlite3'
import { Pool } from 'pg'
import { hashToken, tokenIdOfToken } from '../server/auth'
import { main } from '../server/cli'
import { createSyncService } from '../server/service'
import { PostgresDocStore } from '../server/store/postgres'
import { postgresMigrations } from '../server/store/postgres-schema'
import { SqliteDocStore } from '../server/store/sqlite'
import { SQLITE_MIGRATIONS } from '../server/store/sqlite-schema'
import { testPostgresUrl } from '../server/store/store-suite'
import { postgresAvailable } from './helpers'

async function cli(args: string[]): Promise<{ exitCode: number; out: string[]; err: string[] }> {
    const out: string[] = []
    const err: string[] = []
    const { exitCode } = await main(args, { stdout: (line) => out.push(line), stderr: (line) => err.push(line) })
    return { exitCode, out, err }
}

describe('synclog token list / revoke', () => {
    let dir: string
    beforeAll(() => {
        dir = mkdtempSync(join(tmpdir(), 'synclog-tokens-'))
    })
    afterAll(() => rmSync(dir, { recursive: true, force: true }))

    it('lists ids and creation times (never the token), and a revoked token gets 401 at once', async () => {
        const db = join(dir, 'tokens.sqlite')
        const created = await cli(['token', 'create', '--user', 'alice', '--db', db])
        expect(created.exitCode).toBe(0)
        const token = created.out[1]
        await cli(['token', 'create', '--user', 'bob', '--db', db])
        const listed = await cli(['token', 'list', '--db', db])
        expect(listed.exitCode).toBe(0)
        const text = listed.out.join('\n')
        expect(text).toContain(tokenIdOfToken(token))
        expect(text).not.toContain(token)
        expect(text).not.toContain(hashToken(token))
        expect(text).toMatch(/alice {2}\d{4}-\d{2}-\d{2}T/)
        expect(listed.out[listed.out.length - 1]).toBe('2 tokens')
        expect((await cli(['token', 'list', '--user', 'bob', '--db', db])).out.at(-1)).toBe('1 token')

        const service = await createSyncService({ store: new SqliteDocStore({ filename: db }), port: 0, auth: true, live: false, pairing: false })
        const { url } = await service.listen()
        try {
            const ask = () => fetch(`${url}/SyncId`, { headers: { authorization: `Bearer ${token}` } })
            expect((await ask()).status).toBe(200)
            const revoked = await cli(['token', 'revoke', '--id', tokenIdOfToken(token), '--db', db])
            expect(revoked.exitCode).toBe(0)
            const refused = await ask()
            expect(refused.status).toBe(401)
            expect((await refused.json()).error.code).toBe('UNAUTHORIZED')
        } finally {
            await service.close()
        }
        expect((await cli(['token', 'revoke', '--id', tokenIdOfToken(token), '--db', db])).exitCode).toBe(1)
        expect((await cli(['token', 'revoke', '--id', 'not-an-id', '--db', db])).exitCode).toBe(2)
        expect((await cli(['token', 'revoke', '--db', db])).exitCode).toBe(2)
        expect((await cli(['token', 'list', '--db', db])).out.at(-1)).toBe('1 token')
    })

    it('gives tokens of a database made before token ids their ids (SQLite)', async () => {
        const file = join(dir, 'old.sqlite')
        const old = new Database(file)
        old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL)')
        old.exec(SQLITE_MIGRATIONS[0].sql)
        old.prepare('INSERT INTO schema_migrations VALUES (1, 0)').run()
        old.prepare("INSERT INTO meta VALUES ('sync_id', 'old-sync-id')").run()
        old.prepare("INSERT INTO tokens (token_hash, user_id, created_ms) VALUES (?, 'carol', 5)").run(hashToken('old-token'))
        old.close()
        const store = new SqliteDocStore({ filename: file })
        await store.init()
        expect(await store.listTokens()).toEqual([{ tokenId: tokenIdOfToken('old-token'), userId: 'carol', createdMs: 5 }])
        expect(await store.findUserByTokenHash(hashToken('old-token'))).toBe('carol')
        expect(await store.revokeToken({ tokenId: tokenIdOfToken('old-token') })).toBe(true)
        expect(await store.findUserByTokenHash(hashToken('old-token'))).toBeNull()
        await store.close()
    })

    it('gives tokens of a database made before token ids their ids (PostgreSQL)', async () => {
        if (!(await postgresAvailable())) {
            return
        }
        const schema = `synclog_rel_tokens_${process.pid}`
        const admin = new Pool({ connectionString: testPostgresUrl(), max: 1 })
        try {
            await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
            await admin.query(`CREATE SCHEMA "${schema}"`)
            await admin.query(`CREATE TABLE "${schema}".schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`)
            await admin.query(postgresMigrations(schema)[0].sql)
            await admin.query(`INSERT INTO "${schema}".schema_migrations (version) VALUES (1)`)
            await admin.query(`INSERT INTO "${schema}".tokens (token_hash, user_id, created_ms) VALUES ($1, 'carol', 5)`, [hashToken('old-token')])
            const store = new PostgresDocStore({ connectionString: testPostgresUrl(), schema })
            await store.init()
            expect(await store.listTokens({ userId: 'carol' })).toEqual([{ tokenId: tokenIdOfToken('old-token'), userId: 'carol', createdMs: 5 }])
            expect(await store.revokeToken({ tokenId: tokenIdOfToken('old-token') })).toBe(true)
            expect(await store.findUserByTokenHash(hashToken('old-token'))).toBeNull()
            await store.close()
        } finally {
            await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
            await admin.end()
        }
    })
})
