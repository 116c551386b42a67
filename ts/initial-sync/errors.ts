import { SyncError } from '../errors'

/**
 * Every way an initial sync can end other than success is one of these, each with a stable
 * `code`. The receiver's database then holds only whole, acknowledged batches; transfers ended
 * by `INITIAL_SYNC_INTERRUPTED` or `INITIAL_SYNC_STALLED` can be resumed on a new channel.
 */
export class InitialSyncError extends SyncError {}

/** The channel closed (or was lost) before the transfer finished. Resumable. */
export class InitialSyncInterruptedError extends InitialSyncError {
    constructor(message = 'The channel closed before the initial sync finished') {
        super('INITIAL_SYNC_INTERRUPTED', message)
    }
}

/** Nothing arrived for `stallTimeoutMs` while the transfer was not paused. Resumable. */
export class InitialSyncStalledError extends InitialSyncError {
    constructor(readonly waitedMs: number, waitingFor: string) {
        super('INITIAL_SYNC_STALLED', `No ${waitingFor} for ${waitedMs} ms: the channel stalled`)
    }
}

/** One side cancelled the transfer (`by` says which). Not resumed: the next transfer starts anew. */
export class InitialSyncAbortedError extends InitialSyncError {
    constructor(readonly by: 'local' | 'remote', readonly reason: string) {
        super('INITIAL_SYNC_ABORTED', `Initial sync aborted by the ${by === 'local' ? 'local' : 'other'} side: ${reason}`)
    }
}

/** A batch or the whole transfer did not match its SHA-256 checksum. */
export class InitialSyncChecksumError extends InitialSyncError {
    constructor(readonly scope: 'batch' | 'transfer', detail: string) {
        super('INITIAL_SYNC_CHECKSUM_MISMATCH', `Checksum mismatch of the ${scope}: ${detail}`)
    }
}

/** A message came out of order (wrong batch number, a batch before the summary, ...). */
export class InitialSyncOutOfOrderError extends InitialSyncError {
    constructor(detail: string) {
        super('INITIAL_SYNC_OUT_OF_ORDER', `Message out of order: ${detail}`)
    }
}

/** A message of a type the protocol does not have, or one that is malformed. */
export class InitialSyncUnknownMessageError extends InitialSyncError {
    constructor(detail: string) {
        super('INITIAL_SYNC_UNKNOWN_MESSAGE', `Unknown or malformed message: ${detail}`)
    }
}

/** A batch carried objects of a collection the receiver does not sync. */
export class InitialSyncUnsyncedCollectionError extends InitialSyncError {
    constructor(readonly collection: string) {
        super('INITIAL_SYNC_UNSYNCED_COLLECTION', `Received objects of collection '${collection}', which this device does not sync`)
    }
}

/** The two sides cannot work together (protocol version, both senders, same device, ...). */
export class InitialSyncProtocolError extends InitialSyncError {
    constructor(detail: string) {
        super('INITIAL_SYNC_PROTOCOL', detail)
    }
}

/** The other side reported an error; its code and message are kept. */
export class InitialSyncRemoteError extends InitialSyncError {
    constructor(readonly remoteCode: string, remoteMessage: string) {
        super('INITIAL_SYNC_REMOTE_ERROR', `The other side failed (${remoteCode}): ${remoteMessage}`)
    }
}
