export { runSharedSyncLogContractTests } from './shared-log/contract'
export type { SharedSyncLogContractOptions, SharedSyncLogContractSubject } from './shared-log/contract'
export { makeEntry, makeEntries } from './shared-log/entry-factory'
