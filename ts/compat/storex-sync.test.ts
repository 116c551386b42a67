import fs from 'fs'
import path from 'path'
import * as storex from '@worldbrain/storex'
import { callableExpect, loadPublished } from './published'
import { collectMochaCases, describeOutcome, runMochaCase } from './mocha-shim'
import type { MochaCase } from './mocha-shim'
import { compareReconciliation, ourData } from './storex-sync-reconciler'
import type { ReconcileComparison, StorexSyncEntry, StorexSyncOperation } from './storex-sync-reconciler'
import { StorexSyncSharedLogFacade } from './storex-sync-shared-log'
import { CustomAutoPkMiddlewareAdapter, SyncLoggingMiddlewareAdapter, clientSyncLogStorageAdapter, doSyncAdapter } from './storex-sync-logging'
import { MemorySharedSyncLog } from '../shared-log/memory'
import { DexieStorageBackend } from '@worldbrain/storex-backend-dexie'
import inMemory from '@worldbrain/storex-backend-dexie/lib/in-memory'
import { DIFFERENCES } from './storex-sync-differences'
import type { PublishedSuite } from './storex-sync-differences'
import { COMPAT_SHARED_LOGS, postgresAvailable } from './shared-logs'
import type { CompatSharedLog } from './shared-logs'

/**
 * @worldbrain/storex-sync 0.1.1's published test cases, run against our parts through thin
 * adapters. Each case either behaves as upstream expects, or differs and is listed in
 * DIFFERENCES (and in docs/compat.md) with its reason; the lists must be exactly the differing
 * cases, so a case cannot start or stop differing unnoticed.
 */

const realExpect = callableExpect() as ((actual: unknown) => Record<string, (...args: unknown[]) => unknown>) & Record<string, unknown>

/** What one published case did: its outcome, and (reconciler) the data comparisons it asked for. */
interface CaseResult {
    outcome: Awaited<ReturnType<typeof runMochaCase>>
    comparisons: ReconcileComparison[]
}

// --- reconciler -----------------------------------------------------------------------------

/** Stands for storex-sync's op list: the test's `expect(...).toEqual(ops)` becomes a data comparison. */
class ReconcileCall {
    constructor(readonly entries: StorexSyncEntry[]) {}
}

const requested: Array<{ entries: StorexSyncEntry[]; expected: StorexSyncOperation[] }> = []

const reconcilerExpect = Object.assign((actual: unknown) => {
    if (actual instanceof ReconcileCall) {
        return {
            toEqual: (expected: StorexSyncOperation[]) => {
                requested.push({ entries: actual.entries, expected })
            },
        }
    }
    return realExpect(actual)
}, realExpect)

function reconcilerCases(): MochaCase[] {
    return collectMochaCases(() =>
        loadPublished('reconciliation/default.test.js', {
            './default': { reconcileSyncLog: (entries: StorexSyncEntry[]) => new ReconcileCall(entries) },
            expect: reconcilerExpect,
        }),
    )
}

async function runReconcilerCase(item: MochaCase): Promise<CaseResult> {
    requested.length = 0
    const outcome = await runMochaCase(item)
    const comparisons: ReconcileComparison[] = []
    for (const { entries, expected } of requested.splice(0)) {
        comparisons.push(await compareReconciliation(entries, expected))
    }
    return { outcome, comparisons }
}

// --- shared log -----------------------------------------------------------------------------

function sharedLogCases(createSubject: () => Promise<CompatSharedLog>, subjects: CompatSharedLog[]): MochaCase[] {
    const { runTests } = loadPublished<{ runTests: (options: { createLog: () => Promise<StorexSyncSharedLogFacade> }) => Promise<void> }>('shared-sync-log/index.tests.js', {
        expect: realExpect,
    })
    return collectMochaCases(() => {
        void runTests({
            createLog: async () => {
                const subject = await createSubject()
                subjects.push(subject)
                // One log object for both of the case's devices, as upstream shares one log instance.
                return new StorexSyncSharedLogFacade(subject.forDevice())
            },
        })
    })
}

// --- logging middleware ---------------------------------------------------------------------

function loggingCases(): MochaCase[] {
    return collectMochaCases(() =>
        loadPublished('logging-middleware/index.test.js', {
            '@worldbrain/storex': storex,
            '@worldbrain/storex-pattern-modules': { registerModuleCollections: () => undefined },
            '../client-sync-log': { ClientSyncLogStorage: clientSyncLogStorageAdapter({ autoPk: false, sharedLog: () => new MemorySharedSyncLog() }) },
            '.': { SyncLoggingMiddleware: SyncLoggingMiddlewareAdapter },
            expect: realExpect,
        }),
    )
}

// --- two-device integration ---------------------------------------------------------------

function integrationCases(): MochaCase[] {
    // storex-sync's test makes its "backend" (the shared log) first, then the clients.
    let current: MemorySharedSyncLog | null = null
    class SharedSyncLogStorage extends StorexSyncSharedLogFacade {
        constructor() {
            const log = new MemorySharedSyncLog()
            super(log)
            current = log
        }
    }
    const notMapped = (name: string) => () => {
        throw new Error(`${name} is storex-sync's own upload/download step with its wire format; our sync pass has no counterpart`)
    }
    return collectMochaCases(() =>
        loadPublished('index.test.js', {
            '@worldbrain/storex-pattern-modules/lib/index.tests': {
                // What storex-pattern-modules' setupStorexTest does: a Dexie storage manager, the collections, the modules.
                setupStorexTest: async (options: { dbName: string; collections: Record<string, unknown>; modules: Record<string, (context: { storageManager: storex.default }) => unknown> }) => {
                    const storageManager = new storex.default({ backend: new DexieStorageBackend({ idbImplementation: inMemory(), dbName: options.dbName }) as never })
                    storageManager.registry.registerCollections(options.collections as never)
                    const modules = Object.fromEntries(Object.entries(options.modules).map(([name, make]) => [name, make({ storageManager })]))
                    await storageManager.finishInitialization()
                    return { storageManager, modules }
                },
            },
            './shared-sync-log/storex': { SharedSyncLogStorage },
            './client-sync-log': {
                ClientSyncLogStorage: clientSyncLogStorageAdapter({
                    autoPk: true,
                    sharedLog: () => {
                        if (!current) {
                            throw new Error('no shared log made yet')
                        }
                        return current
                    },
                }),
            },
            './custom-auto-pk': { CustomAutoPkMiddleware: CustomAutoPkMiddlewareAdapter },
            './logging-middleware': { SyncLoggingMiddleware: SyncLoggingMiddlewareAdapter },
            './reconciliation': { reconcileSyncLog: notMapped('reconcileSyncLog') },
            '.': { doSync: doSyncAdapter, shareLogEntries: notMapped('shareLogEntries'), receiveLogEntries: notMapped('receiveLogEntries') },
            expect: realExpect,
        }),
    )
}

// --- the comparison with the lists ----------------------------------------------------------

const results: Record<PublishedSuite, Map<string, CaseResult>> = { reconciler: new Map(), 'shared log': new Map(), 'logging middleware': new Map(), integration: new Map() }

function differs(result: CaseResult): boolean {
    return result.outcome.status !== 'passed' || result.comparisons.some(comparison => !comparison.equal)
}

function explain(result: CaseResult): string {
    const unequal = result.comparisons.filter(comparison => !comparison.equal)
    return `${describeOutcome(result.outcome)}${unequal.length ? `; data differs: ${JSON.stringify(unequal)}` : ''}`
}

function checkCase(suite: PublishedSuite, name: string, result: CaseResult): void {
    results[suite].set(name, result)
    const listed = DIFFERENCES[suite][name]
    if (listed) {
        // A listed case must still differ (else the list and the docs are stale).
        expect({ name, differs: differs(result) }).toEqual({ name, differs: true })
    } else {
        expect(explain(result)).toBe('passed')
    }
}

describe('storex-sync 0.1.1 reconciler cases: resulting data, fresh database and existing objects', () => {
    const cases = reconcilerCases()
    it.each(cases.map(item => [item.name, item] as const))('%s', async (name, item) => {
        checkCase('reconciler', name, await runReconcilerCase(item))
    })

    it('upstream refuses double creates and modify-before-create; ours merges them deterministically', async () => {
        const list = (value: Record<string, unknown>) => ({ collection: 'list', pk: 'list-one', sharedOn: null, needsIntegration: true, ...value }) as StorexSyncEntry
        // A double create: the newer create wins whole (a create resets the object).
        const doubleCreate = [
            list({ operation: 'create', createdOn: 1, value: { title: 'first', prio: 5 } }),
            list({ operation: 'create', createdOn: 2, value: { title: 'second' } }),
        ]
        expect((await ourData(doubleCreate, 'fresh')).list).toEqual([{ id: 'list-one', title: 'second' }])
        // A modify older than the create belongs to an earlier life of the object: dropped.
        const modifyBeforeCreate = [list({ operation: 'modify', createdOn: 1, field: 'title', value: 'second' }), list({ operation: 'create', createdOn: 2, value: { title: 'first' } })]
        expect((await ourData(modifyBeforeCreate, 'fresh')).list).toEqual([{ id: 'list-one', title: 'first' }])
    })
})

describe.each(Object.keys(COMPAT_SHARED_LOGS))('storex-sync 0.1.1 shared-log runTests against our %s log', logName => {
    const spec = COMPAT_SHARED_LOGS[logName]
    const subjects: CompatSharedLog[] = []
    const cases = sharedLogCases(() => spec.create(), subjects)
    let available = true
    beforeAll(async () => {
        available = !spec.needsPostgres || (await postgresAvailable())
        if (!available) {
            console.log(`Skipping storex-sync runTests over ${logName}: PostgreSQL is not reachable at 127.0.0.1:5432 (CI requires it)`)
        }
    })
    afterEach(async () => {
        for (const subject of subjects.splice(0)) {
            await subject.cleanup()
        }
    })
    it.each(cases.map(item => [item.name, item] as const))('%s', async (name, item) => {
        if (!available) {
            return
        }
        checkCase('shared log', `${logName}: ${name}`, { outcome: await runMochaCase(item), comparisons: [] })
    })
})

describe('storex-sync 0.1.1 logging-middleware cases against our logging (setupSync on Dexie)', () => {
    const cases = loggingCases()
    it.each(cases.map(item => [item.name, item] as const))('%s', async (name, item) => {
        checkCase('logging middleware', name, { outcome: await runMochaCase(item), comparisons: [] })
    })
})

describe('storex-sync 0.1.1 two-device integration cases against setupSync (Dexie, memory log)', () => {
    const cases = integrationCases()
    it.each(cases.map(item => [item.name, item] as const))('%s', async (name, item) => {
        checkCase('integration', name, { outcome: await runMochaCase(item), comparisons: [] })
    })
})

describe('the list of differing cases', () => {
    it('names only published cases, and docs/compat.md lists every one with its reason', () => {
        const docs = fs.readFileSync(path.join(__dirname, '../../docs/compat.md'), 'utf8')
        for (const suite of Object.keys(DIFFERENCES) as PublishedSuite[]) {
            for (const [name, reason] of Object.entries(DIFFERENCES[suite])) {
                if (suite === 'shared log' && !results[suite].has(name)) {
                    continue // a log skipped for lack of PostgreSQL outside CI
                }
                expect({ suite, name, ran: results[suite].has(name) }).toEqual({ suite, name, ran: true })
                expect({ name, inDocs: docs.includes(name) && docs.includes(reason) }).toEqual({ name, inDocs: true })
            }
        }
    })
})
