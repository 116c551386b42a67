import { Pool } from 'pg'
import { createSyncService } from '../server/service'
import { PostgresDocStore } from '../server/store/postgres'
import { SqliteDocStore } from '../server/store/sqlite'
import { testPostgresUrl } from '../server/store/store-suite'
import type { DocStore } from '../server/store/types'
import { runSharedSyncLogContractTests } from './contract'
import { HttpSharedSyncLog } from './http'

/** A fresh service per test over a real listening port; the log talks HTTP to it. */
async function subject(store: DocStore, dispose: () => Promise<void> = async () => {}) {
    const service = await createSyncService({ store, port: 0 })
    const { url } = await service.listen()
    return {
        log: new HttpSharedSyncLog({ url, retry: { retries: 0 } }),
        cleanup: async () => {
            await service.close()
            await dispose()
        },
    }
}

runSharedSyncLogContractTests('HttpSharedSyncLog (service on SQLite)', () => subject(new SqliteDocStore({ filename: ':memory:' })), { cursorPassesOwnEntries: true })

const postgresUrl = testPostgresUrl()
let schemaCounter = 0
runSharedSyncLogContractTests('HttpSharedSyncLog (service on PostgreSQL)', async () => {
    const schema = `synclog_http_contract_${process.pid}_${++schemaCounter}`
    return subject(new PostgresDocStore({ connectionString: postgresUrl, schema }), async () => {
        const admin = new Pool({ connectionString: postgresUrl, max: 1 })
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
        await admin.end()
    })
}, { cursorPassesOwnEntries: true })
