/**
 * Test support: whether the test PostgreSQL answers. In CI (`CI=true`) it must, so a suite that
 * needs it fails instead of skipping; elsewhere tests may skip, and the reason is printed once.
 */
import { Pool } from 'pg'
import { testPostgresUrl } from './store/store-suite'

let reachable: Promise<boolean> | undefined

export function postgresReachable(): Promise<boolean> {
    reachable ??= (async () => {
        const pool = new Pool({ connectionString: testPostgresUrl(), max: 1, connectionTimeoutMillis: 3000 })
        try {
            await pool.query('SELECT 1')
            return true
        } catch (error) {
            if (process.env.CI === 'true') {
                throw new Error(`PostgreSQL is required in CI: ${(error as Error).message}`)
            }
            console.log(`PostgreSQL not reachable (${(error as Error).message}): the tests that need it are skipped`)
            return false
        } finally {
            await pool.end()
        }
    })()
    return reachable
}

/** Drops test schemas (and everything in them) on the test PostgreSQL, over a connection of its own. */
export async function dropPostgresSchemas(...schemas: string[]): Promise<void> {
    const admin = new Pool({ connectionString: testPostgresUrl(), max: 1 })
    try {
        for (const schema of schemas) {
            await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
        }
    } finally {
        await admin.end()
    }
}
