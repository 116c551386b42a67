export * from './collections'
export * from './client-log'
export { obsoleteRows } from './compaction'
export type { ClientLogRow } from './rows'
