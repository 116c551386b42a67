import { execFileSync } from 'child_process'
import path from 'path'

/**
 * An app on SQLite installs neither the Dexie backend nor the service's packages, and an app on
 * Dexie not the TypeORM backend: the main entry must load, and set up sync on the backend the
 * app has, without any of them. Runs in a child process where those packages cannot be resolved.
 */
const ROOT = path.resolve(__dirname, '../..')

function runHidden(hidden: string[], script: string): string {
    return execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', './ts/server/test-hide-modules.ts', '-e', script], {
        cwd: ROOT,
        env: { ...process.env, HIDE_MODULES: hidden.join(','), TS_NODE_TRANSPILE_ONLY: 'true' },
        encoding: 'utf8',
        timeout: 60_000,
    })
}

describe('the main entry without optional peer dependencies', () => {
    it('syncs two SQLite devices with the Dexie backend and every server package missing', () => {
        const output = runHidden(
            ['@worldbrain/storex-backend-dexie', 'dexie', 'fastify', '@fastify/cors', 'better-sqlite3', 'pg', 'ws'],
            `
            const StorageManager = require('@worldbrain/storex').default
            const { TypeORMStorageBackend } = require('@worldbrain/storex-backend-typeorm')
            const { setupSync, MemorySharedSyncLog } = require('./ts/index')
            let counter = 0
            function device() {
                const backend = new TypeORMStorageBackend({ connectionOptions: { type: 'sqlite', database: ':memory:', name: 'hidden-' + ++counter } })
                const storageManager = new StorageManager({ backend })
                storageManager.registry.registerCollections({ note: { version: new Date('2026-01-01'), fields: { title: { type: 'string' } } } })
                return storageManager
            }
            ;(async () => {
                const sharedLog = new MemorySharedSyncLog()
                const [a, b] = [device(), device()]
                const syncA = await setupSync({ storageManager: a, collections: ['note'], sharedLog })
                const syncB = await setupSync({ storageManager: b, collections: ['note'], sharedLog })
                await a.collection('note').createObject({ title: 'from sqlite' })
                await syncA.syncNow()
                await syncB.syncNow()
                const notes = await b.collection('note').findObjects({})
                process.stdout.write(JSON.stringify(notes.map(n => n.title)))
            })().catch(error => { console.error(error); process.exit(1) })
            `,
        )
        expect(JSON.parse(output)).toEqual(['from sqlite'])
    })

    it('loads on Dexie with the TypeORM backend missing', () => {
        const output = runHidden(['@worldbrain/storex-backend-typeorm', 'typeorm', 'sqlite3', 'fastify', 'better-sqlite3', 'pg', 'ws'], `
            const synclog = require('./ts/index')
            process.stdout.write(String(typeof synclog.setupSync === 'function' && typeof synclog.ContinuousSync === 'function'))
        `)
        expect(output).toBe('true')
    })

    it('serves on SQLite from storex-synclog/server with pg missing, and loads with better-sqlite3 missing', () => {
        const sqlite = runHidden(['pg'], `
            const { createSyncService, SqliteDocStore } = require('./ts/server/index')
            ;(async () => {
                const service = await createSyncService({ store: new SqliteDocStore({ filename: ':memory:' }), port: 0 })
                const { url } = await service.listen()
                const answer = await fetch(url + '/health')
                await service.close()
                process.stdout.write(String(answer.status))
            })().catch(error => { console.error(error); process.exit(1) })
        `)
        expect(sqlite).toBe('200')
        const postgresOnly = runHidden(['better-sqlite3'], `
            const server = require('./ts/server/index')
            process.stdout.write(String(typeof server.PostgresDocStore === 'function' && typeof server.PostgresLiveBridge === 'function'))
        `)
        expect(postgresOnly).toBe('true')
    })
})
