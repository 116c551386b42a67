import type { SyncSetup } from '../setup'
import { SyncConfigurationError } from '../errors'
import type { SyncChannel } from './channel'
import type { CollectionSummary } from './messages'
import { InitialSyncControl } from './session'

/** What an initial sync reports when it resolves. */
export interface InitialSyncStats {
    /** Objects transferred (in this attempt and, after a resume, the earlier ones). */
    objects: number
    /** UTF-8 bytes of the transferred entries as JSON. */
    bytes: number
    /** Batches in the whole transfer. */
    batches: number
    /** Wall-clock time of this attempt. */
    ms: number
}

/** First event of a transfer: what is coming. */
export interface InitialSyncSummary {
    transferId: string
    collections: CollectionSummary[]
    objectsTotal: number
    /** Estimate from a sample of each collection. */
    bytesEstimate: number
    /** Already transferred by an earlier, interrupted attempt (0 on a fresh transfer). */
    objectsDone: number
    resumed: boolean
}

/** After every batch, fit for a progress bar. */
export interface InitialSyncProgress {
    objectsDone: number
    objectsTotal: number
    bytesDone: number
}

export interface InitialSyncCommonOptions {
    /** What `setupSync` returned on this device. */
    sync: SyncSetup
    /** The link to the other device (`createMemoryChannelPair`, `openPairingChannel`, or your own). */
    channel: SyncChannel
    /** Pause, resume and abort from the app. Default: a control nobody else holds. */
    control?: InitialSyncControl
    /** Aborting this signal aborts the transfer (as `control.abort()`). Default: none. */
    signal?: AbortSignal
    /** Fails with `INITIAL_SYNC_STALLED` when the other side is silent this long while not paused. Default: 30000 ms. */
    stallTimeoutMs?: number
    /** Called once with the summary, before the first batch. */
    onSummary?: (summary: InitialSyncSummary) => void
    /** Called after each batch. */
    onProgress?: (progress: InitialSyncProgress) => void
    /** Clock for the `ms` statistic. Default: `Date.now`. */
    now?: () => number
}

export interface SendInitialSyncOptions extends InitialSyncCommonOptions {
    /** Most objects in one batch. Default: 500. */
    batchObjects?: number
    /** Most UTF-8 bytes of entries in one batch (a single larger object still travels alone). Default: 1 MiB. */
    batchBytes?: number
    /**
     * Before the first batch, push and pull through the shared log and hand the receiver a pull
     * cursor past everything the transfer carries, so its next sync pass moves only newer
     * changes. Both devices must then use the same shared log (the same user on the service).
     * Default: true.
     */
    handOff?: boolean
}

export interface ReceiveInitialSyncOptions extends InitialSyncCommonOptions {
    /** Adopt the cursor the sender hands over when the transfer completes. Default: true. */
    adoptCursor?: boolean
}

export interface ResolvedCommon {
    control: InitialSyncControl
    stallTimeoutMs: number
    now: () => number
    detach: () => void
}

function fail(option: string, problem: string): never {
    throw new SyncConfigurationError(`initial sync: option '${option}' ${problem}`, { option })
}

function positiveInteger(value: unknown, option: string, fallback: number, minimum = 1): number {
    if (value === undefined) {
        return fallback
    }
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum) {
        fail(option, `must be a whole number of at least ${minimum}`)
    }
    return value
}

/** Checks the options both directions share, before anything is sent. */
export function resolveCommon(options: InitialSyncCommonOptions): ResolvedCommon {
    if (!options || typeof options !== 'object') {
        fail('options', 'must be an object')
    }
    const sync = options.sync as Partial<SyncSetup> | undefined
    if (!sync || typeof sync.deviceId !== 'string' || !sync.clientLog || !sync.adapter || !sync.storageManager || !Array.isArray(sync.collections)) {
        fail('sync', 'must be what setupSync returned')
    }
    const channel = options.channel as Partial<SyncChannel> | undefined
    if (!channel || typeof channel.send !== 'function' || typeof channel.messages !== 'function' || typeof channel.close !== 'function') {
        fail('channel', 'must be a SyncChannel (send, messages, close)')
    }
    if (options.control !== undefined && !(options.control instanceof InitialSyncControl)) {
        fail('control', 'must be an InitialSyncControl')
    }
    for (const name of ['onSummary', 'onProgress', 'now'] as const) {
        if (options[name] !== undefined && typeof options[name] !== 'function') {
            fail(name, 'must be a function')
        }
    }
    const control = options.control ?? new InitialSyncControl()
    const stallTimeoutMs = positiveInteger(options.stallTimeoutMs, 'stallTimeoutMs', 30_000)
    let detach = () => {}
    if (options.signal !== undefined) {
        const signal = options.signal
        if (typeof signal.addEventListener !== 'function') {
            fail('signal', 'must be an AbortSignal')
        }
        const onAbort = () => control.abort(signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'aborted'))
        if (signal.aborted) {
            onAbort()
        }
        signal.addEventListener('abort', onAbort)
        detach = () => signal.removeEventListener('abort', onAbort)
    }
    return { control, stallTimeoutMs, now: options.now ?? Date.now, detach }
}

export function resolveSend(options: SendInitialSyncOptions): { batchObjects: number; batchBytes: number; handOff: boolean } {
    if (options.handOff !== undefined && typeof options.handOff !== 'boolean') {
        fail('handOff', 'must be true or false')
    }
    return {
        batchObjects: positiveInteger(options.batchObjects, 'batchObjects', 500),
        batchBytes: positiveInteger(options.batchBytes, 'batchBytes', 1024 * 1024, 1024),
        handOff: options.handOff ?? true,
    }
}

export function resolveReceive(options: ReceiveInitialSyncOptions): { adoptCursor: boolean } {
    if (options.adoptCursor !== undefined && typeof options.adoptCursor !== 'boolean') {
        fail('adoptCursor', 'must be true or false')
    }
    return { adoptCursor: options.adoptCursor ?? true }
}
