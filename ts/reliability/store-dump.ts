/**
 * Full dumps of a service store (every row of every table, in a fixed order), to check that a
 * refused request changed nothing, and store kinds for the suite's in-process services.
 */
import type Database from 'better-sqlite3'
import { Pool } from 'pg'
import { PostgresDocStore } from '../server/store/postgres'
import { SqliteDocStore } from '../server/store/sqlite'
import { testPostgresUrl } from '../server/store/store-suite'
import type { DocStore } from '../server/store/types'

const TABLES: Array<[string, string]> = [
    ['meta', 'key'],
    ['users', 'user_id'],
    ['docs', 'user_id, id'],
    ['devices', 'user_id, device_id'],
    ['tokens', 'token_hash'],
]

export interface DumpableStore {
    name: string
    store: DocStore
    /** Every row of every table as one JSON text. */
    dump(): Promise<string>
    /** Closes the store (if the service has not) and drops what was created. */
    dispose(): Promise<void>
}

export function sqliteMemoryStore(): DumpableStore {
    const store = new SqliteDocStore({ filename: ':memory:' })
    return {
        name: 'SQLite',
        store,
        async dump() {
            const db = (store as unknown as { database: Database.Database }).database
            return JSON.stringify(TABLES.map(([table, order]) => db.prepare(`SELECT * FROM ${table} ORDER BY ${order}`).all()))
        },
        async dispose() {
            await store.close()
        },
    }
}

let schemaCounter = 0

/** A PostgreSQL store in a schema of its own, dropped by `dispose`. */
export function postgresSchemaStore(label: string): DumpableStore {
    const schema = `synclog_rel_${label}_${process.pid}_${++schemaCounter}`
    const admin = new Pool({ connectionString: testPostgresUrl(), max: 1 })
    const store = new PostgresDocStore({ connectionString: testPostgresUrl(), schema })
    return {
        name: 'PostgreSQL',
        store,
        async dump() {
            const tables = []
            for (const [table, order] of TABLES) {
                tables.push((await admin.query(`SELECT * FROM "${schema}".${table} ORDER BY ${order}`)).rows)
            }
            return JSON.stringify(tables)
        },
        async dispose() {
            await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
            await admin.end()
        },
    }
}
