export {
    migrateFromStorexSync,
    registerStorexSyncClientLog,
    StorexSyncMigrationError,
    STOREX_SYNC_CLIENT_LOG,
    STOREX_SYNC_CLIENT_LOG_DEFINITION,
} from './storex-sync'
export type { MigrateFromStorexSyncOptions, MigrateFromStorexSyncResult } from './storex-sync'
