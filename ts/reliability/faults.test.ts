/**
 * Faults between client and service (issue 10). Each seeded run: an in-process service on an
 * in-memory SQLite store; 3 devices whose `HttpSharedSyncLog` talks through `faultyFetch`
 * (requests dropped, answers dropped after the service committed, duplicates, stale replays,
 * delays that reorder concurrent requests, 500/503/429, bodies cut in either direction);
 * random writes and syncs; then faults off and a final sync. Every device, and a new device
 * that syncs only from the service, must hold the same data, with every change acknowledged to
 * the app. `RELIABILITY_RUNS` sets the run count (CI: 300), `RELIABILITY_SEED` the first seed.
 */
import { HttpSharedSyncLog } from '../shared-log/http'
import { createSyncService } from '../server/service'
import { SqliteDocStore } from '../server/store/sqlite'
import { baseSeed, between, faultyFetch, runCount, seededRandom } from './helpers'
import type { FaultRates } from './helpers'
import { checkConverged, createScenarioDevice, randomWrite, syncRounds } from './scenario'

const RUNS = runCount('RELIABILITY_RUNS', 300)
const FIRST_SEED = baseSeed(10_000)

async function runOnce(seed: number): Promise<{ divergences: string[]; faults: Record<keyof FaultRates, number>; syncErrors: number }> {
    const random = seededRandom(seed)
    const service = await createSyncService({ store: new SqliteDocStore({ filename: ':memory:' }), port: 0, live: false, pairing: false })
    try {
        const { url } = await service.listen()
        const direct: typeof fetch = (input, init) => globalThis.fetch(input, init)
        const faulty = faultyFetch(direct, random)
        const logFor = () =>
            new HttpSharedSyncLog({ url, fetch: faulty.fetch, writeBatchSize: between(random, 2, 8), retry: { retries: 2, sleep: async () => undefined } })
        const subjects = [await createScenarioDevice(logFor()), await createScenarioDevice(logFor()), await createScenarioDevice(logFor())]
        let syncErrors = 0
        const steps = between(random, 3, 6)
        for (let step = 0; step < steps; step++) {
            // The devices act concurrently, so their requests interleave (and delays reorder them).
            await Promise.all(
                subjects.map(async (subject, index) => {
                    const writes = between(random, 0, 3)
                    for (let write = 0; write < writes; write++) {
                        await randomWrite(subject, random, `s${seed} d${index} #${step}.${write}`)
                    }
                    if (random() < 0.7) {
                        await subject.device.syncNow().catch(() => (syncErrors += 1))
                    }
                }),
            )
        }
        faulty.disable()
        await faulty.settle()
        const devices = subjects.map((subject) => subject.device)
        await syncRounds(devices)
        // A device that never saw a fault: what it receives is what the service holds.
        const fresh = await createScenarioDevice(new HttpSharedSyncLog({ url, fetch: direct }))
        await fresh.device.syncNow()
        const divergences = (await checkConverged(subjects, [fresh.device])).map((divergence) => divergence.reason)
        return { divergences, faults: faulty.counts, syncErrors }
    } finally {
        await service.close()
    }
}

describe('faults between client and service', () => {
    it(`${RUNS} seeded runs of 3 devices under injected faults converge with every acknowledged change`, async () => {
        const failures: string[] = []
        const totals: Record<string, number> = {}
        let syncErrors = 0
        for (let run = 0; run < RUNS; run++) {
            const seed = FIRST_SEED + run
            const result = await runOnce(seed)
            for (const [fault, count] of Object.entries(result.faults)) {
                totals[fault] = (totals[fault] ?? 0) + count
            }
            syncErrors += result.syncErrors
            if (result.divergences.length) {
                failures.push(`seed ${seed} (replay: RELIABILITY_SEED=${seed} RELIABILITY_RUNS=1): ${result.divergences.slice(0, 3).join('; ')}`)
            }
        }
        const injected = Object.values(totals).reduce((sum, count) => sum + count, 0)
        console.log(
            `faults: ${RUNS} runs (seeds ${FIRST_SEED}..${FIRST_SEED + RUNS - 1}), ${injected} faults injected ` +
                `(${Object.entries(totals).map(([fault, count]) => `${fault} ${count}`).join(', ')}), ${syncErrors} failed sync passes, ` +
                `${failures.length} divergences`,
        )
        expect(failures).toEqual([])
    }, 30 * 60_000)
})
