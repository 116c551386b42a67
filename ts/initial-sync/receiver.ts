import type { AtomicOperations } from '../backend/types'
import { CLIENT_LOG_COLLECTIONS } from '../client-log/collections'
import type { SyncLogEntry } from '../entries/types'
import { entryObjectKey } from '../entries/keys'
import { getPkFields, getSchemaVersion, pkWhere } from '../middleware/registry-info'
import type { SyncSetup } from '../setup'
import { applyEntries } from '../sync/apply'
import type { ApplyContext } from '../sync/apply'
import { PULL_CURSOR_KEY } from '../sync/sync-pass'
import { batchChecksum, chainChecksum, EMPTY_CHAIN, fromWireEntry } from './codec'
import {
    InitialSyncAbortedError,
    InitialSyncChecksumError,
    InitialSyncOutOfOrderError,
    InitialSyncProtocolError,
    InitialSyncUnsyncedCollectionError,
} from './errors'
import { INITIAL_SYNC_PROTOCOL, expectMessage } from './messages'
import type { InitialSyncMessage } from './messages'
import { resolveCommon, resolveReceive } from './options'
import type { InitialSyncStats, ReceiveInitialSyncOptions } from './options'
import { Session } from './session'
import { baselineEntry } from './snapshot'
import { clearReceiveState, loadReceiveState, saveReceiveState } from './state'
import type { ReceiveState } from './state'

/**
 * Receives a whole database from the device on the other end of `channel` and merges each
 * batch in one transaction with the same reconciler as continuous sync: a newer local value is
 * never overwritten by an older incoming one, and the merged entries are recorded as received
 * (shared), never as this device's own changes to push. A batch is acknowledged only after it
 * committed, so the database always holds whole batches; an interrupted transfer resumes after
 * the last committed one.
 */
export async function receiveInitialSync(options: ReceiveInitialSyncOptions): Promise<InitialSyncStats> {
    const common = resolveCommon(options)
    const { adoptCursor } = resolveReceive(options)
    const { sync, channel } = options
    const started = common.now()
    const session = new Session(channel, common.control, common.stallTimeoutMs)
    const context = applyContext(sync)
    let transferId: string | null = null
    try {
        await session.start()
        const previous = await loadReceiveState(sync.clientLog)
        await session.send({
            type: 'hello',
            protocol: INITIAL_SYNC_PROTOCOL,
            role: 'receiver',
            deviceId: sync.deviceId,
            collections: sync.collections,
            resume: previous ? { transferId: previous.transferId, appliedSeq: previous.appliedSeq } : null,
        })
        const hello = expectMessage(await session.receive('hello'), 'hello')
        if (hello.role !== 'sender' || hello.protocol !== INITIAL_SYNC_PROTOCOL || hello.deviceId === sync.deviceId) {
            throw new InitialSyncProtocolError(
                hello.role !== 'sender'
                    ? 'both sides are receivers: run sendInitialSync on the other device'
                    : hello.protocol !== INITIAL_SYNC_PROTOCOL
                      ? `the other side speaks protocol ${hello.protocol}, this one ${INITIAL_SYNC_PROTOCOL}`
                      : 'both ends are the same device',
            )
        }
        const summary = expectMessage(await session.receive('summary'), 'summary')
        let state: ReceiveState
        if (summary.resumedAfter > 0) {
            if (!previous || previous.transferId !== summary.transferId || previous.appliedSeq !== summary.resumedAfter || previous.senderDeviceId !== hello.deviceId) {
                throw new InitialSyncOutOfOrderError(`the sender resumes transfer ${summary.transferId} after batch ${summary.resumedAfter}, which this device did not commit`)
            }
            state = previous
        } else {
            state = {
                transferId: summary.transferId,
                senderDeviceId: hello.deviceId,
                appliedSeq: 0,
                chain: EMPTY_CHAIN,
                objectsDone: 0,
                bytesDone: 0,
                nonEmpty: await nonEmptyCollections(sync),
            }
        }
        transferId = state.transferId
        options.onSummary?.({
            transferId: summary.transferId,
            collections: summary.collections,
            objectsTotal: summary.objectsTotal,
            bytesEstimate: summary.bytesEstimate,
            objectsDone: state.objectsDone,
            resumed: summary.resumedAfter > 0,
        })
        const synced = new Set(sync.collections)
        for (;;) {
            const message = await session.receive(`batch ${state.appliedSeq + 1}`)
            if (message.type === 'done') {
                await finish(sync, state, message, adoptCursor)
                await session.send({ type: 'complete', transferId: state.transferId })
                session.finish()
                return { objects: state.objectsDone, bytes: state.bytesDone, batches: state.appliedSeq, ms: common.now() - started }
            }
            const batch = expectMessage(message, 'batch')
            if (batch.transferId !== state.transferId || batch.seq !== state.appliedSeq + 1) {
                throw new InitialSyncOutOfOrderError(`batch ${batch.seq} of transfer ${batch.transferId}, expected batch ${state.appliedSeq + 1} of ${state.transferId}`)
            }
            const checksum = await batchChecksum(batch.transferId, batch.seq, batch.entries)
            if (checksum !== batch.checksum) {
                throw new InitialSyncChecksumError('batch', `batch ${batch.seq} hashes to ${checksum}, the sender said ${batch.checksum}`)
            }
            const unsynced = batch.entries.find(entry => !synced.has(entry.collection))
            if (unsynced) {
                throw new InitialSyncUnsyncedCollectionError(unsynced.collection)
            }
            const entries = batch.entries.map(fromWireEntry)
            const next: ReceiveState = {
                ...state,
                appliedSeq: batch.seq,
                chain: await chainChecksum(state.chain, checksum),
                objectsDone: state.objectsDone + batch.objects,
                bytesDone: state.bytesDone + batch.bytes,
            }
            await applyEntries(context, entries, async ops => {
                await recordOwnBaselines(sync, state.nonEmpty, entries, ops)
                await saveReceiveState(sync.clientLog, next, ops)
            })
            state = next
            await session.send({ type: 'ack', transferId: state.transferId, seq: state.appliedSeq })
            options.onProgress?.({ objectsDone: state.objectsDone, objectsTotal: Math.max(summary.objectsTotal, state.objectsDone), bytesDone: state.bytesDone })
        }
    } catch (error) {
        if (error instanceof InitialSyncAbortedError && transferId !== null) {
            await clearReceiveState(sync.clientLog).catch(() => undefined)
        }
        await session.fail(error)
        throw error
    } finally {
        common.detach()
    }
}

function applyContext(sync: SyncSetup): ApplyContext {
    const registry = sync.storageManager.registry
    return {
        registry,
        adapter: sync.adapter,
        clientLog: sync.clientLog,
        clock: sync.clock,
        reconciler: sync.reconciler,
        synced: new Set(sync.collections),
        localSchemaVersion: getSchemaVersion(registry, sync.collections),
        now: Date.now,
    }
}

/** Checks the whole-transfer checksum, then adopts the handed-over cursor and ends the transfer in one step. */
async function finish(sync: SyncSetup, state: ReceiveState, done: Extract<InitialSyncMessage, { type: 'done' }>, adoptCursor: boolean): Promise<void> {
    if (done.transferId !== state.transferId || done.batches !== state.appliedSeq) {
        throw new InitialSyncOutOfOrderError(`end of transfer ${done.transferId} after ${done.batches} batches; this device committed ${state.appliedSeq} of ${state.transferId}`)
    }
    if (done.checksum !== state.chain || done.objects !== state.objectsDone) {
        throw new InitialSyncChecksumError('transfer', `the batches hash to ${state.chain || '(nothing)'}, the sender said ${done.checksum || '(nothing)'}`)
    }
    await sync.adapter.atomic([CLIENT_LOG_COLLECTIONS.state], async ops => {
        if (adoptCursor && done.cursor !== null) {
            await sync.clientLog.setState(PULL_CURSOR_KEY, done.cursor, ops)
        }
        await clearReceiveState(sync.clientLog, ops)
    })
}

async function nonEmptyCollections(sync: SyncSetup): Promise<string[]> {
    const result: string[] = []
    for (const collection of sync.collections) {
        if ((await sync.adapter.findObjects(collection, {}, { limit: 1 })).length) {
            result.push(collection)
        }
    }
    return result
}

/**
 * An object this device had before sync was switched on has no log entries, so the reconciler
 * would see it as absent and an incoming create would simply replace it. Recording its
 * version-0 create first lets last-write-wins decide between the two devices' objects the
 * same way on both ends (a two-way merge converges). Only collections that held objects when
 * the transfer started can have such objects.
 */
async function recordOwnBaselines(sync: SyncSetup, nonEmpty: string[], entries: SyncLogEntry[], ops: AtomicOperations): Promise<void> {
    if (!nonEmpty.length) {
        return
    }
    const candidates = new Map<string, SyncLogEntry>()
    for (const entry of entries) {
        if (nonEmpty.includes(entry.collection)) {
            candidates.set(entryObjectKey(entry), entry)
        }
    }
    if (!candidates.size) {
        return
    }
    const logged = new Set((await sync.clientLog.getRowsForObjects([...candidates.keys()], ops)).map(row => row.objectKey))
    const registry = sync.storageManager.registry
    const schemaVersion = getSchemaVersion(registry, sync.collections)
    const baselines: SyncLogEntry[] = []
    for (const [key, entry] of candidates) {
        if (logged.has(key)) {
            continue
        }
        const pkFields = getPkFields(registry, entry.collection)
        const [object] = await ops.findObjects(entry.collection, pkWhere(entry.pk, pkFields))
        if (object) {
            baselines.push(baselineEntry({ collection: entry.collection, pk: entry.pk, object, pkFields, deviceId: sync.deviceId, schemaVersion }))
        }
    }
    if (baselines.length) {
        await sync.clientLog.insertEntries(ops, baselines, { shared: true, needsIntegration: false })
    }
}
