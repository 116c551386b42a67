/**
 * The server side of RxDB's replication protocol for the comparison: a master store with a
 * sequence checkpoint and conflict detection on the assumed master state, in process or behind a
 * small fastify endpoint on loopback. RxDB ships no server in its free plugins; this is the
 * minimal backend its `replicateRxCollection` docs describe (push returns conflicts, pull returns
 * documents after a checkpoint, a stream signals new data).
 */
import Fastify from 'fastify'
import { Subject } from 'rxjs'

export type MasterDoc = Record<string, unknown> & { id: string; _deleted: boolean }
export interface Checkpoint {
    seq: number
}
export interface PushRow {
    assumedMasterState?: MasterDoc
    newDocumentState: MasterDoc
}

/** Canonical JSON of the fields the protocol carries (the replication's own metadata left out). */
function stateText(doc: MasterDoc | undefined): string {
    if (!doc) return ''
    const keys = Object.keys(doc).filter(key => key !== '_meta' && key !== '_rev' && key !== '_attachments').sort()
    return JSON.stringify(keys.map(key => [key, doc[key]]))
}

export class RxMaster {
    private readonly docs = new Map<string, { doc: MasterDoc; seq: number }>()
    /** Every write in sequence order; an entry is stale when its document has a newer seq. */
    private readonly log: Array<{ id: string; seq: number }> = []
    private seq = 0
    /** 'RESYNC' after every accepted push: live pullers fetch from their checkpoint. */
    readonly stream$ = new Subject<'RESYNC'>()

    push(rows: PushRow[]): MasterDoc[] {
        const conflicts: MasterDoc[] = []
        for (const row of rows) {
            const current = this.docs.get(row.newDocumentState.id)
            if (current && stateText(current.doc) !== stateText(row.assumedMasterState)) {
                conflicts.push(current.doc)
                continue
            }
            const seq = ++this.seq
            this.docs.set(row.newDocumentState.id, { doc: row.newDocumentState, seq })
            this.log.push({ id: row.newDocumentState.id, seq })
        }
        if (rows.length) this.stream$.next('RESYNC')
        return conflicts
    }

    pull(checkpoint: Checkpoint | undefined, limit: number): { documents: MasterDoc[]; checkpoint: Checkpoint | undefined } {
        const after = checkpoint?.seq ?? 0
        let low = 0
        let high = this.log.length
        while (low < high) {
            const mid = (low + high) >> 1
            if (this.log[mid].seq <= after) low = mid + 1
            else high = mid
        }
        const documents: MasterDoc[] = []
        let last = after
        for (let index = low; index < this.log.length && documents.length < limit; index++) {
            const item = this.log[index]
            const current = this.docs.get(item.id)!
            if (current.seq === item.seq) {
                documents.push(current.doc)
                last = item.seq
            }
        }
        return { documents, checkpoint: documents.length ? { seq: last } : checkpoint }
    }
}

/** The master behind POST /push and POST /pull on loopback; returns its URL and a closer. */
export async function serveMaster(master: RxMaster): Promise<{ url: string; close(): Promise<void> }> {
    const app = Fastify({ bodyLimit: 64 * 1024 * 1024 })
    app.post('/push', async request => master.push(request.body as PushRow[]))
    app.post('/pull', async request => {
        const body = request.body as { checkpoint?: Checkpoint; limit: number }
        return master.pull(body.checkpoint, body.limit)
    })
    const url = await app.listen({ port: 0, host: '127.0.0.1' })
    return { url, close: () => app.close() }
}

export async function postJson<T>(url: string, body: unknown): Promise<T> {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    if (!response.ok) throw new Error(`${url}: ${response.status}`)
    return (await response.json()) as T
}
