/**
 * Wipes (issue 10, seed 003): while three devices keep writing and syncing, the service's data
 * is reset (`synclog reset`, from another connection to the database), its SQLite file is
 * deleted and the service restarted on a new one, and one device's own database is wiped (a
 * reinstalled app). Afterwards the devices and the service hold the union of what every device
 * was told it wrote (a wiped device's notes too, as it had synced them before the wipe), and no
 * deleted note is revived. `RELIABILITY_WIPE_ROUNDS` repeats the cycle (CI: 3).
 */
import { existsSync, mkdtempSync, rmSync } from 'fs'
import { tmpdir } from 'os'
import { join } from 'path'
import { createSyncService } from '../server/service'
import type { SyncService } from '../server/service'
import { SqliteDocStore } from '../server/store/sqlite'
import { HttpSharedSyncLog } from '../shared-log/http'
import { baseSeed, between, runCount, seededRandom } from './helpers'
import { checkConverged, createScenarioDevice, randomWrite, syncRounds } from './scenario'
import type { ScenarioDevice } from './scenario'

const ROUNDS = runCount('RELIABILITY_WIPE_ROUNDS', 3)

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('wipes during continuous writes', () => {
    it(`${ROUNDS} rounds of server reset, server file deleted and a wiped client keep the union and revive nothing`, async () => {
        const random = seededRandom(baseSeed(40_000))
        const dir = mkdtempSync(join(tmpdir(), 'synclog-wipes-'))
        const file = join(dir, 'service.sqlite')
        const startService = async () => {
            const service = await createSyncService({ store: new SqliteDocStore({ filename: file }), port: 0, live: false, pairing: false })
            return { service, url: (await service.listen()).url }
        }
        let current: { service: SyncService; url: string } = await startService()
        const routed = ((input: string | URL | Request, init?: RequestInit) => {
            const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url)
            return globalThis.fetch(current.url + url.pathname + url.search, init)
        }) as typeof fetch
        const logFor = () => new HttpSharedSyncLog({ url: 'http://127.0.0.1:1', fetch: routed, retry: { retries: 3, baseDelayMs: 10, maxDelayMs: 100 } })
        const subjects: ScenarioDevice[] = [await createScenarioDevice(logFor()), await createScenarioDevice(logFor()), await createScenarioDevice(logFor())]
        const paused = new Set<number>()
        let stopped = false
        let writes = 0
        let syncErrors = 0
        const loop = async (index: number) => {
            for (let step = 0; !stopped; step++) {
                if (!paused.has(index)) {
                    await randomWrite(subjects[index], random, `d${index} #${step}`)
                    writes += 1
                    if (random() < 0.5) {
                        await subjects[index].device.syncNow().catch(() => (syncErrors += 1))
                    }
                }
                await pause(between(random, 5, 25))
            }
        }
        const loops = Promise.all(subjects.map((_, index) => loop(index)))
        const wipes: string[] = []
        try {
            for (let round = 0; round < ROUNDS; round++) {
                await pause(400)
                // `synclog reset` from another connection to the same file, while the service runs.
                const other = new SqliteDocStore({ filename: file })
                await other.init()
                await other.reset()
                await other.close()
                wipes.push('reset')

                await pause(400)
                // A reinstalled app: the device syncs what it has, then starts over from an empty database.
                const wiped = round % subjects.length
                paused.add(wiped)
                await pause(50)
                for (let attempt = 0; ; attempt++) {
                    try {
                        await syncRounds([subjects[wiped].device], 1)
                        if ((await subjects[wiped].device.clientLog.countEntries({ shared: 0 })) === 0) {
                            break
                        }
                    } catch (error) {
                        if (attempt > 20) {
                            throw error
                        }
                    }
                }
                const replacement = await createScenarioDevice(logFor())
                // The reinstalled app gets its data back from the service before the user goes on.
                for (let attempt = 0; ; attempt++) {
                    try {
                        await replacement.device.syncNow()
                        break
                    } catch (error) {
                        if (attempt > 20) {
                            throw error
                        }
                    }
                }
                subjects[wiped] = { device: replacement.device, own: subjects[wiped].own }
                paused.delete(wiped)
                wipes.push('client wiped')

                await pause(400)
                // The service's database file is deleted; the service restarts on a new, empty one.
                await current.service.close()
                for (const suffix of ['', '-wal', '-shm']) {
                    rmSync(file + suffix, { force: true })
                }
                expect(existsSync(file)).toBe(false)
                current = await startService()
                wipes.push('server file deleted')
            }
            await pause(300)
            stopped = true
            await loops
            await syncRounds(subjects.map((subject) => subject.device), 3)
            const fresh = await createScenarioDevice(logFor())
            await fresh.device.syncNow()
            const divergences = await checkConverged(subjects, [fresh.device])
            const owned = subjects.reduce((sum, subject) => sum + subject.own.size, 0)
            const deleted = subjects.reduce((sum, subject) => sum + [...subject.own.values()].filter((title) => title === null).length, 0)
            console.log(
                `wipes: ${wipes.length} wipes (${wipes.join(', ')}) during ${writes} writes (${syncErrors} failed sync passes); ` +
                    `${owned} notes checked (${deleted} deleted, 0 may be revived): ${divergences.length} divergences`,
            )
            expect(divergences.map((divergence) => divergence.reason)).toEqual([])
        } finally {
            stopped = true
            await loops.catch(() => undefined)
            await current.service.close()
            rmSync(dir, { recursive: true, force: true })
        }
    }, 5 * 60_000)
})
