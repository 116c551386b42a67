import StorageManager from '@worldbrain/storex'
import { DexieStorageBackend } from '@worldbrain/storex-backend-dexie'
import inMemory from '@worldbrain/storex-backend-dexie/lib/in-memory'
import { createSyncService } from '../server/service'
import { PostgresDocStore } from '../server/store/postgres'
import { SqliteDocStore } from '../server/store/sqlite'
import { testPostgresUrl } from '../server/store/store-suite'
import { dropPostgresSchemas } from '../server/test-postgres'
import type { DocStore } from '../server/store/types'
import { HttpSharedSyncLog } from '../shared-log/http'
import { MemorySharedSyncLog } from '../shared-log/memory'
import { StorexSharedSyncLog } from '../shared-log/storex'
import type { SharedSyncLog } from '../shared-log/types'
import { closeStorageManager } from '../integration/devices'

/**
 * Every shared log the library ships, for the compatibility suites: one running instance per
 * test, and a log object per device (the HTTP log keeps per-device state, the others are shared).
 */
export interface CompatSharedLog {
    /** The log a device talks to. */
    forDevice(): SharedSyncLog
    cleanup(): Promise<void>
}

export interface CompatSharedLogSpec {
    create(): Promise<CompatSharedLog>
    /** Needs PostgreSQL at 127.0.0.1:5432; skipped with a printed reason when it is down outside CI. */
    needsPostgres?: boolean
}

let databases = 0
let schemas = 0

async function storexLog(backend: 'dexie' | 'sqlite'): Promise<CompatSharedLog> {
    let storageManager: StorageManager
    if (backend === 'dexie') {
        storageManager = new StorageManager({ backend: new DexieStorageBackend({ idbImplementation: inMemory(), dbName: `compat-shared-log-${++databases}` }) })
    } else {
        const { TypeORMStorageBackend } = require('@worldbrain/storex-backend-typeorm') as typeof import('@worldbrain/storex-backend-typeorm')
        storageManager = new StorageManager({
            backend: new TypeORMStorageBackend({ connectionOptions: { type: 'sqlite', database: ':memory:', name: `compat-shared-log-${++databases}` }, legacyMemexCompatibility: true }),
        })
    }
    StorexSharedSyncLog.registerCollections(storageManager.registry)
    await storageManager.finishInitialization()
    if (backend === 'sqlite') {
        await (storageManager.backend as unknown as { migrate(): Promise<void> }).migrate()
    }
    const log = new StorexSharedSyncLog({ storageManager })
    return { forDevice: () => log, cleanup: () => closeStorageManager(storageManager) }
}

async function httpLog(store: DocStore, dispose: () => Promise<void> = async () => {}): Promise<CompatSharedLog> {
    const service = await createSyncService({ store, port: 0 })
    const { url } = await service.listen()
    return {
        forDevice: () => new HttpSharedSyncLog({ url, retry: { retries: 2, baseDelayMs: 10 } }),
        cleanup: async () => {
            await service.close()
            await dispose()
        },
    }
}

export const COMPAT_SHARED_LOGS: Record<string, CompatSharedLogSpec> = {
    memory: {
        create: async () => {
            const log = new MemorySharedSyncLog()
            return { forDevice: () => log, cleanup: async () => {} }
        },
    },
    'memory with compaction': {
        create: async () => {
            const log = new MemorySharedSyncLog({ compact: true })
            return { forDevice: () => log, cleanup: async () => {} }
        },
    },
    'Storex on Dexie': { create: () => storexLog('dexie') },
    'Storex on SQLite': { create: () => storexLog('sqlite') },
    'HTTP on SQLite': { create: () => httpLog(new SqliteDocStore({ filename: ':memory:' })) },
    'HTTP on PostgreSQL': {
        needsPostgres: true,
        create: () => {
            const schema = `synclog_compat_${process.pid}_${++schemas}`
            return httpLog(new PostgresDocStore({ connectionString: testPostgresUrl(), schema }), () => dropPostgresSchemas(schema))
        },
    },
}

export { postgresReachable as postgresAvailable } from '../server/test-postgres'
