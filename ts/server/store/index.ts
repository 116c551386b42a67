export * from './types'
export { SqliteDocStore, type SqliteDocStoreOptions } from './sqlite'
export { PostgresDocStore, type PostgresDocStoreOptions } from './postgres'
export { InvalidDocumentError, InvalidStoreRequestError, SyncIdMismatchError, MAX_DOC_ID_LENGTH, decideUpsert } from './doc-rules'
