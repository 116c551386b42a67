import { mkdtempSync, rmSync } from 'fs'
import { tmpdir } from 'os'
import { join } from 'path'
import Database from 'better-sqlite3'
import { SqliteDocStore } from './sqlite'
import { runDocStoreTests } from './store-suite'
import { DocStore } from './types'

const dir = mkdtempSync(join(tmpdir(), 'synclog-sqlite-store-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const filenames = new WeakMap<DocStore, string>()
let counter = 0
async function open(filename: string): Promise<SqliteDocStore> {
    const store = new SqliteDocStore({ filename })
    await store.init()
    filenames.set(store, filename)
    return store
}

runDocStoreTests('SQLite file', () => open(join(dir, `store-${++counter}.sqlite`)), {
    reopenStore: closed => open(filenames.get(closed)!),
})
runDocStoreTests('SQLite :memory:', () => open(':memory:'))

describe('SqliteDocStore specifics', () => {
    it('uses WAL for files and migrates once', async () => {
        const filename = join(dir, 'wal.sqlite')
        const a = await open(filename)
        const b = await open(filename) // a second "process" on the same file
        expect(await b.getSyncId()).toBe(await a.getSyncId())
        await a.close()
        await b.close()
        const db = new Database(filename, { readonly: true })
        expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
        expect(db.prepare('SELECT count(*) AS n FROM schema_migrations').get()).toEqual({ n: 2 })
        db.close()
    })

    it('reads changes through the (user, seq) index, never a scan', async () => {
        const store = await open(':memory:')
        const inner = (store as unknown as { database: Database.Database }).database
        const plan = inner
            .prepare("EXPLAIN QUERY PLAN SELECT id FROM docs WHERE user_id = 'u' AND seq > 5 AND client_id <> 'c' ORDER BY seq LIMIT 10")
            .all() as { detail: string }[]
        expect(plan.map(row => row.detail).join('\n')).toMatch(/SEARCH docs USING INDEX docs_user_seq \(user_id=\? AND seq>\?\)/)
        await store.close()
    })

    it('throws a SyncConfigurationError before init()', async () => {
        const store = new SqliteDocStore({ filename: ':memory:' })
        await expect(store.getSyncId()).rejects.toMatchObject({ code: 'SYNC_CONFIGURATION' })
    })
})
