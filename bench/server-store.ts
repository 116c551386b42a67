/**
 * Server document stores, without HTTP: write throughput with 20 concurrent devices, and the cost
 * of pulling the same 1,000 new changes from a store already holding 10k vs 1M documents.
 *
 *   npx ts-node --transpile-only bench/server-store.ts [--big 1000000] [--postgres URL]
 *
 * PostgreSQL uses SYNCLOG_TEST_POSTGRES_URL or the test database (a throwaway schema, dropped after).
 */
import { mkdtempSync, rmSync } from 'fs'
import { tmpdir } from 'os'
import { join } from 'path'
import Database from 'better-sqlite3'
import { Pool } from 'pg'
import { PostgresDocStore } from '../ts/server/store/postgres'
import { SqliteDocStore } from '../ts/server/store/sqlite'
import { testPostgresUrl } from '../ts/server/store/store-suite'
import { DocStore } from '../ts/server/store/types'

const args = process.argv.slice(2)
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined)
const BIG = Number(option('--big') ?? 1_000_000)
const PG_URL = option('--postgres') ?? testPostgresUrl()
const DEVICES = 20
const CHANGES_PER_DEVICE = 1000
const BATCH = 50

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]
const fmt = (n: number) => n.toFixed(n < 10 ? 2 : 0)

async function writeThroughput(store: DocStore): Promise<string> {
    const latencies: number[] = []
    const start = performance.now()
    await Promise.all(
        Array.from({ length: DEVICES }, async (_, device) => {
            for (let i = 0; i < CHANGES_PER_DEVICE; i += BATCH) {
                const docs = Array.from({ length: BATCH }, (_, j) => ({
                    id: `d${device}-${i + j}`,
                    clientVersion: Date.now(),
                    data: { device, n: i + j, text: 'some field value' },
                }))
                const t = performance.now()
                await store.upsertDocs({ userId: 'writer', clientId: `device-${device}`, docs, nowMs: Date.now() })
                latencies.push(performance.now() - t)
            }
        }),
    )
    const seconds = (performance.now() - start) / 1000
    latencies.sort((a, b) => a - b)
    const total = DEVICES * CHANGES_PER_DEVICE
    return `${total} docs in ${fmt(seconds)} s = ${fmt(total / seconds)} docs/s; upsert of ${BATCH}: p50 ${fmt(percentile(latencies, 50))} ms, p99 ${fmt(percentile(latencies, 99))} ms`
}

/** Pulls the 1,000 changes after `cursor` in pages of 100; median of 5 runs, in ms. */
async function pullCost(store: DocStore, cursor: number): Promise<number> {
    const runs: number[] = []
    for (let run = 0; run < 5; run++) {
        const t = performance.now()
        let since = cursor
        let n = 0
        for (;;) {
            const page = await store.queryDocs({ userId: 'reader', sinceSeq: since, excludeClientId: 'me', limit: 100 })
            n += page.docs.length
            since = page.cursor
            if (!page.hasMore) break
        }
        if (n !== 1000) throw new Error(`pulled ${n} docs, expected 1000`)
        runs.push(performance.now() - t)
    }
    return runs.sort((a, b) => a - b)[2]
}

/**
 * Fills `count` old documents of user 'reader' (ids from `idFrom`, seqs from `seqFrom`) and as many
 * of another user straight into the table, and moves the reader's seq past them.
 */
type Fill = (count: number, idFrom: number, seqFrom: number) => Promise<void>

async function pullScaling(store: DocStore, fill: Fill): Promise<string> {
    const results: string[] = []
    const write = async (ids: string[]) =>
        store.upsertDocs({ userId: 'reader', clientId: 'other', docs: ids.map(id => ({ id, clientVersion: 1, data: { id } })), nowMs: Date.now() })
    let [{ seq: lastSeq }] = await write(['first'])
    let filled = 0
    for (const size of [10_000, BIG]) {
        const t = performance.now()
        await fill(size - filled, filled, lastSeq + 1)
        lastSeq += size - filled
        filled = size
        const fillSeconds = (performance.now() - t) / 1000
        const cursor = lastSeq
        for (let i = 0; i < 1000; i += 100) {
            const written = await write(Array.from({ length: 100 }, (_, j) => `new-${size}-${i + j}`))
            lastSeq = written[written.length - 1].seq
        }
        results.push(`${size} docs (filled in ${fmt(fillSeconds)} s): pull of 1,000 new = ${fmt(await pullCost(store, cursor))} ms`)
    }
    return results.join('; ')
}

async function main() {
    const dir = mkdtempSync(join(tmpdir(), 'synclog-bench-'))
    try {
        const filename = join(dir, 'bench.sqlite')
        const sqlite = new SqliteDocStore({ filename })
        await sqlite.init()
        console.log(`SQLite write:  ${await writeThroughput(sqlite)}`)
        const raw = new Database(filename)
        const fillSqlite: Fill = async (count, idFrom, seqFrom) => {
            const insert = raw.prepare("INSERT INTO docs VALUES (?, ?, 1, 'old', '{\"n\":1}', 0, 0, ?)")
            raw.transaction(() => {
                for (let i = 0; i < count; i++) {
                    insert.run('reader', `old-${idFrom + i}`, seqFrom + i)
                    insert.run('someone-else', `old-${idFrom + i}`, idFrom + i + 1)
                }
                raw.prepare("UPDATE users SET last_seq = ? WHERE user_id = 'reader'").run(seqFrom + count - 1)
            })()
        }
        console.log(`SQLite pull:   ${await pullScaling(sqlite, fillSqlite)}`)
        raw.close()
        await sqlite.close()
    } finally {
        rmSync(dir, { recursive: true, force: true })
    }

    const schema = `synclog_bench_${process.pid}`
    const admin = new Pool({ connectionString: PG_URL, max: 1 })
    try {
        const pg = new PostgresDocStore({ connectionString: PG_URL, schema })
        await pg.init()
        console.log(`PostgreSQL write: ${await writeThroughput(pg)}`)
        const fillPg: Fill = async (count, idFrom, seqFrom) => {
            await admin.query(
                `INSERT INTO "${schema}".docs SELECT u, 'old-' || i, 1, 'old', '{"n":1}', false, 0, CASE WHEN u = 'reader' THEN $3 + i - $1 ELSE i + 1 END
                 FROM generate_series($1::bigint, $2::bigint) i, (VALUES ('reader'), ('someone-else')) v(u)`,
                [idFrom, idFrom + count - 1, seqFrom],
            )
            await admin.query(`UPDATE "${schema}".users SET last_seq = $1 WHERE user_id = 'reader'`, [seqFrom + count - 1])
            await admin.query(`ANALYZE "${schema}".docs`)
        }
        console.log(`PostgreSQL pull:  ${await pullScaling(pg, fillPg)}`)
        await pg.close()
    } finally {
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
        await admin.end()
    }
}

main().catch(error => {
    console.error(error)
    process.exit(1)
})
