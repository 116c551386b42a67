/**
 * Runs in a real Chromium page (bundled by atomic.test.ts for the browser, as an app would bundle
 * the library): atomic execute + log on the browser's own IndexedDB, through storex-backend-dexie's
 * real transactions. Each case makes one part of a write fail and reports what the database
 * holds afterwards, read back outside the failed transaction.
 */
import StorageManager from '@worldbrain/storex'
import { DexieStorageBackend } from '@worldbrain/storex-backend-dexie'
import { MemorySharedSyncLog, setupSync } from '../../index'
import type { AtomicOperations, SyncLogEntry, SyncSetup } from '../../index'

export interface AtomicCaseResult {
    name: string
    /** The message of the write's rejection, or null when it did not reject. */
    error: string | null
    before: unknown
    after: unknown
}

export interface AtomicPageResult {
    /** `navigator` exists, so storex-backend-dexie opens real transactions. */
    hasNavigator: boolean
    cases: AtomicCaseResult[]
    /** A write after all the failures goes through and is logged. */
    afterwards: { notes: number; entries: number }
}

async function createDevice(dbName: string): Promise<SyncSetup> {
    const storageManager = new StorageManager({ backend: new DexieStorageBackend({ dbName }) })
    storageManager.registry.registerCollections({
        note: { version: new Date('2026-01-01'), fields: { title: { type: 'string' }, rank: { type: 'int', optional: true } } },
        localCache: { version: new Date('2026-01-01'), fields: { text: { type: 'string' } } },
    })
    return setupSync({ storageManager, collections: ['note'], sharedLog: new MemorySharedSyncLog() })
}

/** Everything the app and the log hold, for "nothing changed" comparisons. */
async function snapshot(sync: SyncSetup): Promise<unknown> {
    const sortById = (objects: Array<Record<string, unknown>>) => [...objects].sort((a, b) => String(a.id).localeCompare(String(b.id)))
    return {
        note: sortById(await sync.storageManager.collection('note').findObjects({})),
        localCache: sortById(await sync.storageManager.collection('localCache').findObjects({})),
        entries: await sync.clientLog.countEntries(),
        unshared: await sync.clientLog.countUnshared(),
    }
}

async function runCase(sync: SyncSetup, name: string, write: () => Promise<unknown>): Promise<AtomicCaseResult> {
    const before = await snapshot(sync)
    let error: string | null = null
    try {
        await write()
    } catch (caught) {
        error = caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)
    }
    return { name, error, before, after: await snapshot(sync) }
}

/** Wraps one of the adapter's transaction operations for the duration of `body`. */
async function withFailingOperation<T>(sync: SyncSetup, op: keyof AtomicOperations, failOnCall: number, body: () => Promise<T>): Promise<T> {
    const adapter = sync.adapter
    const original = adapter.atomic
    let calls = 0
    adapter.atomic = <R>(collections: string[], run: (ops: AtomicOperations) => Promise<R>) =>
        original.call(adapter, collections, (ops: AtomicOperations) =>
            run({
                ...ops,
                [op]: async (...args: unknown[]) => {
                    if (calls++ === failOnCall) {
                        throw new Error(`injected failure of ${op}`)
                    }
                    return (ops[op] as (...a: unknown[]) => Promise<unknown>)(...args)
                },
            }),
        ) as Promise<R>
    try {
        return await body()
    } finally {
        adapter.atomic = original
    }
}

/** Makes the log's insert fail inside the write's transaction, after it wrote (part of) the entries. */
async function withFailingLog<T>(sync: SyncSetup, mode: 'duplicate' | 'throw', body: () => Promise<T>): Promise<T> {
    const log = sync.clientLog
    const original = log.insertEntries
    log.insertEntries = async (ops: AtomicOperations, entries: SyncLogEntry[], flags: { shared: boolean; needsIntegration: boolean }) => {
        await original.call(log, ops, entries, flags)
        if (mode === 'duplicate') {
            // A row at the key the log's newest row holds: IndexedDB itself refuses it (ConstraintError).
            const [newest] = await ops.findObjects('syncLog', {}, { order: [['seq', 'desc']], limit: 1 })
            await ops.createObjects('syncLog', [{ ...newest }])
        }
        throw new Error('injected failure after the entries were written')
    }
    try {
        return await body()
    } finally {
        log.insertEntries = original
    }
}

export async function runAtomicScenario(prefix: string): Promise<AtomicPageResult> {
    const sync = await createDevice(`${prefix}-atomic`)
    const notes = sync.storageManager.collection('note')
    await notes.createObject({ id: 'taken', title: 'exists', rank: 1 })
    await notes.createObject({ id: 'other', title: 'other', rank: 1 })
    const cases: AtomicCaseResult[] = []

    cases.push(
        await runCase(sync, 'a later step of a batch fails (duplicate key)', () =>
            sync.storageManager.operation('executeBatch', [
                { operation: 'createObject', collection: 'note', args: { id: 'fresh', title: 'first step' } },
                { operation: 'updateObjects', collection: 'note', where: { id: 'taken' }, updates: { title: 'second step' } },
                { operation: 'createObject', collection: 'localCache', args: { text: 'unsynced step' } },
                { operation: 'createObject', collection: 'note', args: { id: 'taken', title: 'duplicate' } },
            ]),
        ),
    )
    cases.push(
        await runCase(sync, 'the backend fails on the second object of an update', () =>
            withFailingOperation(sync, 'updateObjects', 1, () => notes.updateObjects({ id: { $in: ['taken', 'other'] } }, { $inc: { rank: 1 } })),
        ),
    )
    cases.push(
        await runCase(sync, 'IndexedDB refuses the log entries (ConstraintError)', () =>
            withFailingLog(sync, 'duplicate', () => notes.createObject({ title: 'doomed by the log' })),
        ),
    )
    cases.push(
        await runCase(sync, 'logging throws after writing entries of a multi-collection batch', () =>
            withFailingLog(sync, 'throw', () =>
                sync.storageManager.operation('executeBatch', [
                    { operation: 'updateObjects', collection: 'note', where: { id: 'other' }, updates: { title: 'changed' } },
                    { operation: 'createObject', collection: 'note', args: { title: 'new' } },
                    { operation: 'createObject', collection: 'localCache', args: { text: 'unsynced' } },
                ]),
            ),
        ),
    )

    await notes.createObject({ title: 'fine' })
    return {
        hasNavigator: typeof navigator !== 'undefined',
        cases,
        afterwards: { notes: (await notes.findObjects({})).length, entries: await sync.clientLog.countEntries() },
    }
}
