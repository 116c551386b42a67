/** PouchDB 9 in the comparison: its memory adapter (MemDOWN), replication between two databases in process. */
import { v4 as uuidv4 } from 'uuid'
import { conflictEdits, conflictFindings, measure, note, sameNotes, trickleRun } from './common'
import type { PlainNote, System, Write } from './common'

type Doc = { _id: string; _rev?: string; title: string; body?: string; rank?: number }

/** The parts of PouchDB 9 used here (it ships no type declarations). */
interface Db {
    put(doc: Doc): Promise<{ rev: string }>
    get(id: string): Promise<Doc & { _rev: string }>
    remove(doc: Doc): Promise<unknown>
    bulkDocs(docs: Doc[]): Promise<unknown>
    allDocs(options: { include_docs: true }): Promise<{ rows: Array<{ id: string; doc?: Doc }> }>
    info(): Promise<{ doc_count: number }>
    destroy(): Promise<unknown>
    changes(options: { since: 'now'; live: true }): { on(event: 'change', listener: (change: { id: string }) => void): unknown; cancel(): void }
    replicate: { to(target: Db, options: object): { cancel(): void } }
}
interface PouchStatic {
    new (name: string, options: { adapter: string }): Db
    plugin(plugin: unknown): void
    replicate(source: Db, target: Db, options: object): Promise<unknown>
    sync(a: Db, b: Db, options: object): Promise<unknown>
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const PouchDB = require('pouchdb') as PouchStatic
// eslint-disable-next-line @typescript-eslint/no-require-imports
PouchDB.plugin(require('pouchdb-adapter-memory'))

let counter = 0
const BATCH = 500

function open(): Db {
    return new PouchDB(`pouch-${++counter}-${Date.now()}`, { adapter: 'memory' })
}

async function seed(db: Db, count: number): Promise<void> {
    for (let start = 0; start < count; start += BATCH) {
        const docs: Doc[] = []
        for (let index = start; index < Math.min(count, start + BATCH); index++) {
            const { id, ...rest } = note(index)
            docs.push({ _id: id, ...rest })
        }
        await db.bulkDocs(docs)
    }
}

async function all(db: Db): Promise<PlainNote[]> {
    const result = await db.allDocs({ include_docs: true })
    return result.rows.map(row => ({ id: row.id, title: row.doc!.title, body: row.doc!.body ?? '', rank: row.doc!.rank ?? 0 }))
}

async function edit(db: Db, id: string, values: Partial<Doc>): Promise<void> {
    const doc = await db.get(id)
    await db.put({ ...doc, ...values })
}

export const pouchdbMemory: System = {
    name: 'PouchDB 9 (memory adapter)',
    // A CouchDB-compatible server (pouchdb-server / express-pouchdb) is not installed here.
    http: false,

    async mixedWrites(writes: Write[]) {
        const db = open()
        const live: string[] = []
        try {
            return await measure(writes.length, async () => {
                for (const write of writes) {
                    if (write.kind === 'create') {
                        const id = uuidv4()
                        await db.put({ _id: id, title: write.title, rank: write.rank })
                        live.push(id)
                    } else {
                        const index = Math.floor(write.pick * live.length)
                        if (write.kind === 'update') {
                            await edit(db, live[index], { title: write.title, rank: write.rank })
                        } else {
                            await db.remove(await db.get(live[index]))
                            live[index] = live[live.length - 1]
                            live.pop()
                        }
                    }
                }
            })
        } finally {
            await db.destroy()
        }
    },

    async transfer(count, transport) {
        if (transport === 'http') throw new Error('PouchDB over HTTP needs a CouchDB-compatible server')
        const [a, b] = [open(), open()]
        try {
            await seed(a, count)
            const measured = await measure(count, async () => {
                await PouchDB.replicate(a, b, { batch_size: BATCH })
            })
            const held = (await b.info()).doc_count
            if (held !== count) throw new Error(`pouchdb transfer: B holds ${held} of ${count}`)
            return measured
        } finally {
            await Promise.all([a.destroy(), b.destroy()])
        }
    },

    async conflicts(count) {
        const [a, b] = [open(), open()]
        try {
            await seed(a, count)
            await PouchDB.replicate(a, b, { batch_size: BATCH })
            for (let index = 0; index < count; index++) await edit(a, note(index).id, conflictEdits(index).a)
            for (let index = 0; index < count; index++) await edit(b, note(index).id, conflictEdits(index).b)
            const measured = await measure(count, async () => {
                await PouchDB.sync(a, b, { batch_size: BATCH })
            })
            const [onA, onB] = [await all(a), await all(b)]
            return { ...measured, findings: conflictFindings(onA, onB, sameNotes(onA, onB)) }
        } finally {
            await Promise.all([a.destroy(), b.destroy()])
        }
    },

    async trickle(durationMs, intervalMs) {
        const [a, b] = [open(), open()]
        const replication = a.replicate.to(b, { live: true, retry: true, batch_size: BATCH })
        const changes = b.changes({ since: 'now', live: true })
        try {
            const measured = await measure(0, () =>
                trickleRun({
                    durationMs,
                    intervalMs,
                    write: async index => {
                        const { id, ...rest } = note(index)
                        await a.put({ _id: id, ...rest })
                    },
                    onArrival: listener => {
                        changes.on('change', change => listener(change.id))
                    },
                }),
            )
            return { ...measured, ops: measured.result.writes, latencies: measured.result.latencies }
        } finally {
            replication.cancel()
            changes.cancel()
            await Promise.all([a.destroy(), b.destroy()])
        }
    },
}
