/**
 * The loop against real `synclog serve` processes: killed and restarted mid-run, two PostgreSQL
 * processes with the devices on different ones, and a device that starts while the service is
 * not there at all. The devices run nothing but `start()`.
 */
import fs from 'fs'
import net from 'net'
import os from 'os'
import path from 'path'
import { testPostgresUrl } from '../server/store/store-suite'
import { HttpSharedSyncLog } from '../shared-log/http'
import { HttpLiveSource } from '../shared-log/http-live'
import { ContinuousSync } from './continuous-sync'
import type { ContinuousSyncEventMap, SyncTrigger } from './continuous-sync-events'
import { waitFor } from './continuous-sync-fakes'
import { createDevice, dump } from './devices'
import type { TestDevice } from './devices'
import { createTemporaryDatabase, startServiceProcess } from './service-process'
import type { ServiceProcess, TemporaryDatabase } from './service-process'

jest.setTimeout(90_000)

const WEEKS = 2 ** 31 - 1
const processes: ServiceProcess[] = []
const loops: ContinuousSync[] = []
const databases: TemporaryDatabase[] = []

afterEach(async () => {
    for (const loop of loops.splice(0)) {
        await loop.stop()
    }
    await Promise.all(processes.splice(0).map(child => child.stop()))
    for (const database of databases.splice(0)) {
        await database.drop()
    }
})

async function serve(args: string[]): Promise<ServiceProcess> {
    const child = await startServiceProcess(['serve', ...args])
    processes.push(child)
    return child
}

interface Running {
    device: TestDevice
    loop: ContinuousSync
    triggers: SyncTrigger[]
    finished: Array<ContinuousSyncEventMap['syncFinished']>
    states: string[]
}

async function device(url: string): Promise<Running> {
    const device = await createDevice({ sharedLog: new HttpSharedSyncLog({ url, retry: { retries: 0 } }) })
    // Short backoff so the test waits seconds, not minutes; the interval never fires.
    const loop = new ContinuousSync({ sync: device, intervalMs: WEEKS, backoffBaseMs: 200, backoffMaxMs: 1000, live: new HttpLiveSource({ url, reconnectBaseMs: 200, reconnectMaxMs: 1000 }), multiTab: false, onlineEvents: null })
    loops.push(loop)
    const running: Running = { device, loop, triggers: [], finished: [], states: [] }
    loop.events.on('syncStarted', event => running.triggers.push(event.trigger))
    loop.events.on('syncFinished', event => running.finished.push(event))
    loop.events.on('stateChanged', event => running.states.push(event.state))
    return running
}

async function titles(device: TestDevice): Promise<string[]> {
    return ((await dump(device, 'note')) as Array<{ title: string }>).map(note => note.title).sort()
}

async function write(running: Running, title: string): Promise<void> {
    await running.device.storageManager.collection('note').createObject({ title })
}

function portOf(url: string): number {
    return Number(new URL(url).port)
}

async function freePort(): Promise<number> {
    const server = net.createServer()
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as net.AddressInfo).port
    await new Promise(resolve => server.close(resolve))
    return port
}

it('the service killed and restarted mid-run: both devices recover by themselves and converge', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'synclog-restart-')), 'service.sqlite')
    const first = await serve(['--db', file, '--port', '0'])
    const a = await device(first.url)
    const b = await device(first.url)
    for (const running of [a, b]) {
        await running.loop.start()
    }
    await write(a, 'before the crash')
    await waitFor(async () => (await titles(b.device)).includes('before the crash'), 'the first note on B')

    await first.stop(0)
    await write(a, 'A while down')
    await write(b, 'B while down')
    await waitFor(() => a.loop.state === 'offline' && b.loop.state === 'offline', 'both devices to be offline')

    await serve(['--db', file, '--port', String(portOf(first.url))])
    const expected = ['A while down', 'B while down', 'before the crash']
    await waitFor(async () => (await titles(a.device)).join() === expected.join() && (await titles(b.device)).join() === expected.join(), 'both devices to converge')
    expect(await dump(a.device, 'note')).toEqual(await dump(b.device, 'note'))
    expect(a.states).toContain('offline')
    expect(a.loop.state === 'idle' || a.loop.state === 'syncing').toBe(true)
    fs.rmSync(path.dirname(file), { recursive: true, force: true })
})

it('two `synclog serve --postgres` processes, A on one and B on the other: live still works', async () => {
    const database = await createTemporaryDatabase(testPostgresUrl(), 'synclog_live')
    databases.push(database)
    const [one, two] = await Promise.all([serve(['--postgres', database.url, '--port', '0']), serve(['--postgres', database.url, '--port', '0'])])
    expect(one.pid).not.toBe(two.pid)
    const a = await device(one.url)
    const b = await device(two.url)
    const bLive: string[] = []
    b.loop.events.on('liveStatus', event => bLive.push(event.status))
    await a.loop.start()
    await b.loop.start()
    await waitFor(() => bLive.includes('open') && b.loop.state === 'idle' && a.loop.state === 'idle', 'both loops up')
    await write(a, 'written through process 1')
    await waitFor(() => b.finished.some(event => event.applied > 0), 'B to apply it')
    expect(await titles(b.device)).toEqual(['written through process 1'])
    // Nothing but live passes on B: the notification crossed processes through PostgreSQL.
    expect(b.finished.filter(event => event.applied > 0).every(event => event.trigger === 'live')).toBe(true)
})

it('offline start: 100 writes against a dead port reach a second device once the service comes up, with nothing but start()', async () => {
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const a = await device(url)
    await a.loop.start()
    await waitFor(() => a.loop.state === 'offline', 'A to be offline')
    for (let index = 0; index < 100; index++) {
        await write(a, `offline note ${String(index).padStart(3, '0')}`)
    }
    expect(await a.loop.getPendingChanges()).toBe(100)
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'synclog-offline-')), 'service.sqlite')
    await serve(['--db', file, '--port', String(port)])
    const b = await device(url)
    await b.loop.start()
    await waitFor(async () => (await titles(b.device)).length === 100, 'all 100 notes on B', 30_000)
    expect(await a.loop.getPendingChanges()).toBe(0)
    expect(a.states[0]).toBe('idle')
    expect(a.states).toContain('offline')
    fs.rmSync(path.dirname(file), { recursive: true, force: true })
})
