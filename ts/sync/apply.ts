import type { StorageRegistry, OperationBatch } from '@worldbrain/storex'
import type { AtomicOperations, BackendAdapter, StoredObject } from '../backend/types'
import type { HybridLogicalClock } from '../clock/hlc'
import type { ClientSyncLog } from '../client-log/client-log'
import { CLIENT_LOG_COLLECTIONS } from '../client-log/collections'
import { rowToEntry } from '../client-log/rows'
import type { SyncLogEntry } from '../entries/types'
import { entryFieldKey, entryId, entryObjectKey } from '../entries/keys'
import { compareEntryVersions } from '../entries/order'
import type { Reconciler } from '../reconcile/types'
import { SyncError } from '../errors'
import { getPkFields } from '../middleware/registry-info'
import { findEntryProblem } from './validate'

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
    const rows = await ctx.clientLog.getRowsForObjects(incoming.map(entryObjectKey), ops)
    const known = rows.filter(row => !row.needsIntegration).map(rowToEntry)
    const heldIds = new Set(rows.filter(row => row.needsIntegration).map(row => row.id))
    const relevant = withoutSuperseded(incoming, known)
    const { batch, newEntries } = ctx.reconciler({ known, incoming: relevant, pkFields: collection => getPkFields(ctx.registry, collection) })
    // A held entry that the device's entries now supersede is settled too: released, then compacted.
    const relevantSet = new Set(relevant)
    const settledHeld = incoming.filter(entry => !relevantSet.has(entry) && heldIds.has(entryId(entry)))
    if (!newEntries.length && !settledHeld.length) {
        // Nothing new (a duplicate delivery): no write, and no idle awaits inside the transaction.
        return { applied: [], operations: 0 }
    }
    await executeBatch(ops, batch)
    const fresh = newEntries.filter(entry => !heldIds.has(entryId(entry)))
    const released = [...newEntries.filter(entry => heldIds.has(entryId(entry))), ...settledHeld]
    if (fresh.length) {
        await ctx.clientLog.insertEntries(ops, fresh, { shared: true, needsIntegration: false })
    }
    if (released.length) {
        await ctx.clientLog.markIntegrated(ops, released)
        await ctx.clientLog.releaseQuarantine(ops, released.map(entryId))
    }
    await ctx.clientLog.compactObjects(ops, [...newEntries, ...settledHeld].map(entryObjectKey))
    return { applied: newEntries, operations: batch.length }
}

/**
 * Drops incoming entries that what the device holds already supersedes. The client log compacts
 * such entries away, so a re-delivered one would otherwise look new: it cannot change the state,
 * but it would be recorded again and counted as applied.
 */
function withoutSuperseded(incoming: SyncLogEntry[], known: SyncLogEntry[]): SyncLogEntry[] {
    const newest = new Map<string, SyncLogEntry>()
    const keep = (key: string, entry: SyncLogEntry) => {
        const current = newest.get(key)
        if (!current || compareEntryVersions(entry, current) > 0) {
            newest.set(key, entry)
        }
    }
    for (const entry of known) {
        keep(entryFieldKey(entry), entry)
        if (entry.operation !== 'modify') {
            keep(entryObjectKey(entry), entry)
        }
    }
    return incoming.filter(entry => {
        const sameField = newest.get(entryFieldKey(entry))
        if (sameField && compareEntryVersions(sameField, entry) > 0) {
            return false
        }
        const lifecycle = newest.get(entryObjectKey(entry))
        return !(entry.operation === 'modify' && lifecycle && compareEntryVersions(lifecycle, entry) > 0)
    })
}

async function recordHeld(ctx: ApplyContext, ops: AtomicOperations, held: ApplyResult['held']): Promise<void> {
    if (!held.length) {
        return
    }
    const ids = held.map(item => entryId(item.entry))
    const existing = new Set((await ops.findObjects(CLIENT_LOG_COLLECTIONS.entry, { id: { $in: ids } })).map(row => row.id as string))
    const unique = new Map(held.filter(item => !existing.has(entryId(item.entry))).map(item => [entryId(item.entry), item.entry]))
    await ctx.clientLog.insertEntries(ops, [...unique.values()], { shared: true, needsIntegration: true })
    await ctx.clientLog.quarantine(ops, held.map(item => ({ id: entryId(item.entry), code: item.code, reason: item.reason, at: ctx.now() })))
}

/** Applies a reconciler batch; creates use put so an object that exists without history is replaced. */
export async function executeBatch(ops: AtomicOperations, batch: OperationBatch): Promise<void> {
    for (const step of batch) {
        if (step.operation === 'createObject') {
            await ops.putObject(step.collection, step.args as StoredObject)
        } else if (step.operation === 'updateObjects') {
            await ops.updateObjects(step.collection, step.where as StoredObject, step.updates as StoredObject)
        } else if (step.operation === 'deleteObjects') {
            await ops.deleteObjects(step.collection, step.where as StoredObject)
        }
    }
}
