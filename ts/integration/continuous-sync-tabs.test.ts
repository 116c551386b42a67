/**
 * Multi-tab: two contexts (tabs) on one IndexedDB database, with Web Locks and BroadcastChannel
 * injected (in-process stand-ins with the same semantics). Only the lock holder runs passes;
 * the other forwards its writes and sync requests and hears "data changed".
 */
import { setupSync } from '../setup'
import { MemorySharedSyncLog } from '../shared-log/memory'
import { ContinuousSync } from './continuous-sync'
import type { SyncTrigger } from './continuous-sync-events'
import { FakeChannelBus, FakeLockManager, waitFor } from './continuous-sync-fakes'
import { REOPENABLE_BACKENDS, SYNCED, createDevice, dump } from './devices'

const HOUR = 60 * 60 * 1000
const loops: ContinuousSync[] = []
afterEach(async () => {
    for (const loop of loops.splice(0)) {
        await loop.stop()
    }
})

async function twoTabs() {
    const sharedLog = new MemorySharedSyncLog()
    const database = REOPENABLE_BACKENDS.dexie()
    const locks = new FakeLockManager()
    const bus = new FakeChannelBus()
    const tabs = []
    for (let index = 0; index < 2; index++) {
        const storageManager = database.open()
        const sync = await setupSync({ storageManager, collections: SYNCED, sharedLog })
        const loop = new ContinuousSync({ sync, intervalMs: HOUR, multiTab: { locks, channel: bus.open() }, onlineEvents: null })
        loops.push(loop)
        const triggers: SyncTrigger[] = []
        const changed: string[] = []
        loop.events.on('syncStarted', event => triggers.push(event.trigger))
        loop.events.on('dataChanged', event => changed.push(event.source))
        tabs.push({ storageManager, sync, loop, triggers, changed })
    }
    const other = await createDevice({ sharedLog })
    return { tabs, other, sharedLog }
}

it('one tab syncs; the other forwards writes and requests, and hears that data changed', async () => {
    const { tabs, other } = await twoTabs()
    const [first, second] = tabs
    expect(second.sync.deviceId).toBe(first.sync.deviceId) // one database, one device
    await first.loop.start()
    await waitFor(() => first.loop.state === 'idle', 'the first pass')
    await second.loop.start()
    await waitFor(() => second.loop.state === 'idle', 'the second tab to start')
    expect(first.loop.isLeader).toBe(true)
    expect(second.loop.isLeader).toBe(false)
    // With an election, a context's first pass is the one it runs on getting the lock.
    expect(first.triggers).toEqual(['leader'])

    // A write in the non-leading tab is synced by the leader.
    await second.storageManager.collection('note').createObject({ title: 'written in tab 2' })
    await waitFor(() => first.triggers.length === 2, 'the leader to sync tab 2 s write')
    expect(first.triggers[1]).toBe('change')
    await waitFor(() => first.loop.state === 'idle', 'that pass to finish')
    await other.syncNow()
    expect((await dump(other, 'note')).map(note => (note as { title: string }).title)).toEqual(['written in tab 2'])

    // Another device's write: the leader applies it, the other tab is told.
    await other.storageManager.collection('note').createObject({ title: 'from another device' })
    await other.syncNow()
    await waitFor(() => second.changed.length === 1, 'tab 2 to hear of the change')
    expect(first.changed).toEqual(['local'])
    expect(second.changed).toEqual(['tab'])
    expect((await second.storageManager.collection('note').findObjects({})).length).toBe(2)

    // syncNow() in the non-leading tab runs on the leader and resolves with that pass.
    const result = await second.loop.syncNow()
    expect(result).toMatchObject({ pushed: 0, pulled: 0, applied: 0 })
    expect(second.triggers).toEqual([])
    expect(first.triggers[first.triggers.length - 1]).toBe('manual')
    await waitFor(() => second.loop.state === 'idle', 'tab 2 to mirror the leader s state')
})

it('when the leading tab stops, the other takes over after its last pass', async () => {
    const { tabs, other } = await twoTabs()
    const [first, second] = tabs
    await first.loop.start()
    await second.loop.start()
    await waitFor(() => first.loop.state === 'idle' && first.triggers.length === 1, 'the first pass')
    const leaderChanges: boolean[] = []
    second.loop.events.on('leaderChanged', event => leaderChanges.push(event.isLeader))
    await first.loop.stop()
    await waitFor(() => second.loop.isLeader, 'tab 2 to lead')
    expect(leaderChanges).toEqual([true])
    await waitFor(() => second.triggers.length === 1, 'its first pass')
    expect(second.triggers).toEqual(['leader'])
    // It now syncs by itself, live included.
    await other.storageManager.collection('note').createObject({ title: 'after the hand-over' })
    await other.syncNow()
    await waitFor(async () => (await dump(other, 'note')).length === 1 && (await second.storageManager.collection('note').findObjects({})).length === 1, 'the note to reach tab 2')
    expect(second.triggers).toContain('live')
})

it('without Web Locks every context syncs by itself', async () => {
    const sharedLog = new MemorySharedSyncLog()
    const sync = await setupSync({ storageManager: REOPENABLE_BACKENDS.dexie().open(), collections: SYNCED, sharedLog })
    const loop = new ContinuousSync({ sync, intervalMs: HOUR, multiTab: { locks: null, channel: null }, onlineEvents: null })
    loops.push(loop)
    await loop.start()
    expect(loop.isLeader).toBe(true)
    await waitFor(() => loop.state === 'idle', 'the first pass')
})

it('by default, where navigator.locks does not exist (Node), there is no election and no channel', async () => {
    expect((globalThis as { navigator?: { locks?: unknown } }).navigator?.locks).toBeUndefined()
    const sync = await setupSync({ storageManager: REOPENABLE_BACKENDS.dexie().open(), collections: SYNCED, sharedLog: new MemorySharedSyncLog() })
    const loop = new ContinuousSync({ sync, intervalMs: HOUR, onlineEvents: null })
    loops.push(loop)
    const leaderChanges: boolean[] = []
    loop.events.on('leaderChanged', event => leaderChanges.push(event.isLeader))
    await loop.start()
    expect(loop.isLeader).toBe(true)
    await waitFor(() => loop.state === 'idle', 'the first pass')
    expect(leaderChanges).toEqual([])
})
