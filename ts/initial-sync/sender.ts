import { v4 as uuidv4 } from 'uuid'
import { CLIENT_LOG_COLLECTIONS } from '../client-log/collections'
import { batchChecksum, chainChecksum, EMPTY_CHAIN } from './codec'
import { InitialSyncAbortedError, InitialSyncOutOfOrderError, InitialSyncProtocolError } from './errors'
import { takeHandOffCursor } from './handoff'
import { INITIAL_SYNC_PROTOCOL, expectMessage as expect } from './messages'
import type { InitialSyncMessage } from './messages'
import { resolveCommon, resolveSend } from './options'
import type { InitialSyncStats, SendInitialSyncOptions } from './options'
import { Session } from './session'
import { SnapshotReader, START_POSITION } from './snapshot'
import type { SnapshotPosition } from './snapshot'
import { clearSendState, loadSendState, saveSendState } from './state'
import type { SendCheckpoint, SendState } from './state'

/**
 * Sends every object of the synced collections to the device on the other end of `channel`,
 * one batch at a time, each acknowledged before the next is sent. Resumes a transfer the
 * receiver reports as unfinished. Leaves the channel open when it succeeds (a two-way merge
 * runs the other direction over it); closes it when it fails.
 */
export async function sendInitialSync(options: SendInitialSyncOptions): Promise<InitialSyncStats> {
    const common = resolveCommon(options)
    const limits = resolveSend(options)
    const { sync, channel } = options
    const started = common.now()
    const session = new Session(channel, common.control, common.stallTimeoutMs)
    let transferId: string | null = null
    try {
        await session.start()
        await session.send({ type: 'hello', protocol: INITIAL_SYNC_PROTOCOL, role: 'sender', deviceId: sync.deviceId, collections: sync.collections, resume: null })
        const hello = expect(await session.receive('hello'), 'hello')
        if (hello.role !== 'receiver' || hello.protocol !== INITIAL_SYNC_PROTOCOL || hello.deviceId === sync.deviceId) {
            throw new InitialSyncProtocolError(
                hello.role !== 'receiver'
                    ? 'both sides are senders: run receiveInitialSync on the other device'
                    : hello.protocol !== INITIAL_SYNC_PROTOCOL
                      ? `the other side speaks protocol ${hello.protocol}, this one ${INITIAL_SYNC_PROTOCOL}`
                      : 'both ends are the same device',
            )
        }

        const resumed = hello.resume ? await findResumable(options, hello.deviceId, hello.resume) : null
        const state: SendState = resumed ?? {
            transferId: uuidv4(),
            receiverDeviceId: hello.deviceId,
            cursor: null,
            logWasEmpty: false,
            acked: { seq: 0, position: START_POSITION, chain: EMPTY_CHAIN, objectsDone: 0, bytesDone: 0 },
            pending: null,
        }
        const reader = new SnapshotReader(sync)
        transferId = state.transferId
        const start = state.acked
        const counts = await reader.counts()
        const objectsTotal = counts.reduce((sum, item) => sum + item.objects, 0)
        const summary: InitialSyncMessage = {
            type: 'summary',
            transferId: state.transferId,
            resumedAfter: start.seq,
            collections: counts,
            objectsTotal,
            bytesEstimate: await reader.estimateBytes(counts),
            objectsDone: start.objectsDone,
            bytesDone: start.bytesDone,
        }
        await session.send(summary)
        options.onSummary?.({ transferId: state.transferId, collections: counts, objectsTotal, bytesEstimate: summary.bytesEstimate, objectsDone: start.objectsDone, resumed: start.seq > 0 })
        if (!resumed) {
            // After the summary, so the receiver is not left waiting in silence while the sender
            // pushes and pulls; before the first batch, so the cursor predates everything sent.
            state.cursor = limits.handOff ? await takeHandOffCursor(sync, hello.deviceId) : null
            state.logWasEmpty = (await sync.adapter.findObjects(CLIENT_LOG_COLLECTIONS.entry, {}, { limit: 1 })).length === 0
            await saveSendState(sync.clientLog, state)
        }
        reader.logWasEmpty = state.logWasEmpty

        let checkpoint: SendCheckpoint = start
        const read = (position: SnapshotPosition) => reader.read(position, { maxObjects: limits.batchObjects, maxBytes: limits.batchBytes })
        let upcoming = read(checkpoint.position)
        for (;;) {
            await session.waitWhilePaused()
            const batch = await upcoming
            if (!batch) {
                break
            }
            const seq = checkpoint.seq + 1
            const checksum = await batchChecksum(state.transferId, seq, batch.entries)
            const next: SendCheckpoint = {
                seq,
                position: batch.next,
                chain: await chainChecksum(checkpoint.chain, checksum),
                objectsDone: checkpoint.objectsDone + batch.objects,
                bytesDone: checkpoint.bytesDone + batch.bytes,
            }
            state.pending = next
            await saveSendState(sync.clientLog, state)
            await session.send({ type: 'batch', transferId: state.transferId, seq, objects: batch.objects, bytes: batch.bytes, entries: batch.entries, checksum })
            // The next batch is read while the receiver applies this one; it is sent only after
            // the acknowledgement, so the receiver still holds at most one unacknowledged batch.
            upcoming = read(next.position)
            upcoming.catch(() => undefined)
            const ack = expect(await session.receive(`acknowledgement of batch ${seq}`), 'ack')
            if (ack.transferId !== state.transferId || ack.seq !== seq) {
                throw new InitialSyncOutOfOrderError(`acknowledgement of batch ${ack.seq}, expected ${seq}`)
            }
            state.acked = next
            state.pending = null
            await saveSendState(sync.clientLog, state)
            checkpoint = next
            options.onProgress?.({ objectsDone: next.objectsDone, objectsTotal: Math.max(objectsTotal, next.objectsDone), bytesDone: next.bytesDone })
        }
        await session.send({
            type: 'done',
            transferId: state.transferId,
            batches: checkpoint.seq,
            objects: checkpoint.objectsDone,
            bytes: checkpoint.bytesDone,
            checksum: checkpoint.chain,
            cursor: state.cursor,
        })
        const complete = expect(await session.receive('completion'), 'complete')
        if (complete.transferId !== state.transferId) {
            throw new InitialSyncOutOfOrderError(`completion of transfer ${complete.transferId}, expected ${state.transferId}`)
        }
        await clearSendState(sync.clientLog, state.transferId)
        session.finish()
        return { objects: checkpoint.objectsDone, bytes: checkpoint.bytesDone, batches: checkpoint.seq, ms: common.now() - started }
    } catch (error) {
        if (error instanceof InitialSyncAbortedError && transferId !== null) {
            await clearSendState(sync.clientLog, transferId).catch(() => undefined)
        }
        await session.fail(error)
        throw error
    } finally {
        common.detach()
    }
}

/** The transfer the receiver reports as unfinished, if this device knows it and can continue after its last batch. */
async function findResumable(options: SendInitialSyncOptions, receiverDeviceId: string, resume: { transferId: string; appliedSeq: number }): Promise<SendState | null> {
    const known = await loadSendState(options.sync.clientLog, resume.transferId)
    if (!known || known.receiverDeviceId !== receiverDeviceId) {
        return null
    }
    // The receiver commits a batch before acknowledging it, so it may be one ahead.
    const from = resume.appliedSeq === known.acked.seq ? known.acked : known.pending?.seq === resume.appliedSeq ? known.pending : null
    // The log is no longer empty: the first attempt recorded version-0 creates in it.
    return from ? { ...known, acked: from, pending: null, logWasEmpty: false } : null
}
