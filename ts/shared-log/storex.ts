import type StorageManager from '@worldbrain/storex'
import type { OperationBatch, StorageRegistry } from '@worldbrain/storex'
import { v4 as uuidv4 } from 'uuid'
import { decodeValue, encodeEntry, entryId } from '../entries'
import type { JsonValue } from '../entries'
import type { SyncLogEntry, SyncOperation, PrimaryKey } from '../entries/types'
import { SyncConfigurationError } from '../errors'
import {
    DEFAULT_READ_LIMIT,
    assertDeviceId,
    formatSequenceCursor,
    parseSequenceCursor,
    resolveReadLimit,
} from './arguments'
import type { SharedLogCursor, SharedLogReadResult, SharedSyncLog } from './types'
import { entryFieldDefinitions } from '../entries/storex-fields'

export interface StorexSharedSyncLogOptions {
    /** Holds the log; its registry must have had `StorexSharedSyncLog.registerCollections` called before initialization. */
    storageManager: StorageManager
    /** Issues the id of a device registered without one. Default: a random UUID v4. */
    generateDeviceId?: () => string
    /** Page size of `readEntries` calls without a `limit`. Default: 1000. */
    defaultReadLimit?: number
}

/** Names of the log's collections, prefixed so they do not clash with an app's own. */
export const SHARED_LOG_COLLECTIONS = {
    entry: 'sharedSyncLogEntry',
    device: 'sharedSyncLogDevice',
    meta: 'sharedSyncLogMeta',
} as const

/** Schema version of the log's collections; fixed, so registering them never moves an app's schema version forward. */
export const SHARED_LOG_SCHEMA_VERSION = new Date('2026-01-01T00:00:00Z')

const SEQUENCE_META_ID = 'sequence'

interface EntryRow {
    id: string
    seq: number
    writerDeviceId: string
    collection: string
    pk: PrimaryKey
    operation: SyncOperation
    field: string | null
    /** Encoded (ts/entries/values.ts): SQL backends keep a json column as text, which would turn a Date into a string. */
    value: JsonValue
    version: number
    deviceId: string
    schemaVersion: number
}

interface DeviceRow {
    id: string
    acknowledgedSeq: number | null
}

interface MetaRow {
    id: string
    value: number
}

/**
 * Serializes writes per storage manager: a write reads the sequence counter and then stores
 * entries numbered after it, so two interleaved writes would hand out the same numbers (and a
 * reader could pass a number before the entry holding it is stored). Only guards one process.
 */
const writeQueues = new WeakMap<StorageManager, Promise<unknown>>()

function serialized<T>(storageManager: StorageManager, task: () => Promise<T>): Promise<T> {
    const previous = writeQueues.get(storageManager) ?? Promise.resolve()
    const result = previous.then(task, task)
    writeQueues.set(storageManager, result.catch(() => undefined))
    return result
}

/**
 * A shared log kept in a Storex storage manager (e.g. its own Dexie database). Each entry is one
 * object whose primary key is its `entryId()`, numbered by a counter; a cursor is that number.
 */
export class StorexSharedSyncLog implements SharedSyncLog {
    private readonly storageManager: StorageManager
    private readonly generateDeviceId: () => string
    private readonly defaultReadLimit: number

    /** Registers the log's collections; call before `storageManager.finishInitialization()`. */
    static registerCollections(registry: StorageRegistry): void {
        const version = SHARED_LOG_SCHEMA_VERSION
        registry.registerCollections({
            [SHARED_LOG_COLLECTIONS.entry]: {
                version,
                fields: { id: { type: 'string' }, seq: { type: 'int' }, writerDeviceId: { type: 'string' }, ...entryFieldDefinitions() },
                indices: [{ field: 'id', pk: true }, { field: 'seq' }, { field: 'writerDeviceId' }],
            },
            [SHARED_LOG_COLLECTIONS.device]: {
                version,
                fields: { id: { type: 'string' }, acknowledgedSeq: { type: 'int', optional: true } },
                indices: [{ field: 'id', pk: true }],
            },
            [SHARED_LOG_COLLECTIONS.meta]: {
                version,
                fields: { id: { type: 'string' }, value: { type: 'int' } },
                indices: [{ field: 'id', pk: true }],
            },
        })
    }

    constructor(options: StorexSharedSyncLogOptions) {
        const missing = Object.values(SHARED_LOG_COLLECTIONS).filter((name) => !options.storageManager.registry.collections[name])
        if (missing.length) {
            throw new SyncConfigurationError(
                `StorexSharedSyncLog needs collections ${missing.join(', ')}: call StorexSharedSyncLog.registerCollections(registry) before finishInitialization()`,
            )
        }
        this.storageManager = options.storageManager
        this.generateDeviceId = options.generateDeviceId ?? uuidv4
        this.defaultReadLimit = resolveReadLimit(options.defaultReadLimit, DEFAULT_READ_LIMIT)
    }

    async registerDevice(options: { deviceId?: string } = {}): Promise<{ deviceId: string }> {
        const deviceId = options.deviceId ?? this.generateDeviceId()
        assertDeviceId(deviceId)
        await serialized(this.storageManager, async () => {
            if (!(await this.findDevice(deviceId))) {
                await this.collection('device').createObject({ id: deviceId, acknowledgedSeq: null })
            }
        })
        return { deviceId }
    }

    async writeEntries(options: { deviceId: string; entries: SyncLogEntry[] }): Promise<void> {
        assertDeviceId(options.deviceId)
        const unique = new Map(options.entries.map((entry) => [entryId(entry), entry]))
        if (!unique.size) {
            return
        }
        await serialized(this.storageManager, async () => {
            // Existence is checked by primary key rather than relying on createObject's upsert, which
            // would renumber a rewritten entry (delivering it twice) and fails outright on SQL backends.
            const ids = [...unique.keys()]
            const existing = await Promise.all(ids.map((id) => this.collection('entry').findObject({ id })))
            const fresh = ids.filter((_, index) => !existing[index])
            if (!fresh.length) {
                return
            }
            const counter = await this.collection('meta').findObject<MetaRow>({ id: SEQUENCE_META_ID })
            const first = (counter?.value ?? 0) + 1
            const last = first + fresh.length - 1
            // The counter goes first: where the backend runs a batch without a transaction (Dexie in
            // Node), a reader must never see an entry numbered beyond the counter, or its cursor
            // would be refused as 'ahead of this log'.
            const batch: OperationBatch = [
                counter
                    ? { operation: 'updateObjects', collection: SHARED_LOG_COLLECTIONS.meta, where: { id: SEQUENCE_META_ID }, updates: { value: last } }
                    : { operation: 'createObject', collection: SHARED_LOG_COLLECTIONS.meta, args: { id: SEQUENCE_META_ID, value: last } },
                ...fresh.map((id, index) => ({
                    operation: 'createObject' as const,
                    collection: SHARED_LOG_COLLECTIONS.entry,
                    args: toRow(unique.get(id) as SyncLogEntry, { id, seq: first + index, writerDeviceId: options.deviceId }),
                })),
            ]
            await this.storageManager.operation('executeBatch', batch)
        })
    }

    async readEntries(options: {
        deviceId: string
        cursor?: SharedLogCursor | null
        limit?: number
    }): Promise<SharedLogReadResult> {
        assertDeviceId(options.deviceId)
        const limit = resolveReadLimit(options.limit, this.defaultReadLimit)
        let startCursor = options.cursor ?? null
        if (options.cursor === undefined) {
            const device = await this.findDevice(options.deviceId)
            startCursor = device?.acknowledgedSeq != null ? formatSequenceCursor(device.acknowledgedSeq) : null
        }
        let after = parseSequenceCursor(startCursor, await this.lastSeq())

        // Rows are fetched limit + 1 at a time until limit + 1 other devices' entries are found (the
        // extra one says whether there is more) or the log ends; the reader's own rows do not count.
        const found: EntryRow[] = []
        const start = after
        for (;;) {
            const rows = await this.collection('entry').findObjects<EntryRow>(
                { seq: { $gt: after } },
                { order: [['seq', 'asc']], limit: limit + 1 },
            )
            found.push(...rows.filter((row) => row.writerDeviceId !== options.deviceId))
            if (rows.length) {
                after = rows[rows.length - 1].seq
            }
            if (rows.length < limit + 1 || found.length > limit) {
                break
            }
        }
        const page = found.slice(0, limit)
        const hasMore = found.length > limit
        // Read to the end: the cursor passes the reader's own rows too, so the next read does not
        // fetch them again. Rows become visible in seq order (a batch creates them in order), so
        // every row up to the last one fetched has been seen.
        const through = hasMore ? page[page.length - 1].seq : after
        return {
            entries: page.map(fromRow),
            cursor: through > start ? formatSequenceCursor(through) : startCursor,
            hasMore,
        }
    }

    async acknowledge(options: { deviceId: string; cursor: SharedLogCursor }): Promise<void> {
        assertDeviceId(options.deviceId)
        await serialized(this.storageManager, async () => {
            const acknowledgedSeq = parseSequenceCursor(options.cursor, await this.lastSeq())
            if (await this.findDevice(options.deviceId)) {
                await this.collection('device').updateObjects({ id: options.deviceId }, { acknowledgedSeq })
            } else {
                await this.collection('device').createObject({ id: options.deviceId, acknowledgedSeq })
            }
        })
    }

    private collection(name: keyof typeof SHARED_LOG_COLLECTIONS) {
        return this.storageManager.collection(SHARED_LOG_COLLECTIONS[name])
    }

    private findDevice(deviceId: string): Promise<DeviceRow | null> {
        return this.collection('device').findObject<DeviceRow>({ id: deviceId })
    }

    private async lastSeq(): Promise<number> {
        const counter = await this.collection('meta').findObject<MetaRow>({ id: SEQUENCE_META_ID })
        return counter?.value ?? 0
    }
}

function toRow(entry: SyncLogEntry, stored: Pick<EntryRow, 'id' | 'seq' | 'writerDeviceId'>): EntryRow {
    return { ...stored, ...encodeEntry(entry) }
}

function fromRow(row: EntryRow): SyncLogEntry {
    return {
        collection: row.collection,
        pk: row.pk,
        operation: row.operation,
        field: row.field ?? null,
        value: decodeValue(row.value ?? null),
        version: row.version,
        deviceId: row.deviceId,
        schemaVersion: row.schemaVersion,
    }
}
