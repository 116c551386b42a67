/**
 * The sync loop on real devices (Dexie on fake-indexeddb, setupSync) and a memory shared log
 * that fails or blocks on demand, with the loop's clock, timers and jitter injected: every
 * timing below is the fake clock's, so nothing depends on how fast the machine is.
 */
import { SyncConfigurationError, SyncError } from '../errors'
import { HttpSyncServiceError } from '../shared-log/http-transport'
import { MemorySharedSyncLog } from '../shared-log/memory'
import { ContinuousSync, LAST_SYNCED_AT_KEY } from './continuous-sync'
import type { ContinuousSyncEventMap } from './continuous-sync-events'
import type { ContinuousSyncOptions } from './continuous-sync-options'
import { FakeClock, ScriptedSharedLog, waitFor } from './continuous-sync-fakes'
import { createDevice, dump } from './devices'
import type { TestDevice } from './devices'

type Recorded = { [K in keyof ContinuousSyncEventMap]: { name: K; event: ContinuousSyncEventMap[K]; at: number } }[keyof ContinuousSyncEventMap]

interface Harness {
    device: TestDevice
    log: ScriptedSharedLog
    clock: FakeClock
    loop: ContinuousSync
    events: Recorded[]
    /** Waits until no pass is running (or the running one waits at the blocked log). */
    settle(): Promise<void>
    advance(ms: number): Promise<void>
    of<K extends keyof ContinuousSyncEventMap>(name: K): Array<ContinuousSyncEventMap[K]>
    write(title: string): Promise<void>
}

const loops: ContinuousSync[] = []
afterEach(async () => {
    for (const loop of loops.splice(0)) {
        await loop.stop()
    }
})

const unavailable = () => new HttpSyncServiceError('HTTP_503', 'POST /Docs/Query failed (503): status 503', 503)
const unreachable = () => new HttpSyncServiceError('SERVICE_UNREACHABLE', 'POST /Docs/Query: fetch failed', 0)

async function harness(options: Partial<ContinuousSyncOptions> = {}, memory = new MemorySharedSyncLog()): Promise<Harness> {
    const log = new ScriptedSharedLog(memory)
    const device = await createDevice({ sharedLog: log })
    const clock = new FakeClock()
    const loop = new ContinuousSync({ sync: device, now: clock.now, timers: clock, random: () => 0.5, multiTab: false, onlineEvents: null, ...options })
    loops.push(loop)
    const events: Recorded[] = []
    for (const name of ['stateChanged', 'syncStarted', 'syncFinished', 'syncError', 'pendingChanges', 'dataChanged', 'liveStatus'] as const) {
        loop.events.on(name, ((event: unknown) => events.push({ name, event, at: clock.time } as Recorded)) as never)
    }
    const settle = () => waitFor(() => loop.state !== 'syncing' || log.blocked, 'the pass to finish')
    return {
        device,
        log,
        clock,
        loop,
        events,
        settle,
        advance: ms => clock.advance(ms, settle),
        of: name => events.filter(record => record.name === name).map(record => record.event) as never,
        write: async title => {
            await device.storageManager.collection('note').createObject({ title })
        },
    }
}

const HOUR = 60 * 60 * 1000

describe('options', () => {
    it.each([
        [{ intervalMs: -1 }, 'intervalMs'],
        [{ changeDebounceMs: 1.5 }, 'changeDebounceMs'],
        [{ changeDebounceMs: 50, changeMaxDelayMs: 10 }, 'changeMaxDelayMs'],
        [{ backoffBaseMs: 0 }, 'backoffBaseMs'],
        [{ backoffBaseMs: 5000, backoffMaxMs: 1000 }, 'backoffMaxMs'],
        [{ syncOnChange: 'yes' }, 'syncOnChange'],
        [{ live: 'sse' }, 'live'],
        [{ random: 4 }, 'random'],
        [{ timers: {} }, 'timers'],
    ])('%j is refused, naming %s', async (bad, name) => {
        const device = await createDevice({ sharedLog: new MemorySharedSyncLog() })
        const make = () => new ContinuousSync({ sync: device, ...(bad as object) })
        expect(make).toThrow(SyncConfigurationError)
        expect(make).toThrow(new RegExp(`'${name}'`))
        try {
            make()
        } catch (error) {
            expect((error as SyncConfigurationError).option).toBe(name)
        }
    })

    it('refuses a missing sync', () => {
        expect(() => new ContinuousSync({} as ContinuousSyncOptions)).toThrow(/'sync'/)
    })
})

describe('triggers', () => {
    it('syncs on start, then every intervalMs after the last pass', async () => {
        const h = await harness({ intervalMs: 10_000, live: false })
        await h.loop.start()
        await h.settle()
        expect(h.of('syncStarted')).toEqual([{ trigger: 'start' }])
        await h.advance(9_999)
        expect(h.log.reads).toBe(1)
        await h.advance(1)
        expect(h.of('syncStarted').map(event => event.trigger)).toEqual(['start', 'interval'])
        await h.advance(10_000 * 3)
        expect(h.of('syncStarted')).toHaveLength(5)
        expect(h.loop.state).toBe('idle')
    })

    it('debounces local writes: one pass changeDebounceMs after the last write', async () => {
        const h = await harness({ intervalMs: HOUR, changeDebounceMs: 300, changeMaxDelayMs: 2000, live: false })
        await h.loop.start()
        await h.settle()
        for (let index = 0; index < 3; index++) {
            await h.write(`note ${index}`)
            await h.advance(100)
        }
        expect(h.log.reads).toBe(1)
        const lastWrite = h.clock.time - 100
        await h.advance(199)
        expect(h.log.reads).toBe(1)
        await h.advance(1)
        expect(h.of('syncStarted').map(event => event.trigger)).toEqual(['start', 'change'])
        expect(h.events.find(record => record.name === 'syncStarted' && record.event.trigger === 'change')?.at).toBe(lastWrite + 300)
        expect(h.of('syncFinished')[1]).toMatchObject({ pushed: 3, trigger: 'change' })
    })

    it('a steady stream of writes still syncs every changeMaxDelayMs', async () => {
        const h = await harness({ intervalMs: HOUR, changeDebounceMs: 300, changeMaxDelayMs: 1000, live: false })
        await h.loop.start()
        await h.settle()
        const started = h.clock.time
        for (let index = 0; index < 25; index++) {
            await h.write(`note ${index}`)
            await h.advance(100)
        }
        await h.advance(1000)
        // Each pass takes every write logged before it; the last one comes 300 ms after the last write (2400).
        const changePasses = h.events.filter(record => record.name === 'syncStarted' && record.event.trigger === 'change')
        expect(changePasses.map(record => record.at - started)).toEqual([1000, 2000, 2700])
    })

    it('triggers during a pass coalesce into exactly one more pass', async () => {
        const memory = new MemorySharedSyncLog()
        const h = await harness({ intervalMs: HOUR, changeDebounceMs: 0, changeMaxDelayMs: 0 }, memory)
        const other = await createDevice({ sharedLog: memory })
        await h.loop.start()
        await h.settle()
        h.log.block()
        await h.write('starts a pass')
        await h.advance(0)
        await waitFor(() => h.log.requests === 2, 'the second pass (a push: live is open) to send')
        // While it waits: writes, live notifications from another device, a manual sync.
        for (let index = 0; index < 5; index++) {
            await h.write(`during ${index}`)
            await other.storageManager.collection('note').createObject({ title: `other ${index}` })
            await other.syncNow()
            await h.advance(10)
        }
        const manual = h.loop.syncNow()
        expect(h.log.requests).toBe(2)
        h.log.release()
        const result = await manual
        await h.settle()
        await h.advance(1000)
        // The third pass pushed and pulled (a manual request makes it a full one), and that was all.
        expect(h.log.requests).toBe(4)
        // The first trigger that arrived during the pass names the coalesced one: here the first
        // write's, which with no quiet time fires as soon as its task has run, before the other
        // device's live notification.
        expect(h.of('syncStarted').map(event => event.trigger)).toEqual(['start', 'change', 'change'])
        // Between them the two passes carried every write (a push keeps going while new entries appear).
        expect(h.of('syncFinished').reduce((sum, event) => sum + event.pushed, 0)).toBe(6)
        expect(h.of('syncFinished').reduce((sum, event) => sum + event.applied, 0)).toBe(5)
        // The manual caller got the coalesced pass's result.
        const { trigger: _trigger, ...third } = h.of('syncFinished')[2]
        expect(result).toEqual(third)
        expect(await dump(h.device, 'note')).toHaveLength(11)
    })

    it('live: another device writing triggers a pass without a local trigger', async () => {
        const memory = new MemorySharedSyncLog()
        const h = await harness({ intervalMs: HOUR }, memory)
        const other = await createDevice({ sharedLog: memory })
        await h.loop.start()
        await h.settle()
        await other.storageManager.collection('note').createObject({ title: 'from the other device' })
        await other.syncNow()
        await h.advance(0)
        await waitFor(async () => (await dump(h.device, 'note')).length === 1, 'the note to arrive')
        expect(h.of('syncStarted').map(event => event.trigger)).toEqual(['start', 'live'])
        expect(h.of('dataChanged')).toEqual([{ applied: 1, source: 'local' }])
    })
})

describe('failures', () => {
    it('transient failures back off exponentially with full jitter, capped, and reset on success', async () => {
        let jitter = 0.999
        const h = await harness({ intervalMs: HOUR, live: false, random: () => jitter })
        h.log.failures.push(...Array.from({ length: 9 }, unavailable))
        await h.loop.start()
        await h.settle()
        for (let index = 0; index < 8; index++) {
            const delay = h.of('syncError')[index].retryInMs!
            await h.advance(delay)
        }
        const delays = h.of('syncError').map(event => event.retryInMs)
        const ceilings = [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]
        expect(delays).toEqual(ceilings.map(ceiling => Math.floor(0.999 * ceiling)))
        expect(h.of('syncError').every(event => event.willRetry && event.kind === 'transient' && event.code === 'HTTP_503')).toBe(true)
        expect(h.loop.state).toBe('error')
        // The ninth retry succeeds; the next failure starts at the bottom again.
        await h.advance(delays[8]!)
        expect(h.loop.state).toBe('idle')
        expect(h.of('syncFinished')).toHaveLength(1)
        jitter = 0
        h.log.failures.push(unavailable())
        await h.loop.syncNow().catch(() => undefined)
        await h.settle()
        expect(h.of('syncError')[9].retryInMs).toBe(0)
        jitter = 0.5
        h.log.failures.push(unavailable())
        await h.advance(0)
        expect(h.of('syncError')[10].retryInMs).toBe(1000)
    })

    it('full jitter stays within [0, ceiling) for any random value', async () => {
        const randoms = [0, 0.25, 0.999999]
        for (const value of randoms) {
            const h = await harness({ intervalMs: HOUR, live: false, random: () => value, backoffBaseMs: 100, backoffMaxMs: 1000 })
            h.log.failures.push(...Array.from({ length: 6 }, unavailable))
            await h.loop.start()
            await h.settle()
            for (let index = 0; index < 5; index++) {
                await h.advance(h.of('syncError')[index].retryInMs!)
            }
            h.of('syncError').forEach((event, index) => {
                const ceiling = Math.min(1000, 100 * 2 ** index)
                expect(event.retryInMs).toBeGreaterThanOrEqual(0)
                expect(event.retryInMs).toBeLessThan(ceiling)
                expect(event.retryInMs).toBe(Math.floor(value * ceiling))
            })
            await h.loop.stop()
        }
    })

    it('429 waits at least Retry-After', async () => {
        const h = await harness({ intervalMs: HOUR, live: false })
        const tooMany = Object.assign(new HttpSyncServiceError('HTTP_429', 'slow down', 429), { retryAfterMs: 7000 })
        h.log.failures.push(tooMany)
        await h.loop.start()
        await h.settle()
        expect(h.of('syncError')[0]).toMatchObject({ kind: 'transient', willRetry: true, retryInMs: 7000 })
        await h.advance(6999)
        expect(h.log.reads).toBe(1)
        await h.advance(1)
        expect(h.log.reads).toBe(2)
        expect(h.loop.state).toBe('idle')
    })

    it('offline is a state: no requests but the backoff probe, and an immediate retry on `online`', async () => {
        const online = new EventTarget()
        const memory = new MemorySharedSyncLog()
        const h = await harness({ intervalMs: 5000, changeDebounceMs: 0, changeMaxDelayMs: 0, onlineEvents: online }, memory)
        const other = await createDevice({ sharedLog: memory })
        h.log.failures.push(unreachable(), unreachable())
        await h.loop.start()
        await h.settle()
        expect(h.loop.state).toBe('offline')
        expect(h.of('syncError')[0]).toMatchObject({ kind: 'offline', code: 'SERVICE_UNREACHABLE', willRetry: true, retryInMs: 500 })
        expect(h.of('liveStatus').map(event => event.status)).toEqual(['connecting', 'open', 'closed'])
        // Writes and other devices' writes: no pass while offline.
        for (let index = 0; index < 3; index++) {
            await h.write(`offline ${index}`)
            await other.storageManager.collection('note').createObject({ title: `other ${index}` })
            await other.syncNow()
            await h.advance(100)
        }
        expect(h.log.requests).toBe(1)
        await h.advance(200) // the probe at 500 ms fails again: next delay 1000 ms
        expect(h.log.requests).toBe(2)
        expect(h.of('syncError')[1].retryInMs).toBe(1000)
        await h.advance(100)
        online.dispatchEvent(new Event('online'))
        await h.settle()
        expect(h.log.requests).toBe(4) // the pass's push and pull
        expect(h.of('syncStarted').map(event => event.trigger)).toEqual(['start', 'retry', 'online'])
        expect(h.loop.state).toBe('idle')
        expect(h.of('syncFinished')[0]).toMatchObject({ pushed: 3, applied: 3, trigger: 'online' })
        // Back online: live reconnected.
        expect(h.of('liveStatus').map(event => event.status)).toEqual(['connecting', 'open', 'closed', 'connecting', 'open'])
    })

    it('a persistent error stops the loop and is reported once; a successful syncNow resumes it', async () => {
        const memory = new MemorySharedSyncLog()
        const h = await harness({ intervalMs: 1000, changeDebounceMs: 0, changeMaxDelayMs: 0 }, memory)
        const other = await createDevice({ sharedLog: memory })
        h.log.failures.push(new HttpSyncServiceError('UNAUTHORIZED', 'GET /Docs/Query failed (401): Unknown token', 401))
        await h.loop.start()
        await h.settle()
        expect(h.loop.state).toBe('error')
        for (let index = 0; index < 5; index++) {
            await h.write(`note ${index}`)
            await other.storageManager.collection('note').createObject({ title: `other ${index}` })
            await other.syncNow()
            await h.advance(HOUR)
        }
        expect(h.log.reads).toBe(1)
        expect(h.of('syncError')).toHaveLength(1)
        expect(h.of('syncError')[0]).toMatchObject({ code: 'UNAUTHORIZED', kind: 'persistent', willRetry: false, retryInMs: null })
        expect(h.of('syncError')[0].error).toBeInstanceOf(SyncError)
        await expect(h.loop.syncNow()).resolves.toMatchObject({ pushed: 5, applied: 5 })
        await h.settle()
        expect(h.loop.state).toBe('idle')
        await h.advance(1000)
        expect(h.of('syncStarted').map(event => event.trigger)).toEqual(['start', 'manual', 'interval'])
    })

    it('a pass that throws something unexpected never leaves the loop stuck', async () => {
        const h = await harness({ intervalMs: HOUR, live: false })
        h.log.failures.push(new TypeError('cannot read properties of undefined'), 'a thrown string')
        await h.loop.start()
        await h.settle()
        expect(h.of('syncError')[0]).toMatchObject({ code: 'SYNC_FAILED', kind: 'transient', willRetry: true })
        expect(h.of('syncError')[0].error.cause).toBeInstanceOf(TypeError)
        await h.advance(h.of('syncError')[0].retryInMs!)
        await h.advance(h.of('syncError')[1].retryInMs!)
        expect(h.loop.state).toBe('idle')
        expect(h.of('syncFinished')).toHaveLength(1)
    })
})

describe('stop, state and persistence', () => {
    it('stop() during a pass resolves when the pass has finished, and nothing runs after it', async () => {
        const h = await harness({ intervalMs: 1000, changeDebounceMs: 0, changeMaxDelayMs: 0 })
        h.log.block()
        await h.loop.start()
        await waitFor(() => h.log.reads === 1, 'the first pass to read')
        let stopped = false
        const stopping = h.loop.stop().then(() => (stopped = true))
        await h.write('during stop')
        await new Promise(resolve => setTimeout(resolve, 20))
        expect(stopped).toBe(false)
        expect(h.loop.state).toBe('syncing')
        h.log.release()
        await stopping
        expect(h.loop.state).toBe('stopped')
        expect(h.of('syncFinished')).toHaveLength(1)
        await h.advance(HOUR)
        await h.write('after stop')
        await h.advance(HOUR)
        expect(h.log.reads).toBe(1)
        expect(h.clock.delays()).toEqual([])
        expect(h.of('stateChanged').map(event => event.state)).toEqual(['idle', 'syncing', 'stopped'])
    })

    it('reports pendingChanges and keeps the last sync time across a restart', async () => {
        const h = await harness({ intervalMs: HOUR, changeDebounceMs: 50, changeMaxDelayMs: 50, live: false })
        const counts: number[] = []
        h.loop.events.on('pendingChanges', event => counts.push(event.count))
        expect(await h.loop.getLastSyncedAt()).toBeNull()
        await h.loop.start()
        await h.settle()
        await h.write('one')
        await h.write('two')
        await waitFor(() => counts[counts.length - 1] === 2, 'two pending')
        await h.advance(50)
        await waitFor(() => counts[counts.length - 1] === 0, 'none pending')
        expect(counts.filter(count => count === 1 || count === 2).length).toBeGreaterThan(0)
        expect(h.loop.lastSyncedAt).toBe(h.clock.time)
        const syncedAt = h.clock.time
        await h.loop.stop()
        expect(await h.device.clientLog.getState(LAST_SYNCED_AT_KEY)).toBe(syncedAt)
        // A new loop over the same database (an app restart) knows it before its first pass.
        const restarted = new ContinuousSync({ sync: h.device, now: () => syncedAt + HOUR, timers: h.clock, multiTab: false, live: false })
        loops.push(restarted)
        h.log.block()
        await restarted.start()
        expect(restarted.lastSyncedAt).toBe(syncedAt)
        h.log.release()
    })
})
