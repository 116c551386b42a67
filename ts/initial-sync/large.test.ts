import { MemorySharedSyncLog } from '../shared-log/memory'
import { createMemoryChannelPair } from './channel'
import { receiveInitialSync } from './receiver'
import { sendInitialSync } from './sender'
import { bulkAddDexie, createExistingDexieDatabase, createSyncDevice, dumpDevice } from './test-devices'

it('transfers 50,000 objects over several collections (compound key, datetime and json fields)', async () => {
    const existing = await createExistingDexieDatabase(async plain => {
        await bulkAddDexie(plain, 'note', Array.from({ length: 30_000 }, (_, index) => ({ id: `n${String(index).padStart(5, '0')}`, title: `note ${index}`, tags: [index % 7, { deep: index }] })))
        await bulkAddDexie(plain, 'setting', Array.from({ length: 10_000 }, (_, index) => ({ scope: `s${index % 100}`, key: `k${index}`, value: { index } })))
        await bulkAddDexie(plain, 'event', Array.from({ length: 10_000 }, (_, index) => ({ id: `e${index}`, name: `event ${index}`, at: new Date(Date.UTC(2026, 0, 1) + index * 1000), data: { index, list: [index] } })))
    })
    const sharedLog = new MemorySharedSyncLog()
    const a = await createSyncDevice({ sharedLog, name: 'a', storageManager: existing.open() })
    const b = await createSyncDevice({ sharedLog, name: 'b' })
    const [ca, cb] = createMemoryChannelPair()
    let progressEvents = 0
    const [sent, received] = await Promise.all([sendInitialSync({ sync: a, channel: ca }), receiveInitialSync({ sync: b, channel: cb, onProgress: () => progressEvents++ })])
    expect(received).toMatchObject({ objects: 50_000, batches: sent.batches })
    expect(progressEvents).toBe(received.batches)
    expect(await dumpDevice(b)).toEqual(await dumpDevice(a))
    const [event] = await b.storageManager.collection('event').findObjects<{ at: Date }>({ id: 'e5' })
    expect(event.at.getTime()).toBe(Date.UTC(2026, 0, 1) + 5000)
    expect(await b.syncNow()).toEqual({ pushed: 0, pulled: 0, applied: 0 })
}, 180_000)
