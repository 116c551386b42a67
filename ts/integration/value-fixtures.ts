import StorageManager from '@worldbrain/storex'
import type { CollectionFields } from '@worldbrain/storex/lib/types/collections'
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
import type { SyncLogEntry } from '../entries/types'
import { closeStorageManager, createDexieStorageManager, createSqliteStorageManager } from './devices'
import { sequentialDeviceIds } from './scenario-helpers'

/**
 * Fixtures for the value tests (issue 14): a collection with one field of every Storex field type
 * the backends store, the shared logs to run over, and a comparison that sees value types.
 */

export const THING = 'thing'

/** Field -> Storex type. `rank` is a small int for where clauses; `opt` is the optional field. */
export const THING_FIELDS = {
    s: 'string',
    t: 'text',
    j: 'json',
    d: 'datetime',
    ts: 'timestamp',
    b: 'boolean',
    i: 'int',
    f: 'float',
    rank: 'int',
    opt: 'string',
} as const

export type ThingField = keyof typeof THING_FIELDS

export function registerThing(storageManager: StorageManager): StorageManager {
    const fields: CollectionFields = { id: { type: 'string' } }
    for (const [field, type] of Object.entries(THING_FIELDS)) {
        fields[field] = field === 'opt' ? { type, optional: true } : { type }
    }
    storageManager.registry.registerCollections({
        [THING]: { version: new Date('2026-01-01'), fields, indices: [{ field: 'id', pk: true }, { field: 'rank' }] },
    })
    return storageManager
}

export type BackendName = 'dexie' | 'sqlite'

export function createThingStorage(backend: BackendName): StorageManager {
    return registerThing(backend === 'dexie' ? createDexieStorageManager() : createSqliteStorageManager())
}

/** A shared log for one test run, a reader that sees every device's entries, and its cleanup. */
export interface SharedLogSubject {
    /**
     * The log for one device. In-process logs are one object every device shares; an
     * HttpSharedSyncLog is a client (it keeps the device's SyncId and full state), one per device.
     */
    logForDevice(): SharedSyncLog
    /** Reads every entry (as a device that wrote none). */
    allEntries(): Promise<SyncLogEntry[]>
    cleanup(): Promise<void>
}

async function readAll(log: SharedSyncLog): Promise<SyncLogEntry[]> {
    const entries: SyncLogEntry[] = []
    let cursor: string | null = null
    for (;;) {
        const page = await log.readEntries({ deviceId: 'reference-reader', cursor, limit: 1000 })
        entries.push(...page.entries)
        if (!page.hasMore) {
            return entries
        }
        cursor = page.cursor
    }
}

let logDatabases = 0

async function storexLog(backend: BackendName): Promise<SharedLogSubject> {
    const storageManager =
        backend === 'dexie'
            ? new StorageManager({ backend: new DexieStorageBackend({ idbImplementation: inMemory(), dbName: `value-shared-log-${++logDatabases}` }) })
            : (() => {
                  const { TypeORMStorageBackend } = require('@worldbrain/storex-backend-typeorm') as typeof import('@worldbrain/storex-backend-typeorm')
                  return new StorageManager({
                      backend: new TypeORMStorageBackend({
                          connectionOptions: { type: 'sqlite', database: ':memory:', name: `value-shared-log-${++logDatabases}` },
                          legacyMemexCompatibility: true,
                      }),
                  })
              })()
    StorexSharedSyncLog.registerCollections(storageManager.registry)
    await storageManager.finishInitialization()
    const migrate = (storageManager.backend as { migrate?: () => Promise<void> }).migrate
    if (backend === 'sqlite' && migrate) {
        await migrate.call(storageManager.backend)
    }
    const log = new StorexSharedSyncLog({ storageManager, generateDeviceId: sequentialDeviceIds() })
    return { logForDevice: () => log, allEntries: () => readAll(log), cleanup: () => closeStorageManager(storageManager) }
}

async function httpLog(store: DocStore, dispose: () => Promise<void> = async () => {}): Promise<SharedLogSubject> {
    const service = await createSyncService({ store, port: 0 })
    const { url } = await service.listen()
    const retry = { retries: 2, baseDelayMs: 10 }
    return {
        logForDevice: () => new HttpSharedSyncLog({ url, retry }),
        allEntries: () => readAll(new HttpSharedSyncLog({ url, retry })),
        cleanup: async () => {
            await service.close()
            await dispose()
        },
    }
}

let postgresSchemas = 0

export { postgresReachable } from '../server/test-postgres'

/** The shared logs every value test runs over. `needsPostgres`: skip with a printed reason when PostgreSQL is down outside CI. */
export const SHARED_LOGS: Record<string, { create: () => Promise<SharedLogSubject>; needsPostgres?: boolean }> = {
    memory: { create: async () => memoryLog(false) },
    'memory with compaction': { create: async () => memoryLog(true) },
    'Storex on Dexie': { create: () => storexLog('dexie') },
    'Storex on SQLite': { create: () => storexLog('sqlite') },
    'HTTP on SQLite': { create: () => httpLog(new SqliteDocStore({ filename: ':memory:' })) },
    'HTTP on PostgreSQL': {
        needsPostgres: true,
        create: () => {
            const schema = `synclog_values_${process.pid}_${++postgresSchemas}`
            return httpLog(new PostgresDocStore({ connectionString: testPostgresUrl(), schema }), () => dropPostgresSchemas(schema))
        },
    },
}

function memoryLog(compact: boolean): SharedLogSubject {
    const log = new MemorySharedSyncLog({ compact, generateDeviceId: sequentialDeviceIds() })
    return { logForDevice: () => log, allEntries: () => readAll(log), cleanup: async () => {} }
}

/** `Object.prototype.toString` tags, not instanceof: Dexie in Node returns Dates from another realm. */
export function isDate(value: unknown): value is Date {
    return Object.prototype.toString.call(value) === '[object Date]'
}

/**
 * Text for a value that tells every type apart: a Date from its ISO string, -0 from 0, a
 * Uint8Array from an array; object keys sorted (SQL backends sort a JSON column's keys).
 */
export function typedText(value: unknown): string {
    return JSON.stringify(typed(value))
}

function typed(value: unknown): unknown {
    if (typeof value === 'number') {
        return Object.is(value, -0) ? { number: '-0' } : { number: String(value) }
    }
    if (typeof value === 'string') {
        // JSON.stringify shows lone surrogates and NUL as escapes, so they stay visible in a diff.
        return { string: value }
    }
    if (value === null || typeof value !== 'object') {
        return value === undefined ? { undefined: true } : value
    }
    if (Array.isArray(value)) {
        return value.map(typed)
    }
    const kind = Object.prototype.toString.call(value)
    if (kind === '[object Date]') {
        return { date: (value as Date).toISOString() }
    }
    if (kind === '[object Uint8Array]') {
        return { bytes: Array.from(value as Uint8Array) }
    }
    const record = value as Record<string, unknown>
    return {
        object: Object.keys(record)
            .filter(key => record[key] !== undefined)
            .sort()
            .map(key => [key, typed(record[key])]),
    }
}

/**
 * What a backend makes of a value of a field, beyond the sync's reach: SQLite (through TypeORM)
 * stores text through UTF-8, so a lone surrogate becomes U+FFFD; stores -0 as 0; and keeps a json
 * column as JSON text (Dates inside become ISO strings, -0 becomes 0). Dexie keeps every value.
 */
export function asStoredBy(backend: BackendName, field: string, value: unknown): unknown {
    if (backend === 'dexie' || value === null || value === undefined) {
        return value
    }
    const type = (THING_FIELDS as Record<string, string>)[field]
    if (type === 'json') {
        return JSON.parse(JSON.stringify(value))
    }
    if (typeof value === 'string') {
        return value.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    }
    if (typeof value === 'number' && Object.is(value, -0)) {
        return 0
    }
    return value
}

/** A device's objects of a collection, each as typed text, sorted; unset (null) fields left out. */
export async function typedDump(storageManager: StorageManager, collection = THING): Promise<string[]> {
    const objects = (await storageManager.collection(collection).findObjects({})) as Array<Record<string, unknown>>
    return objects.map(object => typedText(withoutNulls(object))).sort()
}

export function withoutNulls(object: Record<string, unknown>): Record<string, unknown> {
    return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== null && value !== undefined))
}
