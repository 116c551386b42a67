import { backendPairs, dump } from './devices'
import type { TestDevice } from './devices'
import { FaultyAdapter, FaultySharedLog, createMemoryLog, createPairDevices, dumpAll, syncFails } from './scenario-helpers'

async function expectConverged(devices: TestDevice[]): Promise<void> {
    const first = await dumpAll(devices[0])
    for (const device of devices.slice(1)) {
        expect(await dumpAll(device)).toEqual(first)
    }
}

/** Local changes on both devices, so an interrupted pass has something to lose in each direction. */
async function localChanges(a: TestDevice, b: TestDevice, count = 6): Promise<void> {
    for (let index = 0; index < count; index++) {
        await a.storageManager.collection('note').createObject({ title: `a ${index}`, rank: index })
        await b.storageManager.collection('note').createObject({ title: `b ${index}`, rank: index })
    }
    await a.storageManager.operation('updateObjects', 'note', { rank: 1 }, { body: 'edited on a' })
}

describe.each(backendPairs())('interrupted sync on %s + %s', (...pair) => {
    it('after push: the shared log stored the entries but the reply was lost before markAsShared', async () => {
        const sharedLog = new FaultySharedLog(createMemoryLog())
        const { devices } = await createPairDevices(pair, 2, { sharedLog, perDevice: () => ({ uploadBatchSize: 4 }) })
        const [a, b] = devices
        await localChanges(a, b)
        sharedLog.failAfterWrites = 2
        expect((await syncFails(a)).message).toMatch(/connection lost/)
        // The first batch is stored but still unshared on A; B already sees it.
        expect(await a.clientLog.countEntries({ shared: 0 })).toBe(7)
        expect((await syncFails(b)).message).toMatch(/connection lost/)
        await a.storageManager.collection('note').createObject({ title: 'after the failure' })
        for (const device of [a, b, a, b]) {
            await device.syncNow()
        }
        await expectConverged(devices)
        expect(await dump(b, 'note')).toHaveLength(13)
        expect(await a.clientLog.countEntries({ shared: 0 })).toBe(0)
    })

    it('mid-pull: the second page fails to arrive', async () => {
        const sharedLog = new FaultySharedLog(createMemoryLog())
        const { devices } = await createPairDevices(pair, 2, { sharedLog, perDevice: () => ({ downloadBatchSize: 3 }) })
        const [a, b] = devices
        await localChanges(a, b)
        await a.syncNow()
        const reads = sharedLog.reads
        sharedLog.failReads = new Set([reads + 2])
        expect((await syncFails(b)).message).toMatch(/connection lost/)
        // The first page was applied with its cursor; B's own changes are pushed and kept.
        expect(await dump(b, 'note')).toHaveLength(9)
        expect(await b.clientLog.countEntries({ shared: 0 })).toBe(0)
        await b.syncNow()
        await a.syncNow()
        await expectConverged(devices)
        expect(await dump(a, 'note')).toHaveLength(12)
    })

    it('mid-apply: the backend fails inside the apply transaction once, and the pass still completes', async () => {
        let faulty: FaultyAdapter | null = null
        const { devices } = await createPairDevices(pair, 2, {
            perDevice: (index, storageManager) => (index === 1 ? { backendAdapter: (faulty = new FaultyAdapter(storageManager)) } : {}),
        })
        const [a, b] = devices
        await localChanges(a, b)
        await a.syncNow()
        faulty!.failWrites = 1
        // The whole batch is rolled back, then written object by object: nothing held, nothing lost.
        expect(await b.syncNow()).toMatchObject({ pulled: 7, applied: 7 })
        expect(await b.clientLog.getQuarantine()).toEqual([])
        await a.syncNow()
        await expectConverged(devices)
    })

    it('mid-apply: a failure that lasts the whole pass holds nothing back for good', async () => {
        let faulty: FaultyAdapter | null = null
        const { devices } = await createPairDevices(pair, 2, {
            perDevice: (index, storageManager) => (index === 1 ? { backendAdapter: (faulty = new FaultyAdapter(storageManager)) } : {}),
        })
        const [a, b] = devices
        await localChanges(a, b)
        await a.syncNow()
        const before = await dump(b, 'note')
        // The cursor write (the last write of the apply transaction) fails: the pass fails, nothing commits.
        faulty!.failStateWrites = true
        await syncFails(b)
        expect(await dump(b, 'note')).toEqual(before)
        faulty!.failStateWrites = false
        // The app collections reject every write: entries are held (quarantined), the cursor moves on.
        faulty!.failWrites = 1000
        const quarantined: number[] = []
        b.events.on('quarantined', ({ entries }) => quarantined.push(entries.length))
        expect(await b.syncNow()).toMatchObject({ applied: 0 })
        expect(quarantined).toEqual([7])
        faulty!.failWrites = 0
        expect(await b.syncNow()).toMatchObject({ pulled: 0, applied: 7 })
        expect(await b.clientLog.getQuarantine()).toEqual([])
        await a.syncNow()
        await expectConverged(devices)
        expect(await dump(a, 'note')).toHaveLength(12)
    })
})
