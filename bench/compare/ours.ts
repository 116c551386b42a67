/** storex-synclog in the comparison: Dexie on fake-indexeddb, the memory shared log or the sync service over HTTP. */
import { createDevice, createDexieStorageManager } from '../../ts/integration/devices'
import type { TestDevice } from '../../ts/integration/devices'
import { MemorySharedSyncLog } from '../../ts/shared-log/memory'
import { HttpSharedSyncLog } from '../../ts/shared-log/http'
import { createSyncService } from '../../ts/server/service'
import { SqliteDocStore } from '../../ts/server/store/sqlite'
import { ContinuousSync } from '../../ts/integration/continuous-sync'
import type { SharedSyncLog } from '../../ts/shared-log/types'
import { conflictEdits, conflictFindings, measure, note, sameNotes, trickleRun } from './common'
import type { PlainNote, System, Write } from './common'

const SEED_CHUNK = 500

async function device(sharedLog: SharedSyncLog): Promise<TestDevice> {
    return createDevice({ sharedLog, storageManager: createDexieStorageManager() })
}

/** Untimed set-up: `count` notes written on `target` as logged batches. */
async function seed(target: TestDevice, count: number): Promise<void> {
    for (let start = 0; start < count; start += SEED_CHUNK) {
        const steps = []
        for (let index = start; index < Math.min(count, start + SEED_CHUNK); index++) {
            steps.push({ operation: 'createObject', collection: 'note', args: note(index) })
        }
        await target.storageManager.operation('executeBatch', steps)
    }
}

async function notes(target: TestDevice): Promise<PlainNote[]> {
    return (await target.storageManager.collection('note').findObjects({})) as PlainNote[]
}

async function withService<T>(body: (url: string) => Promise<T>): Promise<T> {
    const service = await createSyncService({ store: new SqliteDocStore({ filename: ':memory:' }), port: 0 })
    const { url } = await service.listen()
    try {
        return await body(url)
    } finally {
        await service.close()
    }
}

export const ours: System = {
    name: 'storex-synclog (Dexie, fake-indexeddb)',
    http: true,

    async mixedWrites(writes: Write[]) {
        const a = await device(new MemorySharedSyncLog())
        const notesCollection = a.storageManager.collection('note')
        const live: string[] = []
        return measure(writes.length, async () => {
            for (const write of writes) {
                if (write.kind === 'create') {
                    const { object } = await notesCollection.createObject({ title: write.title, rank: write.rank })
                    live.push(object.id as string)
                } else {
                    const index = Math.floor(write.pick * live.length)
                    if (write.kind === 'update') {
                        await a.storageManager.operation('updateObject', 'note', { id: live[index] }, { title: write.title, rank: write.rank })
                    } else {
                        await a.storageManager.operation('deleteObject', 'note', { id: live[index] })
                        live[index] = live[live.length - 1]
                        live.pop()
                    }
                }
            }
        })
    },

    async transfer(count, transport) {
        const run = async (makeLog: () => SharedSyncLog) => {
            const a = await device(makeLog())
            const b = await device(makeLog())
            await seed(a, count)
            const measured = await measure(count, async () => {
                await a.syncNow()
                await b.syncNow()
            })
            const held = await b.storageManager.collection('note').countObjects({})
            if (held !== count) {
                throw new Error(`ours transfer: B holds ${held} of ${count}`)
            }
            return measured
        }
        if (transport === 'process') {
            const shared = new MemorySharedSyncLog()
            return run(() => shared)
        }
        return withService(url => run(() => new HttpSharedSyncLog({ url })))
    },

    async conflicts(count) {
        const shared = new MemorySharedSyncLog()
        const a = await device(shared)
        const b = await device(shared)
        await seed(a, count)
        await a.syncNow()
        await b.syncNow()
        for (let index = 0; index < count; index++) {
            await a.storageManager.operation('updateObject', 'note', { id: note(index).id }, conflictEdits(index).a)
        }
        for (let index = 0; index < count; index++) {
            await b.storageManager.operation('updateObject', 'note', { id: note(index).id }, conflictEdits(index).b)
        }
        const measured = await measure(count, async () => {
            await a.syncNow()
            await b.syncNow()
            await a.syncNow()
        })
        const [onA, onB] = [await notes(a), await notes(b)]
        return { ...measured, findings: conflictFindings(onA, onB, sameNotes(onA, onB)) }
    },

    async trickle(durationMs, intervalMs) {
        const shared = new MemorySharedSyncLog()
        const a = await device(shared)
        const b = await device(shared)
        // Live mode: A syncs on every local write, B on the shared log's live notifications.
        // No debounce: RxDB and PouchDB push each write at once too (the default 5 ms would add ~5 ms).
        const loops = [new ContinuousSync({ sync: a, multiTab: false, changeDebounceMs: 0 }), new ContinuousSync({ sync: b, multiTab: false })]
        await Promise.all(loops.map(loop => loop.start()))
        try {
            const measured = await measure(0, () =>
                trickleRun({
                    durationMs,
                    intervalMs,
                    write: async index => {
                        await a.storageManager.collection('note').createObject(note(index))
                    },
                    onArrival: listener =>
                        b.events.on('reconciled', ({ entries }) => {
                            for (const entry of entries) {
                                if (entry.operation === 'create') listener(String(entry.pk))
                            }
                        }),
                }),
            )
            return { ...measured, ops: measured.result.writes, latencies: measured.result.latencies }
        } finally {
            await Promise.all(loops.map(loop => loop.stop()))
        }
    },
}
