import StorageManager from '@worldbrain/storex'
import type { StorageBackend } from '@worldbrain/storex'
import { DexieStorageBackend } from '@worldbrain/storex-backend-dexie'
import inMemory from '@worldbrain/storex-backend-dexie/lib/in-memory'
import { setupSync } from '../setup'
import { MemorySharedSyncLog } from '../shared-log/memory'
import { collectMochaCases } from './mocha-shim'
import type { MochaCase } from './mocha-shim'

/**
 * Storex's generic backend suite (`testStorageBackend` from `@worldbrain/storex/lib/index.tests`)
 * collected as cases, on Dexie (fake-indexeddb) or SQLite (storex-backend-typeorm), with or
 * without sync. "With sync" means every storage manager the suite makes gets `setupSync` on every
 * collection the suite registered, at the moment the suite calls `finishInitialization`.
 */

export type SuiteBackend = 'dexie' | 'sqlite'

export interface SuiteMode {
    backend: SuiteBackend
    /** Install setupSync on every collection; false runs the suite on plain Storex. */
    sync: boolean
    /** setupSync's `autoPk` option (only with sync). Default: true. */
    autoPk?: boolean
}

type BackendCreator = (context: { cleanupFunction?: () => Promise<void> }) => Promise<StorageBackend>

let counter = 0

function backendCreator(backend: SuiteBackend): BackendCreator {
    if (backend === 'dexie') {
        return async () => new DexieStorageBackend({ dbName: `storex-suite-${++counter}`, idbImplementation: inMemory() }) as unknown as StorageBackend
    }
    return async context => {
        const { TypeORMStorageBackend } = require('@worldbrain/storex-backend-typeorm') as typeof import('@worldbrain/storex-backend-typeorm')
        // As storex-backend-typeorm's own run of this suite, plus a connection name per backend.
        const created = new TypeORMStorageBackend({ connectionOptions: { type: 'sqlite', database: ':memory:', name: `storex-suite-${++counter}` } })
        context.cleanupFunction = async () => {
            if (created.connection?.isConnected) {
                await created.connection.close()
            }
        }
        return created as unknown as StorageBackend
    }
}

type FinishInitialization = (this: StorageManager) => Promise<void>

/**
 * While a sync-mode case runs, `StorageManager.prototype.finishInitialization` is replaced by a
 * call to setupSync (which registers the log, finishes initialization itself and installs the
 * middleware). Cases run one at a time (Jest runs a file's tests serially), so one hook suffices.
 */
export async function withSyncHook<T>(options: { autoPk: boolean }, body: () => Promise<T>): Promise<T> {
    const prototype = StorageManager.prototype as unknown as { finishInitialization: FinishInitialization }
    const original = prototype.finishInitialization
    const inSetup = new WeakSet<StorageManager>()
    prototype.finishInitialization = async function (this: StorageManager) {
        if (inSetup.has(this)) {
            return original.call(this)
        }
        inSetup.add(this)
        await setupSync({
            storageManager: this,
            collections: Object.keys(this.registry.collections),
            sharedLog: new MemorySharedSyncLog(),
            autoPk: options.autoPk,
        })
    }
    try {
        return await body()
    } finally {
        prototype.finishInitialization = original
    }
}

/** The suite's cases for one backend; run each with `runStorexCase`. */
export function collectStorexSuite(backend: SuiteBackend): MochaCase[] {
    const { testStorageBackend } = require('@worldbrain/storex/lib/index.tests') as {
        testStorageBackend: (creator: BackendCreator, options?: { fullTextSearch?: boolean }) => void
    }
    return collectMochaCases(() => testStorageBackend(backendCreator(backend)))
}

/** Wraps a case so it runs in the given mode. */
export function inMode(item: MochaCase, mode: SuiteMode): MochaCase {
    const fn = item.fn
    if (!fn || !mode.sync) {
        return item
    }
    return {
        name: item.name,
        fn(this: unknown) {
            return withSyncHook({ autoPk: mode.autoPk ?? true }, async () => fn.call(this as never))
        },
    }
}
