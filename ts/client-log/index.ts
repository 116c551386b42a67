export { CLIENT_LOG_COLLECTIONS, CLIENT_LOG_WRITE_COLLECTIONS, registerClientLogCollections } from './collections'
export * from './client-log'
export type { ClientLogRow } from './rows'
