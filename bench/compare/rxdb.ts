/** RxDB 17 in the comparison: its Dexie storage on fake-indexeddb, and its memory storage. */
import { createRxDatabase } from 'rxdb'
import type { RxCollection, RxDatabase, RxStorage } from 'rxdb'
import { getRxStorageDexie } from 'rxdb/plugins/storage-dexie'
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory'
import { replicateRxCollection } from 'rxdb/plugins/replication'
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb'
import { v4 as uuidv4 } from 'uuid'
import { RxMaster, postJson, serveMaster } from './rx-master'
import type { Checkpoint, MasterDoc, PushRow } from './rx-master'
import { conflictEdits, conflictFindings, measure, note, sameNotes, trickleRun } from './common'
import type { PlainNote, System, Write } from './common'

type NoteCollection = RxCollection<PlainNote>

const SCHEMA = {
    version: 0,
    primaryKey: 'id',
    type: 'object',
    properties: {
        id: { type: 'string', maxLength: 64 },
        title: { type: 'string' },
        body: { type: 'string' },
        rank: { type: 'number' },
    },
    required: ['id', 'title'],
} as const

const BATCH = 500
let counter = 0

async function open(storage: () => RxStorage<unknown, unknown>): Promise<{ db: RxDatabase; notes: NoteCollection }> {
    const db = await createRxDatabase({ name: `rx${++counter}x${Date.now()}`, storage: storage(), multiInstance: false, eventReduce: true })
    const collections = await db.addCollections({ note: { schema: SCHEMA } })
    return { db, notes: collections.note as unknown as NoteCollection }
}

/** How a replication reaches the master: direct calls, or HTTP on loopback. */
interface Link {
    push(rows: PushRow[]): Promise<MasterDoc[]>
    pull(checkpoint: Checkpoint | undefined, limit: number): Promise<{ documents: MasterDoc[]; checkpoint: Checkpoint | undefined }>
}

function directLink(master: RxMaster): Link {
    return { push: async rows => master.push(rows), pull: async (checkpoint, limit) => master.pull(checkpoint, limit) }
}

function httpLink(url: string): Link {
    return { push: rows => postJson(`${url}/push`, rows), pull: (checkpoint, limit) => postJson(`${url}/pull`, { checkpoint, limit }) }
}

/**
 * One replication identifier per collection: RxDB keeps the assumed master state and checkpoint
 * under it, so a later run continues where the last one stopped (a new identifier would push
 * everything again as if it had never been replicated).
 */
const identifiers = new WeakMap<NoteCollection, string>()

function replicate(notes: NoteCollection, link: Link, options: { push?: boolean; pull?: boolean; live?: boolean; master?: RxMaster }) {
    if (!identifiers.has(notes)) identifiers.set(notes, `bench-${++counter}`)
    return replicateRxCollection<PlainNote, Checkpoint>({
        collection: notes,
        replicationIdentifier: identifiers.get(notes)!,
        live: options.live ?? false,
        retryTime: 50,
        push: options.push ? { batchSize: BATCH, handler: rows => link.push(rows as unknown as PushRow[]) as never } : undefined,
        pull: options.pull
            ? {
                  batchSize: BATCH,
                  handler: (checkpoint, limit) => link.pull(checkpoint, limit) as never,
                  stream$: options.master?.stream$ as never,
              }
            : undefined,
    })
}

/** One replication run to completion (not live), then stopped. */
async function replicateOnce(notes: NoteCollection, link: Link, options: { push?: boolean; pull?: boolean }): Promise<void> {
    const state = replicate(notes, link, options)
    let failure: unknown = null
    const subscription = state.error$.subscribe(error => (failure = error))
    await state.awaitInitialReplication()
    subscription.unsubscribe()
    await state.cancel()
    if (failure) throw failure
}

async function seed(notes: NoteCollection, count: number): Promise<void> {
    for (let start = 0; start < count; start += BATCH) {
        const docs = []
        for (let index = start; index < Math.min(count, start + BATCH); index++) docs.push(note(index))
        const result = await notes.bulkInsert(docs)
        if (result.error.length) throw new Error(`rxdb seed: ${result.error.length} errors`)
    }
}

async function all(notes: NoteCollection): Promise<PlainNote[]> {
    return (await notes.find().exec()).map(doc => {
        const { id, title, body, rank } = doc.toJSON() as PlainNote
        return { id, title, body, rank }
    })
}

function rxdbSystem(name: string, storage: () => RxStorage<unknown, unknown>): System {
    return {
        name,
        http: true,

        async mixedWrites(writes: Write[]) {
            const { db, notes } = await open(storage)
            const live: string[] = []
            try {
                return await measure(writes.length, async () => {
                    for (const write of writes) {
                        if (write.kind === 'create') {
                            const id = uuidv4()
                            await notes.insert({ id, title: write.title, rank: write.rank } as PlainNote)
                            live.push(id)
                        } else {
                            const index = Math.floor(write.pick * live.length)
                            const doc = await notes.findOne(live[index]).exec(true)
                            if (write.kind === 'update') {
                                await doc.incrementalPatch({ title: write.title, rank: write.rank })
                            } else {
                                await doc.incrementalRemove()
                                live[index] = live[live.length - 1]
                                live.pop()
                            }
                        }
                    }
                })
            } finally {
                await db.close()
            }
        },

        async transfer(count, transport) {
            const master = new RxMaster()
            const server = transport === 'http' ? await serveMaster(master) : null
            const link = server ? httpLink(server.url) : directLink(master)
            const a = await open(storage)
            const b = await open(storage)
            try {
                await seed(a.notes, count)
                const measured = await measure(count, async () => {
                    await replicateOnce(a.notes, link, { push: true })
                    await replicateOnce(b.notes, link, { pull: true })
                })
                const held = await b.notes.count().exec()
                if (held !== count) throw new Error(`rxdb transfer: B holds ${held} of ${count}`)
                return measured
            } finally {
                await Promise.all([a.db.close(), b.db.close()])
                await server?.close()
            }
        },

        async conflicts(count) {
            const master = new RxMaster()
            const link = directLink(master)
            const a = await open(storage)
            const b = await open(storage)
            try {
                await seed(a.notes, count)
                await replicateOnce(a.notes, link, { push: true, pull: true })
                await replicateOnce(b.notes, link, { push: true, pull: true })
                for (let index = 0; index < count; index++) {
                    await (await a.notes.findOne(note(index).id).exec(true)).incrementalPatch(conflictEdits(index).a)
                }
                for (let index = 0; index < count; index++) {
                    await (await b.notes.findOne(note(index).id).exec(true)).incrementalPatch(conflictEdits(index).b)
                }
                const measured = await measure(count, async () => {
                    await replicateOnce(a.notes, link, { push: true, pull: true })
                    await replicateOnce(b.notes, link, { push: true, pull: true })
                    await replicateOnce(a.notes, link, { push: true, pull: true })
                })
                const [onA, onB] = [await all(a.notes), await all(b.notes)]
                return { ...measured, findings: conflictFindings(onA, onB, sameNotes(onA, onB)) }
            } finally {
                await Promise.all([a.db.close(), b.db.close()])
            }
        },

        async trickle(durationMs, intervalMs) {
            const master = new RxMaster()
            const link = directLink(master)
            const a = await open(storage)
            const b = await open(storage)
            const states = [replicate(a.notes, link, { push: true, live: true }), replicate(b.notes, link, { pull: true, live: true, master })]
            try {
                await Promise.all(states.map(state => state.awaitInitialReplication()))
                const measured = await measure(0, () =>
                    trickleRun({
                        durationMs,
                        intervalMs,
                        write: async index => {
                            await a.notes.insert(note(index))
                        },
                        onArrival: listener => {
                            b.notes.insert$.subscribe(event => listener(event.documentId))
                        },
                    }),
                )
                return { ...measured, ops: measured.result.writes, latencies: measured.result.latencies }
            } finally {
                await Promise.all(states.map(state => state.cancel()))
                await Promise.all([a.db.close(), b.db.close()])
            }
        },
    }
}

export const rxdbDexie = rxdbSystem('RxDB 17 (Dexie storage, fake-indexeddb)', () => getRxStorageDexie({ indexedDB: new IDBFactory(), IDBKeyRange }) as unknown as RxStorage<unknown, unknown>)
export const rxdbMemory = rxdbSystem('RxDB 17 (memory storage)', () => getRxStorageMemory() as unknown as RxStorage<unknown, unknown>)
