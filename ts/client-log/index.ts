export * from './collections'
export * from './client-log'
export type { ClientLogRow } from './rows'
