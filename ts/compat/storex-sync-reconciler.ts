import StorageManager from '@worldbrain/storex'
import type { OperationBatch } from '@worldbrain/storex'
import { DexieStorageBackend } from '@worldbrain/storex-backend-dexie'
import inMemory from '@worldbrain/storex-backend-dexie/lib/in-memory'
import type { PrimaryKey, SyncLogEntry } from '../entries/types'
import { reconcileLww } from '../reconcile/lww'
import { canonicalJson } from '../integration/devices'

/**
 * Runs storex-sync 0.1.1's published reconciler cases against our reconciler, comparing the
 * *data* each side produces, never the operation lists (ours are different by design: one batch
 * of createObject/updateObjects/deleteObjects). For every case both sides start from the same
 * database, once empty and once holding the objects the entries talk about, and the resulting
 * databases must be equal.
 */

/** storex-sync 0.1.1's client log entry as its reconciler cases write it. */
export interface StorexSyncEntry {
    operation: 'create' | 'modify' | 'delete'
    createdOn: number
    /** Set: already shared (so already reflected locally); null: still to integrate. */
    sharedOn: number | null
    needsIntegration: boolean
    collection: string
    pk: PrimaryKey
    field?: string
    value?: unknown
}

/** storex-sync 0.1.1's reconciler output. */
export type StorexSyncOperation =
    | { operation: 'createObject'; collection: string; args: Record<string, unknown> }
    | { operation: 'updateOneObject'; collection: string; args: [Record<string, unknown>, Record<string, unknown>] }
    | { operation: 'deleteOneObject'; collection: string; args: [Record<string, unknown>] }

/** The schema of the published cases: both collections keyed by `id`. */
const COLLECTIONS = {
    list: { version: new Date('2019-02-02'), fields: { id: { type: 'string' }, title: { type: 'string' } }, indices: [{ field: 'id', pk: true }] },
    listEntry: { version: new Date('2019-02-02'), fields: { id: { type: 'string' }, title: { type: 'string' }, url: { type: 'string' } }, indices: [{ field: 'id', pk: true }] },
} as const

/** What the "existing objects" database holds before the entries are reconciled. */
export const EXISTING_OBJECTS: Record<string, Array<Record<string, unknown>>> = {
    list: [{ id: 'list-one', title: 'initial', prio: 1 }],
    listEntry: [{ id: 'entry-one', title: 'initial', url: 'https://example.com/' }],
}

export type StartState = 'fresh' | 'existing'

/** One case's result: the data each side produced, per start state. */
export interface ReconcileComparison {
    fresh: { theirs: unknown; ours: unknown; error?: string }
    existing: { theirs: unknown; ours: unknown; error?: string }
    equal: boolean
}

let databases = 0

async function database(start: StartState): Promise<StorageManager> {
    const storageManager = new StorageManager({ backend: new DexieStorageBackend({ dbName: `storex-sync-reconcile-${++databases}`, idbImplementation: inMemory() }) })
    storageManager.registry.registerCollections(COLLECTIONS as never)
    await storageManager.finishInitialization()
    if (start === 'existing') {
        for (const [collection, objects] of Object.entries(EXISTING_OBJECTS)) {
            for (const object of objects) {
                await storageManager.backend.createObject(collection, { ...object })
            }
        }
    }
    return storageManager
}

async function contents(storageManager: StorageManager): Promise<Record<string, unknown[]>> {
    const result: Record<string, unknown[]> = {}
    for (const collection of Object.keys(COLLECTIONS)) {
        const objects = (await storageManager.backend.findObjects(collection, {})) as Array<Record<string, unknown>>
        // An unset field and a null one are the same to an app (one backend reads back null, another nothing).
        result[collection] = objects
            .map(object => JSON.parse(canonicalJson(Object.fromEntries(Object.entries(object).filter(([, value]) => value !== null && value !== undefined)))))
            .sort((a, b) => (canonicalJson(a) < canonicalJson(b) ? -1 : 1))
    }
    return result
}

async function applyTheirs(storageManager: StorageManager, operations: StorexSyncOperation[]): Promise<void> {
    for (const operation of operations) {
        if (operation.operation === 'createObject') {
            await storageManager.backend.createObject(operation.collection, { ...operation.args })
        } else if (operation.operation === 'updateOneObject') {
            await storageManager.backend.updateObjects(operation.collection, operation.args[0], operation.args[1])
        } else {
            await storageManager.backend.deleteObjects(operation.collection, operation.args[0])
        }
    }
}

/** Entries as our library holds them: version = createdOn, one device, shared ones already known. */
export function toOurEntries(entries: StorexSyncEntry[]): { known: SyncLogEntry[]; incoming: SyncLogEntry[] } {
    const convert = (entry: StorexSyncEntry): SyncLogEntry => ({
        collection: entry.collection,
        pk: entry.pk,
        operation: entry.operation,
        field: entry.operation === 'modify' ? (entry.field ?? null) : null,
        value: entry.operation === 'delete' ? null : (entry.value ?? null),
        version: entry.createdOn,
        deviceId: 'storex-sync-device',
        schemaVersion: 0,
    })
    return { known: entries.filter(entry => entry.sharedOn !== null).map(convert), incoming: entries.filter(entry => entry.sharedOn === null).map(convert) }
}

/**
 * Objects that exist before sync: our device holds them as creates older than every change
 * (what initial sync gives pre-sync objects), so a later change to them applies as it does upstream.
 */
function existingAsKnown(): SyncLogEntry[] {
    return Object.entries(EXISTING_OBJECTS).flatMap(([collection, objects]) =>
        objects.map(({ id, ...value }) => ({ collection, pk: id as string, operation: 'create' as const, field: null, value, version: 0, deviceId: '', schemaVersion: 0 })),
    )
}

async function applyOurs(storageManager: StorageManager, entries: StorexSyncEntry[], start: StartState): Promise<void> {
    const { known, incoming } = toOurEntries(entries)
    const { batch } = reconcileLww({ known: [...(start === 'existing' ? existingAsKnown() : []), ...known], incoming, pkFields: () => ['id'] })
    await storageManager.backend.executeBatch(batch as OperationBatch)
}

export async function compareReconciliation(entries: StorexSyncEntry[], expected: StorexSyncOperation[]): Promise<ReconcileComparison> {
    const result = {} as Omit<ReconcileComparison, 'equal'>
    for (const start of ['fresh', 'existing'] as const) {
        const theirs = await database(start)
        await applyTheirs(theirs, expected)
        const ours = await database(start)
        let error: string | undefined
        try {
            await applyOurs(ours, entries, start)
        } catch (caught) {
            const typed = caught as { code?: string; message?: string }
            error = `${typed.code ? `[${typed.code}] ` : ''}${typed.message}`
        }
        result[start] = { theirs: await contents(theirs), ours: await contents(ours), ...(error ? { error } : {}) }
    }
    const equal = (['fresh', 'existing'] as const).every(start => !result[start].error && canonicalJson(result[start].theirs) === canonicalJson(result[start].ours))
    return { ...result, equal }
}

/** Our reconciler's data for entries upstream expects to be refused (it throws; we merge). */
export async function ourData(entries: StorexSyncEntry[], start: StartState): Promise<Record<string, unknown[]>> {
    const storageManager = await database(start)
    await applyOurs(storageManager, entries, start)
    return contents(storageManager)
}
