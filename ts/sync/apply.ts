import type { StorageRegistry, OperationBatch } from '@worldbrain/storex'
import { putAll, updateEach } from '../backend/types'
import type { AtomicOperations, BackendAdapter, StoredObject } from '../backend/types'
import type { HybridLogicalClock } from '../clock/hlc'
import type { ClientSyncLog } from '../client-log/client-log'
import { CLIENT_LOG_COLLECTIONS } from '../client-log/collections'
import { entryToRow, rowToEntry } from '../client-log/rows'
import type { ClientLogRow } from '../client-log/rows'
import type { SyncLogEntry } from '../entries/types'
import { entryId, entryIdOf, entryObjectKey, fieldKeyOf } from '../entries/keys'
import { compareEntryVersions } from '../entries/order'
import type { Reconciler } from '../reconcile/types'
import { SyncError } from '../errors'
import { getPkFields } from '../middleware/registry-info'
import { reconcileLww } from '../reconcile/lww'
import { findEntryProblem } from './validate'
import { updatesAsPuts } from './whole-object-writes'

export interface ApplyContext {
    registry: StorageRegistry
    adapter: BackendAdapter
    clientLog: ClientSyncLog
    clock: HybridLogicalClock
    reconciler: Reconciler
    synced: Set<string>
    localSchemaVersion: number
    now: () => number
}

export interface ApplyResult {
    /** Entries newly reflected in the database. */
    applied: SyncLogEntry[]
    operations: number
    held: Array<{ entry: SyncLogEntry; code: string; reason: string }>
}

/**
 * Applies received entries: checks them, reconciles them against what the device already holds
 * for the same objects (read in bulk), and writes the resulting batch, the entries, the held
 * ones and `extraWrites` (e.g. the advanced cursor) in one transaction. A batch the backend
 * rejects is retried object by object, so one bad entry is held back and never blocks others.
 */
export async function applyEntries(ctx: ApplyContext, entries: SyncLogEntry[], extraWrites?: (ops: AtomicOperations) => Promise<void>): Promise<ApplyResult> {
    const held: ApplyResult['held'] = []
    const valid: SyncLogEntry[] = []
    for (const entry of entries) {
        const problem = findEntryProblem({ entry, registry: ctx.registry, synced: ctx.synced, localSchemaVersion: ctx.localSchemaVersion })
        if (problem) {
            held.push({ entry, ...problem })
            continue
        }
        try {
            ctx.clock.receive(entry.version)
            valid.push(entry)
        } catch (error) {
            held.push({ entry, code: error instanceof SyncError ? error.code : 'INVALID_ENTRY', reason: (error as Error).message })
        }
    }
    const collections = [...ctx.synced, CLIENT_LOG_COLLECTIONS.entry, CLIENT_LOG_COLLECTIONS.quarantine, CLIENT_LOG_COLLECTIONS.state]
    const run = (groups: SyncLogEntry[][], heldNow: ApplyResult['held'], withExtra: boolean) =>
        ctx.adapter.atomic(collections, async ops => {
            // Extra writes first: the transaction is atomic either way, and a Dexie transaction
            // commits early when a chain of awaits without requests (nothing new to write)
            // separates its last request from the next one.
            if (withExtra && extraWrites) {
                await extraWrites(ops)
            }
            let operations = 0
            const applied: SyncLogEntry[] = []
            for (const group of groups) {
                const result = await reconcileAndWrite(ctx, ops, group)
                operations += result.operations
                applied.push(...result.applied)
            }
            if (heldNow.length) {
                await recordHeld(ctx, ops, heldNow)
            }
            return { applied, operations }
        })

    try {
        const result = await run([valid], held, true)
        return { ...result, held }
    } catch {
        // Fall through: find the objects the backend rejects.
    }
    // Per object: find which objects the backend rejects and hold exactly their entries.
    const byObject = new Map<string, SyncLogEntry[]>()
    for (const entry of valid) {
        const key = entryObjectKey(entry)
        byObject.set(key, [...(byObject.get(key) ?? []), entry])
    }
    const good: SyncLogEntry[][] = []
    for (const group of byObject.values()) {
        try {
            await ctx.adapter.atomic(collections, async ops => {
                await reconcileAndWrite(ctx, ops, group)
                throw new ProbeRollback()
            })
        } catch (error) {
            if (error instanceof ProbeRollback) {
                good.push(group)
            } else {
                for (const entry of group) {
                    held.push({ entry, code: 'REJECTED_BY_BACKEND', reason: (error as Error).message })
                }
            }
        }
    }
    const result = await run(good, held, true)
    return { ...result, held }
}

/** Thrown to roll back a trial write that succeeded. */
class ProbeRollback extends Error {}

async function reconcileAndWrite(ctx: ApplyContext, ops: AtomicOperations, incoming: SyncLogEntry[]): Promise<{ applied: SyncLogEntry[]; operations: number }> {
    if (!incoming.length) {
        return { applied: [], operations: 0 }
    }
    // Each entry's object key once: it is a JSON encoding, and every step below needs it.
    const objectKeys = new Map<SyncLogEntry, string>()
    const keyOf = (entry: SyncLogEntry) => {
        let key = objectKeys.get(entry)
        if (key === undefined) {
            key = entryObjectKey(entry)
            objectKeys.set(entry, key)
        }
        return key
    }
    const rows = await ctx.clientLog.getRowsForObjects(incoming.map(keyOf), ops)
    const known: SyncLogEntry[] = []
    const heldIds = new Set<string>()
    for (const row of rows) {
        if (row.needsIntegration) {
            heldIds.add(row.id)
        } else {
            const entry = rowToEntry(row)
            objectKeys.set(entry, row.objectKey)
            known.push(entry)
        }
    }
    const isHeld = (entry: SyncLogEntry) => heldIds.size > 0 && heldIds.has(entryIdOf(fieldKeyOf(keyOf(entry), entry), entry))
    const relevant = withoutSuperseded(incoming, known, keyOf)
    const pkFields = (collection: string) => getPkFields(ctx.registry, collection)
    const { batch, newEntries } = ctx.reconciler({ known, incoming: relevant, pkFields })
    // A held entry that the device's entries now supersede is settled too: released, then compacted.
    const relevantSet = heldIds.size ? new Set(relevant) : null
    const settledHeld = relevantSet ? incoming.filter(entry => !relevantSet.has(entry) && isHeld(entry)) : []
    if (!newEntries.length && !settledHeld.length) {
        // Nothing new (a duplicate delivery): no write, and no idle awaits inside the transaction.
        return { applied: [], operations: 0 }
    }
    const writes = ctx.reconciler === reconcileLww ? updatesAsPuts({ batch, known, objectKeyOf: keyOf, pkFields }) : batch
    await executeBatch(ops, withSchemaTypes(ctx.registry, writes))
    const fresh = heldIds.size ? newEntries.filter(entry => !isHeld(entry)) : newEntries
    const released = heldIds.size ? [...newEntries.filter(isHeld), ...settledHeld] : []
    const freshRows = fresh.map(entry => entryToRow(entry, { shared: true, needsIntegration: false }, keyOf(entry)))
    if (released.length) {
        await ctx.clientLog.markIntegrated(ops, released, rows)
        await ctx.clientLog.releaseQuarantine(ops, released.map(entryId))
    }
    // The rows read above as this transaction has just changed them: compaction reads none again.
    const touched = new Set([...newEntries, ...settledHeld].map(keyOf))
    const releasedIds = new Set(released.map(entryId))
    const after: ClientLogRow[] = []
    for (const row of rows) {
        if (touched.has(row.objectKey)) {
            after.push(releasedIds.has(row.id) ? { ...row, needsIntegration: 0 } : row)
        }
    }
    await ctx.clientLog.storeReceived(ops, freshRows, after)
    return { applied: newEntries, operations: batch.length }
}

/**
 * Drops incoming entries that what the device holds already supersedes. The client log compacts
 * such entries away, so a re-delivered one would otherwise look new: it cannot change the state,
 * but it would be recorded again and counted as applied.
 */
function withoutSuperseded(incoming: SyncLogEntry[], known: SyncLogEntry[], keyOf: (entry: SyncLogEntry) => string): SyncLogEntry[] {
    if (!known.length) {
        return incoming
    }
    const newest = new Map<string, SyncLogEntry>()
    const keep = (key: string, entry: SyncLogEntry) => {
        const current = newest.get(key)
        if (!current || compareEntryVersions(entry, current) > 0) {
            newest.set(key, entry)
        }
    }
    for (const entry of known) {
        keep(fieldKeyOf(keyOf(entry), entry), entry)
        if (entry.operation !== 'modify') {
            keep(keyOf(entry), entry)
        }
    }
    return incoming.filter(entry => {
        const sameField = newest.get(fieldKeyOf(keyOf(entry), entry))
        if (sameField && compareEntryVersions(sameField, entry) > 0) {
            return false
        }
        const lifecycle = newest.get(keyOf(entry))
        return !(entry.operation === 'modify' && lifecycle && compareEntryVersions(lifecycle, entry) > 0)
    })
}

async function recordHeld(ctx: ApplyContext, ops: AtomicOperations, held: ApplyResult['held']): Promise<void> {
    const at = ctx.now()
    await ctx.clientLog.holdEntries(ops, held.map(item => ({ ...item, at })))
}

/** Applies a reconciler batch; creates use put so an object that exists without history is replaced. */
export async function executeBatch(ops: AtomicOperations, batch: OperationBatch): Promise<void> {
    for (let index = 0; index < batch.length; index++) {
        const step = batch[index]
        if (step.operation === 'createObject') {
            // A run of creates in one collection goes to the backend as one bulk put; order within
            // the run is kept, so a later create of the same key still wins.
            const objects: StoredObject[] = [step.args as StoredObject]
            while (index + 1 < batch.length && batch[index + 1].operation === 'createObject' && batch[index + 1].collection === step.collection) {
                objects.push((batch[++index] as { args: StoredObject }).args)
            }
            await putAll(ops, step.collection, objects)
        } else if (step.operation === 'updateObjects') {
            // A run of updates in one collection goes as one: its reads together, then its writes.
            const items = [{ where: step.where as StoredObject, updates: step.updates as StoredObject }]
            while (index + 1 < batch.length && batch[index + 1].operation === 'updateObjects' && batch[index + 1].collection === step.collection) {
                const next = batch[++index] as { where: StoredObject; updates: StoredObject }
                items.push({ where: next.where, updates: next.updates })
            }
            await updateEach(ops, step.collection, items)
        } else if (step.operation === 'deleteObjects') {
            await ops.deleteObjects(step.collection, step.where as StoredObject)
        }
    }
}

/**
 * A datetime field is written as a Date. Entries decoded from the value encoding already carry
 * Dates; this covers entries that travelled before it existed (client-log rows on SQLite, older
 * documents on the service), whose dates arrive as ISO strings or epoch milliseconds.
 */
export function withSchemaTypes(registry: StorageRegistry, batch: OperationBatch): OperationBatch {
    return batch.map(step => {
        if (step.operation !== 'createObject' && step.operation !== 'updateObjects') {
            return step
        }
        const dateFields = datetimeFields(registry, step.collection)
        if (!dateFields.length) {
            return step
        }
        const key = step.operation === 'createObject' ? 'args' : 'updates'
        const values = (step.operation === 'createObject' ? step.args : step.updates) as Record<string, unknown>
        if (!dateFields.some(field => isDateLike(values[field]))) {
            return step
        }
        const converted: Record<string, unknown> = { ...values }
        for (const field of dateFields) {
            if (isDateLike(converted[field])) {
                converted[field] = new Date(converted[field] as string | number)
            }
        }
        return { ...step, [key]: converted }
    })
}

const datetimeFieldCache = new WeakMap<StorageRegistry, Map<string, string[]>>()

function datetimeFields(registry: StorageRegistry, collection: string): string[] {
    let byCollection = datetimeFieldCache.get(registry)
    if (!byCollection) {
        byCollection = new Map()
        datetimeFieldCache.set(registry, byCollection)
    }
    let names = byCollection.get(collection)
    if (!names) {
        const fields = registry.collections[collection]?.fields ?? {}
        names = Object.keys(fields).filter(field => {
            const definition = fields[field] as { type: string; fieldObject?: { primitiveType?: string } }
            return (definition.fieldObject?.primitiveType ?? definition.type) === 'datetime'
        })
        byCollection.set(collection, names)
    }
    return names
}

/** ISO 8601 as `toISOString` (or JSON) writes it; other strings are left for the backend to judge. */
const ISO_DATE_TIME = /^(?:\d{4}|[+-]\d{6})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/

function isDateLike(value: unknown): boolean {
    const text = typeof value === 'string' && ISO_DATE_TIME.test(value)
    return (text || (typeof value === 'number' && Number.isFinite(value))) && !Number.isNaN(new Date(value as string | number).getTime())
}
