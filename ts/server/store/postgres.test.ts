/**
 * PostgresDocStore against the real server (see `testPostgresUrl`). Never skipped: no database means failing tests.
 * Every store gets its own schema, dropped at the end.
 */
import { Pool, PoolClient } from 'pg'
import { PostgresDocStore } from './postgres'
import { runDocStoreTests, testPostgresUrl } from './store-suite'
import { DocStore, StoredDoc } from './types'

const URL = testPostgresUrl()
const admin = new Pool({ connectionString: URL, max: 2 })
const schemas = new Set<string>()
const schemaOf = new WeakMap<DocStore, string>()
let counter = 0

function newSchema(): string {
    const schema = `synclog_test_${process.pid}_${++counter}`
    schemas.add(schema)
    return schema
}

async function open(schema: string, extra: { pool?: Pool } = {}): Promise<PostgresDocStore> {
    const store = new PostgresDocStore(extra.pool ? { pool: extra.pool, schema } : { connectionString: URL, schema })
    await store.init()
    schemaOf.set(store, schema)
    return store
}

afterAll(async () => {
    for (const schema of schemas) {
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    }
    await admin.end()
})

runDocStoreTests('PostgreSQL', () => open(newSchema()), { reopenStore: closed => open(schemaOf.get(closed)!) })

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

/** A pool like a separate service process, whose COMMITs are randomly slow (widening every race). */
function slowCommitPool(maxDelayMs: number): Pool {
    const pool = new Pool({ connectionString: URL, max: 4 })
    pool.on('connect', (client: PoolClient) => {
        const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>
        ;(client as unknown as { query: unknown }).query = async (...args: unknown[]) => {
            if (args[0] === 'COMMIT') {
                await sleep(Math.random() * maxDelayMs)
            }
            return query(...args)
        }
    })
    return pool
}

interface Pull {
    seen: Map<string, StoredDoc>
    lastSeq: number
    outOfOrder: number
}

/** Pulls everything after the reader's cursor, page by page, as a client does. */
async function pull(reader: DocStore, userId: string, state: Pull & { cursor: number }): Promise<void> {
    for (;;) {
        const page = await reader.queryDocs({ userId, sinceSeq: state.cursor, limit: 7 })
        for (const doc of page.docs) {
            if (doc.seq <= state.lastSeq) {
                state.outOfOrder += 1
            }
            state.lastSeq = doc.seq
            state.seen.set(doc.id, doc)
        }
        state.cursor = page.cursor
        if (!page.hasMore) {
            return
        }
    }
}

describe('PostgresDocStore with several service processes on one database', () => {
    it('two stores (two pools) initialise one schema concurrently, migrating once', async () => {
        const schema = newSchema()
        const stores = await Promise.all([0, 1, 2].map(() => open(schema)))
        const syncIds = await Promise.all(stores.map(s => s.getSyncId()))
        expect(new Set(syncIds).size).toBe(1)
        const migrations = await admin.query(`SELECT version FROM "${schema}".schema_migrations`)
        expect(migrations.rows).toEqual([{ version: 1 }, { version: 2 }])
        await Promise.all(stores.map(s => s.close()))
    })

    it('invariant 4: a reader pulling by cursor during concurrent writes never skips a change', async () => {
        const schema = newSchema()
        await (await open(schema)).close() // migrate first; the writers' own init runs concurrently below anyway
        const writerPools = [0, 1, 2, 3].map(() => slowCommitPool(15))
        const writers = await Promise.all(writerPools.map(pool => open(schema, { pool })))
        const reader = await open(schema)
        const ids = Array.from({ length: 25 }, (_, i) => `doc-${i}`)
        const expected = new Map<string, { clientVersion: number; clientId: string }>()
        let writesDone = false

        const writeLoop = async (store: DocStore, w: number, lane: number) => {
            const clientId = `client-${w}-${lane}`
            for (let round = 1; round <= 25; round++) {
                const batch = Array.from({ length: 1 + Math.floor(Math.random() * 4) }, () => ids[Math.floor(Math.random() * ids.length)]).sort()
                const clientVersion = round * 10 + Math.floor(Math.random() * 10)
                await store.upsertDocs({
                    userId: 'u',
                    clientId,
                    nowMs: Date.now(),
                    docs: batch.map(id => ({ id, clientVersion, data: { clientId, clientVersion } })),
                })
                for (const id of batch) {
                    const best = expected.get(id)
                    if (!best || best.clientVersion < clientVersion || (best.clientVersion === clientVersion && best.clientId < clientId)) {
                        expected.set(id, { clientVersion, clientId })
                    }
                }
            }
        }
        const state = { seen: new Map<string, StoredDoc>(), lastSeq: 0, outOfOrder: 0, cursor: 0 }
        const readLoop = async () => {
            while (!writesDone) {
                await pull(reader, 'u', state)
            }
        }
        const reading = readLoop()
        // Each "process" runs 3 concurrent request lanes; 12 writers in all.
        await Promise.all(writers.flatMap((store, w) => [0, 1, 2].map(lane => writeLoop(store, w, lane))))
        writesDone = true
        await reading
        await pull(reader, 'u', state) // the last pull after everything committed

        const final = await reader.getDocs({ userId: 'u', ids })
        // The reader applied only what it pulled by cursor, yet holds every document's final version.
        expect(final.map(d => state.seen.get(d.id))).toEqual(final)
        expect(final.map(d => [d.id, d.clientVersion, d.clientId])).toEqual(
            ids.filter(id => expected.has(id)).map(id => [id, expected.get(id)!.clientVersion, expected.get(id)!.clientId]),
        )
        expect(state.outOfOrder).toBe(0)
        const seqs = (await reader.listDocs({ userId: 'u', afterSeq: 0, limit: 1000 })).map(d => d.seq)
        expect(new Set(seqs).size).toBe(seqs.length)

        await Promise.all([...writers, reader].map(s => s.close()))
        await Promise.all(writerPools.map(pool => pool.end()))
    })

    it('keeps users apart under concurrent writes: each user has its own gap-free seq', async () => {
        const schema = newSchema()
        const stores = await Promise.all([0, 1].map(() => open(schema)))
        await Promise.all(
            stores.flatMap((store, s) =>
                ['alice', 'bob'].map(async userId => {
                    for (let i = 0; i < 20; i++) {
                        await store.upsertDocs({ userId, clientId: `c${s}`, nowMs: Date.now(), docs: [{ id: `${s}-${i}`, clientVersion: 1, data: { userId } }] })
                    }
                }),
            ),
        )
        for (const userId of ['alice', 'bob']) {
            const docs = await stores[0].listDocs({ userId, afterSeq: 0, limit: 100 })
            expect(docs.map(d => d.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
            expect(docs.every(d => (d.data as { userId: string }).userId === userId)).toBe(true)
        }
        await Promise.all(stores.map(s => s.close()))
    })

    it('reads changes through the (user_id, seq) index', async () => {
        const schema = newSchema()
        const store = await open(schema)
        await admin.query(
            `INSERT INTO "${schema}".docs SELECT 'user-' || (i % 100), 'doc-' || i, 1, 'c', 'null', false, 0, i / 100 + 1 FROM generate_series(0, 49999) i`,
        )
        await admin.query(`ANALYZE "${schema}".docs`)
        const plan = await admin.query(
            `EXPLAIN SELECT id FROM "${schema}".docs WHERE user_id = 'user-7' AND seq > 400 AND client_id <> 'x' ORDER BY seq LIMIT 101`,
        )
        const text = plan.rows.map(row => row['QUERY PLAN']).join('\n')
        expect(text).toMatch(/Index Scan (using|on) docs_user_seq/)
        expect(text).toMatch(/Index Cond: \(\(user_id = 'user-7'::text\) AND \(seq > 400\)\)/)
        expect(text).not.toMatch(/Seq Scan/)
        await store.close()
    })

    it('uses a pool given by the caller and leaves it open on close', async () => {
        const pool = new Pool({ connectionString: URL, max: 2 })
        const store = await open(newSchema(), { pool })
        await store.close()
        expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
        await pool.end()
    })
})
