/**
 * Kills (issue 10): `synclog serve` as a child process, SIGKILLed at random moments while three
 * devices write and sync and a heavy pusher posts large batches, and restarted on the same
 * database (a SQLite file; a PostgreSQL database). Afterwards every write the service
 * acknowledged is stored exactly once (each acknowledged pusher document present, seqs unique),
 * and the devices converge with every change acknowledged to their app.
 * `RELIABILITY_KILLS` sets the kills per store (CI: 20), `RELIABILITY_SEED` the seed.
 */
import { mkdtempSync, rmSync } from 'fs'
import { tmpdir } from 'os'
import { join } from 'path'
import { createTemporaryDatabase, startServiceProcess } from '../integration/service-process'
import type { ServiceProcess } from '../integration/service-process'
import { createToken } from '../server/auth'
import { PostgresDocStore } from '../server/store/postgres'
import { SqliteDocStore } from '../server/store/sqlite'
import { testPostgresUrl } from '../server/store/store-suite'
import type { DocStore } from '../server/store/types'
import { HttpSharedSyncLog } from '../shared-log/http'
import { baseSeed, between, postgresAvailable, runCount, seededRandom } from './helpers'
import { checkConverged, createScenarioDevice, randomWrite, syncRounds } from './scenario'
import type { ScenarioDevice } from './scenario'

const KILLS = runCount('RELIABILITY_KILLS', 20)
const PUSH_BATCH = 500

/** Sends every request to wherever the service listens now (each restart picks a new port). */
function routedFetch(current: () => string): typeof fetch {
    return ((input: string | URL | Request, init?: RequestInit) => {
        const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url)
        return globalThis.fetch(current() + url.pathname + url.search, init)
    }) as typeof fetch
}

async function sigkill(service: ServiceProcess): Promise<void> {
    try {
        process.kill(service.pid, 'SIGKILL')
    } catch {
        // already gone
    }
    await service.stop()
}

interface StoredDocSummary {
    id: string
    seq: number
}

/** Every document the service holds, paged by seq. */
async function allDocs(base: string, token: string): Promise<StoredDocSummary[]> {
    const docs: StoredDocSummary[] = []
    let since = 0
    for (;;) {
        const response = await fetch(`${base}/Docs/Query?origin=all&since=${since}&limit=5000`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body: JSON.stringify({ clientId: 'auditor' }),
        })
        const page = (await response.json()) as { docs: StoredDocSummary[]; cursor: number; hasMore: boolean }
        docs.push(...page.docs.map((doc) => ({ id: doc.id, seq: doc.seq })))
        since = page.cursor
        if (!page.hasMore) {
            return docs
        }
    }
}

/**
 * Two users (multi-user mode), so the pusher's documents do not travel to the devices: the
 * devices' user and the pusher's. Tokens are made on the database before the first start.
 */
async function makeTokens(store: DocStore): Promise<{ devices: string; pusher: string }> {
    await store.init()
    try {
        return { devices: await createToken({ store, userId: 'devices' }), pusher: await createToken({ store, userId: 'pusher' }) }
    } finally {
        await store.close()
    }
}

async function killRun(name: string, serveArgs: string[], store: DocStore, seed: number): Promise<void> {
    const random = seededRandom(seed)
    const tokens = await makeTokens(store)
    let service = await startServiceProcess([...serveArgs, '--auth'])
    const fetchNow = routedFetch(() => service.url)
    const logFor = () =>
        new HttpSharedSyncLog({ url: 'http://127.0.0.1:1', token: tokens.devices, fetch: fetchNow, retry: { retries: 3, baseDelayMs: 20, maxDelayMs: 200 } })
    const subjects: ScenarioDevice[] = []
    for (let index = 0; index < 3; index++) {
        subjects.push(await createScenarioDevice(logFor()))
    }
    let stopped = false
    let syncErrors = 0
    const acknowledged = new Set<string>()
    let pushErrors = 0
    let batches = 0

    const deviceLoop = async (subject: ScenarioDevice, index: number) => {
        for (let step = 0; !stopped; step++) {
            await randomWrite(subject, random, `${name} d${index} #${step}`)
            if (random() < 0.5) {
                await subject.device.syncNow().catch(() => (syncErrors += 1))
            }
            await new Promise((resolve) => setTimeout(resolve, between(random, 5, 30)))
        }
    }
    const pusherLoop = async () => {
        for (let batch = 0; !stopped; batch++) {
            const docs = Array.from({ length: PUSH_BATCH }, (_, n) => ({ id: `heavy-${batch}-${n}`, clientVersion: 1, data: { batch, n, pad: 'p'.repeat(64) } }))
            try {
                const response = await fetchNow('http://x/Docs', {
                    method: 'POST',
                    headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.pusher}` },
                    body: JSON.stringify({ clientId: 'pusher', docs }),
                })
                await response.text()
                if (response.status === 200) {
                    docs.forEach((doc) => acknowledged.add(doc.id))
                    batches += 1
                }
                // Heavy, not unbounded: the database stays small enough to audit quickly.
                await new Promise((resolve) => setTimeout(resolve, 100))
            } catch {
                // killed mid-request: not acknowledged, and a retry is not needed for the check
                pushErrors += 1
                await new Promise((resolve) => setTimeout(resolve, 50))
            }
        }
    }

    const load = Promise.all([...subjects.map(deviceLoop), pusherLoop()])
    try {
        for (let kill = 0; kill < KILLS; kill++) {
            await new Promise((resolve) => setTimeout(resolve, between(random, 150, 700)))
            await sigkill(service)
            service = await startServiceProcess([...serveArgs, '--auth'])
        }
        stopped = true
        await load
        await syncRounds(subjects.map((subject) => subject.device), 3)
        const fresh = await createScenarioDevice(logFor())
        await fresh.device.syncNow()
        const divergences = await checkConverged(subjects, [fresh.device])
        const stored = await allDocs(service.url, tokens.pusher)
        const ids = new Map<string, number>()
        stored.forEach((doc) => ids.set(doc.id, (ids.get(doc.id) ?? 0) + 1))
        const missing = [...acknowledged].filter((id) => !ids.has(id))
        const repeated = [...ids].filter(([, count]) => count > 1)
        const seqs = new Set(stored.map((doc) => doc.seq))
        console.log(
            `kills ${name}: ${KILLS} SIGKILLs under load (3 devices, ${batches} acknowledged ${PUSH_BATCH}-doc batches, ${pushErrors} cut pushes, ` +
                `${syncErrors} failed sync passes); ${acknowledged.size} acknowledged pusher docs, ${missing.length} missing, ${repeated.length} duplicated, ` +
                `${stored.length - seqs.size} repeated seqs, ${divergences.length} divergences`,
        )
        expect(divergences.map((divergence) => divergence.reason)).toEqual([])
        expect(missing).toEqual([])
        expect(repeated).toEqual([])
        expect(seqs.size).toBe(stored.length)
        expect(batches).toBeGreaterThan(0)
    } finally {
        stopped = true
        await load.catch(() => undefined)
        await service.stop()
    }
}

describe('the service SIGKILLed under load and restarted on the same database', () => {
    it(`SQLite file: ${KILLS} kills`, async () => {
        const dir = mkdtempSync(join(tmpdir(), 'synclog-kills-'))
        try {
            const file = join(dir, 'service.sqlite')
            await killRun('SQLite', ['serve', '--port', '0', '--db', file], new SqliteDocStore({ filename: file }), baseSeed(20_000))
        } finally {
            rmSync(dir, { recursive: true, force: true })
        }
    }, 10 * 60_000)

    it(`PostgreSQL: ${KILLS} kills`, async () => {
        if (!(await postgresAvailable())) {
            return
        }
        const database = await createTemporaryDatabase(testPostgresUrl(), 'synclog_kills')
        try {
            await killRun('PostgreSQL', ['serve', '--port', '0', '--postgres', database.url], new PostgresDocStore({ connectionString: database.url }), baseSeed(30_000))
        } finally {
            await database.drop()
        }
    }, 10 * 60_000)
})
