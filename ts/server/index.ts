export { createSyncService } from './service'
export type { SyncServiceOptions } from './service'
export * from './store'
