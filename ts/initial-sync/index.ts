export type { SyncChannel } from './channel'
export { ChannelClosedError, createMemoryChannelPair } from './channel'
export * from './errors'
export type { InitialSyncMessage, ResumePoint, CollectionSummary } from './messages'
export { INITIAL_SYNC_PROTOCOL } from './messages'
export type {
    InitialSyncStats,
    InitialSyncSummary,
    InitialSyncProgress,
    InitialSyncCommonOptions,
    SendInitialSyncOptions,
    ReceiveInitialSyncOptions,
} from './options'
export { InitialSyncControl } from './session'
export { sendInitialSync } from './sender'
export { receiveInitialSync } from './receiver'
export { BASELINE_VERSION } from './snapshot'
export * from './pairing-client'
