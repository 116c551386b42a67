import type { ClientSyncLog } from '../client-log/client-log'
import type { AtomicOperations } from '../backend/types'
import type { SnapshotPosition } from './snapshot'

/**
 * The resume token and where each side stands, kept in the sync state of the app's database,
 * so a transfer survives a lost channel and a restarted app. The token is the transfer id.
 */

/** Where the sender stands after one batch (acknowledged or in flight). */
export interface SendCheckpoint {
    seq: number
    position: SnapshotPosition
    /** Whole-transfer checksum so far (hash chain over the batch checksums). */
    chain: string
    objectsDone: number
    bytesDone: number
}

export interface SendState {
    transferId: string
    receiverDeviceId: string
    /** The pull cursor the receiver adopts when done, taken before the first batch. */
    cursor: string | null
    /**
     * The client log was empty when the snapshot started: every object then existing has no
     * entries, so the snapshot skips reading the log for them.
     */
    logWasEmpty: boolean
    acked: SendCheckpoint
    /** The batch sent but not (yet) acknowledged: the receiver may have committed it. */
    pending: SendCheckpoint | null
}

export interface ReceiveState {
    transferId: string
    senderDeviceId: string
    appliedSeq: number
    chain: string
    objectsDone: number
    bytesDone: number
    /** Synced collections that held objects when the transfer started (their objects may lack log entries). */
    nonEmpty: string[]
}

const sendKey = (transferId: string) => `initialSync.send.${transferId}`
const RECEIVE_KEY = 'initialSync.receive'
/** Stored instead of deleting a state row (the state collection's value is not optional). */
const CLEARED = { cleared: true }

export async function loadSendState(clientLog: ClientSyncLog, transferId: string): Promise<SendState | null> {
    const state = await clientLog.getState<SendState | typeof CLEARED>(sendKey(transferId))
    return state && 'transferId' in state ? state : null
}

export function saveSendState(clientLog: ClientSyncLog, state: SendState): Promise<void> {
    return clientLog.setState(sendKey(state.transferId), state)
}

export function clearSendState(clientLog: ClientSyncLog, transferId: string): Promise<void> {
    return clientLog.setState(sendKey(transferId), CLEARED)
}

export async function loadReceiveState(clientLog: ClientSyncLog): Promise<ReceiveState | null> {
    const state = await clientLog.getState<ReceiveState | typeof CLEARED>(RECEIVE_KEY)
    return state && 'transferId' in state ? state : null
}

export function saveReceiveState(clientLog: ClientSyncLog, state: ReceiveState, ops?: AtomicOperations): Promise<void> {
    return clientLog.setState(RECEIVE_KEY, state, ops)
}

export function clearReceiveState(clientLog: ClientSyncLog, ops?: AtomicOperations): Promise<void> {
    return clientLog.setState(RECEIVE_KEY, CLEARED, ops)
}
