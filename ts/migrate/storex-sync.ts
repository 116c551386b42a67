import type { StorageRegistry } from '@worldbrain/storex'
import type { StoredObject } from '../backend/types'
import { CLIENT_LOG_COLLECTIONS } from '../client-log/collections'
import type { PrimaryKey, SyncLogEntry, SyncOperation } from '../entries/types'
import { SyncError } from '../errors'
import { getPkFields, getSchemaVersion, withoutFields } from '../middleware/registry-info'
import { checkFieldValue } from '../middleware/write-checks'
import { assertPrimaryKey } from '../entries/values'
import { pkFieldsObject } from '../reconcile/lww'
import type { SyncSetup } from '../setup'

/**
 * Moving a device from @worldbrain/storex-sync to this library without losing a pending change.
 *
 * storex-sync keeps its client log in the app's database (`clientSyncLogEntry`), one entry per
 * create and per modified field (and, in later versions, per delete), ordered by the device's
 * `createdOn` timestamp. Entries with no `sharedOn` were never uploaded: those are the changes
 * only this device has. `migrateFromStorexSync` copies them into our client log as unshared
 * entries of this device, with versions that keep their order, so the next sync pass pushes them.
 */

/** storex-sync's client log collection name. */
export const STOREX_SYNC_CLIENT_LOG = 'clientSyncLogEntry'

/** storex-sync 0.1.1's definition of its client log (as its `ClientSyncLogStorage` declares it). */
export const STOREX_SYNC_CLIENT_LOG_DEFINITION = {
    version: new Date(2019, 2, 5),
    fields: {
        createdOn: { type: 'timestamp' },
        sharedOn: { type: 'timestamp', optional: true },
        needsIntegration: { type: 'boolean', optional: true },
        collection: { type: 'string' },
        pk: { type: 'json' },
        field: { type: 'string', optional: true },
        operation: { type: 'string' },
        value: { type: 'json', optional: true },
    },
    indices: [{ field: 'createdOn' }, { field: ['collection', 'pk'] }],
} as const

/** State key under which the migration records how far it got (in our sync state). */
const STATE_KEY = 'migration.storexSync'

export class StorexSyncMigrationError extends SyncError {
    constructor(code: 'STOREX_SYNC_LOG_NOT_REGISTERED' | 'STOREX_SYNC_ENTRY_INVALID' | 'STOREX_SYNC_UNSYNCED_COLLECTION', message: string, readonly entry?: StoredObject, options: { cause?: unknown } = {}) {
        super(code, message, options)
    }
}

/**
 * Registers storex-sync's client log collection (keeping its table and its entries readable).
 * Call before `setupSync`, with the app's own collections, on the database storex-sync used.
 * `definition` defaults to storex-sync 0.1.1's; pass yours if your app registered another one.
 */
export function registerStorexSyncClientLog(registry: StorageRegistry, options: { collection?: string; definition?: unknown } = {}): void {
    registry.registerCollections({ [options.collection ?? STOREX_SYNC_CLIENT_LOG]: (options.definition ?? copyDefinition()) as never })
}

function copyDefinition(): unknown {
    const { version, fields, indices } = STOREX_SYNC_CLIENT_LOG_DEFINITION
    return {
        version: new Date(version.getTime()),
        fields: Object.fromEntries(Object.entries(fields).map(([name, field]) => [name, { ...field }])),
        indices: indices.map(index => ({ field: Array.isArray(index.field) ? [...index.field] : index.field })),
    }
}

export interface MigrateFromStorexSyncOptions {
    /** The device's sync, as `setupSync` returned it (set up on the database storex-sync used). */
    sync: SyncSetup
    /** Name of storex-sync's client log collection. Default: `clientSyncLogEntry`. */
    collection?: string
}

export interface MigrateFromStorexSyncResult {
    /** Pending entries copied into our client log by this call. */
    migrated: number
    /** Pending entries an earlier call already copied. */
    alreadyMigrated: number
    /** Entries storex-sync had already uploaded (other devices have them). */
    shared: number
    /** Received entries storex-sync had not yet applied (the device that made them still has them). */
    unintegrated: number
    /** Versions given to the copied entries (null when none were copied). */
    versions: { first: number; last: number } | null
}

interface Progress {
    createdOn: number
    order: number
    lastVersion: number
    migrated: number
}

/**
 * Copies the device's unshared storex-sync entries into our client log (idempotent: a second
 * call copies nothing new). Every entry is checked first and everything is written in one
 * transaction, so a bad entry (`StorexSyncMigrationError`, or the value error our logging would
 * give) leaves our log unchanged. storex-sync's log is left as it is.
 */
export async function migrateFromStorexSync(options: MigrateFromStorexSyncOptions): Promise<MigrateFromStorexSyncResult> {
    const { sync } = options
    const collection = options.collection ?? STOREX_SYNC_CLIENT_LOG
    const registry = sync.storageManager.registry
    if (!registry.collections[collection]) {
        throw new StorexSyncMigrationError(
            'STOREX_SYNC_LOG_NOT_REGISTERED',
            `migrateFromStorexSync: collection '${collection}' is not registered; call registerStorexSyncClientLog(registry) before setupSync`,
        )
    }
    const rows = await sync.adapter.findObjects(collection, {})
    // storex-sync orders by createdOn; its auto-increment id (0.1.1) orders equal timestamps.
    const ordered = rows.map((row, index) => ({ row, order: typeof row.id === 'number' ? row.id : index })).sort((a, b) => Number(a.row.createdOn) - Number(b.row.createdOn) || a.order - b.order)
    const progress = (await sync.clientLog.getState<Progress>(STATE_KEY)) ?? null
    const synced = new Set(sync.collections)
    const schemaVersion = getSchemaVersion(registry, sync.collections)

    const result: MigrateFromStorexSyncResult = { migrated: 0, alreadyMigrated: 0, shared: 0, unintegrated: 0, versions: null }
    const entries: SyncLogEntry[] = []
    let version = progress?.lastVersion ?? 0
    let last: { createdOn: number; order: number } | null = null
    for (const { row, order } of ordered) {
        // Received entries carry the time they were received as sharedOn: look at integration first.
        if (row.needsIntegration) {
            result.unintegrated++
            continue
        }
        if (row.sharedOn) {
            result.shared++
            continue
        }
        const createdOn = Number(row.createdOn)
        if (progress && (createdOn < progress.createdOn || (createdOn === progress.createdOn && order <= progress.order))) {
            result.alreadyMigrated++
            continue
        }
        const entry = toEntry(row, { synced, registry })
        // Order kept, close to the original time: strictly increasing, never below createdOn.
        version = Math.max(Number.isFinite(createdOn) ? Math.floor(createdOn) : 0, version + 1)
        entries.push({ ...entry, version, deviceId: sync.deviceId, schemaVersion })
        last = { createdOn, order }
    }
    if (!entries.length || !last) {
        return result
    }
    const record: Progress = { ...last, lastVersion: version, migrated: (progress?.migrated ?? 0) + entries.length }
    await sync.adapter.atomic([CLIENT_LOG_COLLECTIONS.entry, CLIENT_LOG_COLLECTIONS.state], async ops => {
        await sync.clientLog.setState(STATE_KEY, record, ops)
        await sync.clientLog.insertEntries(ops, entries, { shared: false, needsIntegration: false })
    })
    // Changes made from now on must come after the migrated ones, whatever the wall clock says.
    sync.clock.receive(version, { checkDrift: false })
    result.migrated = entries.length
    result.versions = { first: entries[0].version, last: version }
    return result
}

function toEntry(row: StoredObject, context: { synced: Set<string>; registry: StorageRegistry }): Pick<SyncLogEntry, 'collection' | 'pk' | 'operation' | 'field' | 'value'> {
    const invalid = (problem: string) => new StorexSyncMigrationError('STOREX_SYNC_ENTRY_INVALID', `migrateFromStorexSync: entry ${JSON.stringify(describeRow(row))} ${problem}`, row)
    const collection = row.collection
    if (typeof collection !== 'string' || !collection) {
        throw invalid('has no collection')
    }
    if (!context.synced.has(collection)) {
        throw new StorexSyncMigrationError(
            'STOREX_SYNC_UNSYNCED_COLLECTION',
            `migrateFromStorexSync: a pending entry changes '${collection}', which setupSync does not sync; add it to 'collections' (or remove the entry) so the change is not lost`,
            row,
        )
    }
    const operation = row.operation as SyncOperation
    if (operation !== 'create' && operation !== 'modify' && operation !== 'delete') {
        throw invalid(`has the unknown operation ${JSON.stringify(row.operation)}`)
    }
    const pk = row.pk as PrimaryKey
    if (pk === null || pk === undefined) {
        throw invalid('has no primary key (storex-sync logged auto-increment keys without one)')
    }
    const pkFields = getPkFields(context.registry, collection)
    try {
        assertPrimaryKey(pk)
        pkFieldsObject({ collection, pk, pkFields })
    } catch (error) {
        throw new StorexSyncMigrationError('STOREX_SYNC_ENTRY_INVALID', `migrateFromStorexSync: entry ${JSON.stringify(describeRow(row))} has a primary key that does not fit '${collection}': ${(error as Error).message}`, row, { cause: error })
    }
    if (operation === 'delete') {
        return { collection, pk, operation, field: null, value: null }
    }
    if (operation === 'modify') {
        const field = row.field
        if (typeof field !== 'string' || !field || pkFields.includes(field)) {
            throw invalid('is a modify without a (non-key) field')
        }
        const value = row.value === undefined ? null : row.value
        checkFieldValue(collection, field, value)
        return { collection, pk, operation, field, value }
    }
    const value = row.value
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
        throw invalid('is a create without an object value')
    }
    const fields = withoutFields(value as StoredObject, pkFields)
    for (const [field, inner] of Object.entries(fields)) {
        checkFieldValue(collection, field, inner)
    }
    return { collection, pk, operation, field: null, value: fields }
}

function describeRow(row: StoredObject): StoredObject {
    const { collection, pk, operation, field, createdOn } = row
    return { collection, pk, operation, field, createdOn }
}
