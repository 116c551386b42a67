import type { TestDevice } from '../integration/devices'
import { ManualClock } from '../integration/scenario-helpers'
import { MemorySharedSyncLog } from '../shared-log/memory'
import { createMemoryChannelPair } from './channel'
import type { SyncChannel } from './channel'
import type { InitialSyncProgress, InitialSyncSummary } from './options'
import { receiveInitialSync } from './receiver'
import { sendInitialSync } from './sender'
import { InitialSyncControl } from './session'
import { bulkAddDexie, createExistingDexieDatabase, createSyncDevice, dumpDevice } from './test-devices'

type Options = { sender?: Partial<Parameters<typeof sendInitialSync>[0]>; receiver?: Partial<Parameters<typeof receiveInitialSync>[0]>; channels?: [SyncChannel, SyncChannel] }

async function transfer(a: TestDevice, b: TestDevice, options: Options = {}) {
    const [ca, cb] = options.channels ?? createMemoryChannelPair()
    const [sent, received] = await Promise.all([
        sendInitialSync({ sync: a, channel: ca, ...options.sender }),
        receiveInitialSync({ sync: b, channel: cb, ...options.receiver }),
    ])
    return { sent, received }
}

describe('initial sync over the memory channel', () => {
    it('transfers an empty database', async () => {
        const sharedLog = new MemorySharedSyncLog()
        const a = await createSyncDevice({ sharedLog, name: 'a' })
        const b = await createSyncDevice({ sharedLog, name: 'b' })
        const summaries: InitialSyncSummary[] = []
        const { sent, received } = await transfer(a, b, { receiver: { onSummary: summary => summaries.push(summary) } })
        expect(sent).toMatchObject({ objects: 0, bytes: 0, batches: 0 })
        expect(received).toMatchObject({ objects: 0, bytes: 0, batches: 0 })
        expect(summaries).toHaveLength(1)
        expect(summaries[0]).toMatchObject({ objectsTotal: 0, objectsDone: 0, resumed: false })
        expect(Object.values(await dumpDevice(b)).flat()).toEqual([])
    })

    it('transfers one object', async () => {
        const sharedLog = new MemorySharedSyncLog()
        const a = await createSyncDevice({ sharedLog, name: 'a' })
        const b = await createSyncDevice({ sharedLog, name: 'b' })
        await a.storageManager.collection('note').createObject({ title: 'only', tags: ['x', { y: 1 }] })
        const { sent, received } = await transfer(a, b)
        expect(sent).toMatchObject({ objects: 1, batches: 1 })
        expect(received).toEqual({ ...sent, ms: received.ms })
        expect(await dumpDevice(b)).toEqual(await dumpDevice(a))
        // Received as the other device's entry, not as an own change to push.
        expect(await b.clientLog.countUnshared()).toBe(0)
    })

    it('brings objects made before sync was switched on, with every field type, and reports progress', async () => {
        const existing = await createExistingDexieDatabase(async plain => {
            await plain.collection('note').createObject({ title: 'old note', rank: 3, tags: ['t'] })
            await plain.collection('event').createObject({ name: 'launch', at: new Date('2025-05-05T05:05:05.005Z'), data: { nested: [1, 'two', null], $date: 'not a date' } })
            await plain.collection('setting').createObject({ scope: 'ui', key: 'theme', value: { dark: true } })
            const { object: user } = await plain.collection('user').createObject({ name: 'joe' })
            await plain.collection('email').createObject({ address: 'joe@x', user: user.id })
        })
        const sharedLog = new MemorySharedSyncLog()
        const a = await createSyncDevice({ sharedLog, name: 'a', storageManager: existing.open() })
        expect(typeof (globalThis as { navigator?: unknown }).navigator).toBe('undefined')
        // Made with sync on: logged, and an old object edited after sync was switched on.
        await a.storageManager.collection('note').createObject({ title: 'new note' })
        await a.storageManager.operation('updateObjects', 'note', { title: 'old note' }, { rank: 4 })
        const b = await createSyncDevice({ sharedLog, name: 'b' })

        const events: Array<InitialSyncSummary | InitialSyncProgress> = []
        const { received } = await transfer(a, b, { sender: { batchObjects: 1 }, receiver: { onSummary: s => events.push(s), onProgress: p => events.push(p) } })
        expect(received.objects).toBe(6)
        expect(await dumpDevice(b)).toEqual(await dumpDevice(a))
        const [event] = await b.storageManager.collection('event').findObjects<{ at: Date; data: unknown }>({})
        // fake-indexeddb hands out Dates of Node's realm, which fail Jest's instanceof.
        expect(Object.prototype.toString.call(event.at)).toBe('[object Date]')
        expect(event.at.toISOString()).toBe('2025-05-05T05:05:05.005Z')
        expect(event.data).toEqual({ nested: [1, 'two', null], $date: 'not a date' })

        const [summary, ...progress] = events as [InitialSyncSummary, ...InitialSyncProgress[]]
        expect(summary).toMatchObject({ objectsTotal: 6, objectsDone: 0, resumed: false })
        expect(summary.collections.map(item => [item.name, item.objects])).toEqual([['note', 2], ['user', 1], ['email', 1], ['setting', 1], ['event', 1]])
        expect(summary.bytesEstimate).toBeGreaterThan(0)
        expect(progress.map(item => item.objectsDone)).toEqual([1, 2, 3, 4, 5, 6])
        expect(progress.every(item => item.objectsTotal === 6)).toBe(true)
        expect(progress[progress.length - 1].bytesDone).toBe(received.bytes)

        // A pre-sync object travels as a create any real change beats: the edit made on B wins.
        const oldNote = ((await b.storageManager.collection('note').findObjects({ title: 'old note' })) as Array<{ id: string }>)[0]
        await b.storageManager.operation('updateObject', 'note', { id: oldNote.id }, { title: 'edited on b' })
        await b.syncNow()
        await a.syncNow()
        expect(await dumpDevice(a)).toEqual(await dumpDevice(b))
        expect((await a.storageManager.collection('note').findObjects({ title: 'edited on b' })).length).toBe(1)
    })

    it('hands over to continuous sync: the first pass after 10,000 objects neither re-pushes nor re-pulls', async () => {
        const sharedLog = new MemorySharedSyncLog()
        const a = await createSyncDevice({ sharedLog, name: 'a' })
        const b = await createSyncDevice({ sharedLog, name: 'b' })
        for (let start = 0; start < 10_000; start += 500) {
            const batch = Array.from({ length: 500 }, (_, offset) => ({
                placeholder: `n${offset}`,
                operation: 'createObject' as const,
                collection: 'note',
                args: { id: `a-${String(start + offset + 1).padStart(5, '0')}`, title: `note ${start + offset}`, rank: start + offset },
            }))
            await a.storageManager.operation('executeBatch', batch)
        }
        // Half pushed before, half pushed by the sender's own hand-off.
        await a.push()
        for (let index = 0; index < 100; index++) {
            await a.storageManager.operation('updateObject', 'note', { id: `a-${String(index + 1).padStart(5, '0')}` }, { body: 'edited' })
        }
        const { received } = await transfer(a, b)
        expect(received.objects).toBe(10_000)

        const first = await b.syncNow()
        expect(first).toEqual({ pushed: 0, pulled: 0, applied: 0 })

        // Afterwards only new changes move, both ways.
        await a.storageManager.operation('updateObject', 'note', { id: 'a-00001' }, { title: 'after' })
        await b.storageManager.collection('note').createObject({ title: 'made on b' })
        expect(await a.syncNow()).toMatchObject({ pushed: 1, pulled: 0 })
        expect(await b.syncNow()).toEqual({ pushed: 1, pulled: 1, applied: 1 })
        expect(await a.syncNow()).toMatchObject({ pushed: 0, pulled: 1, applied: 1 })
        expect(await dumpDevice(b)).toEqual(await dumpDevice(a))
    }, 60_000)
})

describe('two-way merge and continuous sync afterwards', () => {
    it('runs the pair in both directions: last-write-wins per field, both ends identical', async () => {
        const clockA = new ManualClock(Date.UTC(2026, 10, 1))
        const clockB = new ManualClock(Date.UTC(2026, 10, 1))
        const existingA = await createExistingDexieDatabase(async plain => {
            await plain.collection('setting').createObject({ scope: 'ui', key: 'theme', value: 'dark' })
            await plain.collection('setting').createObject({ scope: 'ui', key: 'lang', value: 'en' })
        })
        const existingB = await createExistingDexieDatabase(async plain => {
            await plain.collection('setting').createObject({ scope: 'ui', key: 'theme', value: 'light' })
            await plain.collection('setting').createObject({ scope: 'ui', key: 'lang', value: 'de' })
            await plain.collection('setting').createObject({ scope: 'b', key: 'only', value: 1 })
        })
        const sharedLog = new MemorySharedSyncLog()
        const a = await createSyncDevice({ sharedLog, name: 'a', now: clockA.now, storageManager: existingA.open() })
        const b = await createSyncDevice({ sharedLog, name: 'b', now: clockB.now, storageManager: existingB.open() })

        // A note both know (A made it, B got it through continuous sync), then edited offline.
        clockA.advance(100)
        await a.storageManager.collection('note').createObject({ id: 'n', title: 'first', body: 'first' })
        await a.syncNow()
        await b.syncNow()
        clockB.advance(150)
        await b.storageManager.operation('updateObject', 'note', { id: 'n' }, { title: 'older title from b' })
        clockA.advance(100)
        await a.storageManager.operation('updateObject', 'note', { id: 'n' }, { title: 'newer title from a' })
        clockB.advance(150)
        await b.storageManager.operation('updateObject', 'note', { id: 'n' }, { body: 'newer body from b' })
        await b.storageManager.operation('updateObjects', 'setting', { scope: 'ui', key: 'lang' }, { value: 'fr' })
        // The same id made on both sides: the newer create wins.
        await a.storageManager.collection('note').createObject({ id: 'twin', title: 'twin from a' })
        clockB.advance(10)
        await b.storageManager.collection('note').createObject({ id: 'twin', title: 'twin from b' })

        const channels = createMemoryChannelPair()
        await Promise.all([sendInitialSync({ sync: a, channel: channels[0] }), receiveInitialSync({ sync: b, channel: channels[1] })])
        await Promise.all([sendInitialSync({ sync: b, channel: channels[1] }), receiveInitialSync({ sync: a, channel: channels[0] })])
        await channels[0].close()

        const dumpA = await dumpDevice(a)
        expect(await dumpDevice(b)).toEqual(dumpA)
        expect(dumpA.note).toEqual([
            { id: 'n', title: 'newer title from a', body: 'newer body from b' },
            { id: 'twin', title: 'twin from b' },
        ])
        // Pre-sync objects on both: an edit beats them; untouched ones tie at version 0 and the device id decides.
        const themeWinner = a.deviceId > b.deviceId ? 'dark' : 'light'
        expect(dumpA.setting).toEqual([
            { scope: 'ui', key: 'lang', value: 'fr' },
            { scope: 'b', key: 'only', value: 1 },
            { scope: 'ui', key: 'theme', value: themeWinner },
        ])
        for (const device of [a, b, a, b]) {
            await device.syncNow()
        }
        expect(await dumpDevice(a)).toEqual(dumpA)
        expect(await dumpDevice(b)).toEqual(dumpA)
    })

    it('continuous sync afterwards: an older edit does not overwrite a newer value from the initial sync, a newer one does', async () => {
        const clock = new ManualClock(Date.UTC(2026, 10, 1))
        const slowClock = new ManualClock(Date.UTC(2026, 10, 1))
        const sharedLog = new MemorySharedSyncLog()
        const a = await createSyncDevice({ sharedLog, name: 'a', now: clock.now })
        const c = await createSyncDevice({ sharedLog, name: 'c', now: slowClock.now })
        const b = await createSyncDevice({ sharedLog, name: 'b', now: clock.now })
        await a.storageManager.collection('note').createObject({ id: 'x', title: 'created', body: 'created' })
        await a.syncNow()
        await c.syncNow()
        clock.advance(1000)
        await a.storageManager.operation('updateObject', 'note', { id: 'x' }, { title: 'newer from a' })
        // C edits offline with a clock behind A's: an older change.
        slowClock.advance(500)
        await c.storageManager.operation('updateObject', 'note', { id: 'x' }, { title: 'older from c' })

        await transfer(a, b)
        expect(await dumpDevice(b)).toEqual(await dumpDevice(a))
        await c.syncNow()
        expect(await b.syncNow()).toMatchObject({ pulled: 1 })
        expect((await dumpDevice(b)).note).toEqual([{ id: 'x', title: 'newer from a', body: 'created' }])

        // And a newer change through continuous sync beats what the initial sync brought.
        slowClock.advance(5000)
        await c.storageManager.operation('updateObject', 'note', { id: 'x' }, { body: 'newer from c' })
        await c.syncNow()
        await b.syncNow()
        expect((await dumpDevice(b)).note).toEqual([{ id: 'x', title: 'newer from a', body: 'newer from c' }])
        await a.syncNow()
        await c.syncNow()
        expect(await dumpDevice(a)).toEqual(await dumpDevice(b))
        expect(await dumpDevice(c)).toEqual(await dumpDevice(b))
    })
})

/** A device with `count` notes (made before sync, seeded in bulk) on a shared memory log, and a fresh receiver. */
async function seeded(count: number) {
    const existing = await createExistingDexieDatabase(async plain => {
        await bulkAddDexie(plain, 'note', Array.from({ length: count }, (_, index) => ({ id: `n${String(index).padStart(5, '0')}`, title: `note ${index}` })))
    })
    const sharedLog = new MemorySharedSyncLog()
    const a = await createSyncDevice({ sharedLog, name: 'a', storageManager: existing.open() })
    const b = await createSyncDevice({ sharedLog, name: 'b' })
    return { a, b }
}

export { seeded, transfer }
