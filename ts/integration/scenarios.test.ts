import { backendPairs, canonicalJson, dump } from './devices'
import type { TestDevice } from './devices'
import { ManualClock, createPairDevices, dumpAll } from './scenario-helpers'

/** Syncs in the given order, then everyone again, so each device has seen every change. */
async function syncInOrder(devices: TestDevice[]): Promise<void> {
    for (const device of [...devices, ...devices]) {
        await device.syncNow()
    }
}

/** Expected objects in the order `dump` lists them. */
function rows(...objects: object[]): unknown[] {
    return objects.map(canonicalJson).sort().map(text => JSON.parse(text))
}

async function expectConverged(devices: TestDevice[]): Promise<Record<string, unknown[]>> {
    const first = await dumpAll(devices[0])
    for (const device of devices.slice(1)) {
        expect(await dumpAll(device)).toEqual(first)
    }
    return first
}

describe.each(backendPairs())('scenarios on %s + %s', (...pair) => {
    describe('writes on one device reach the others', () => {
        it('creates, including nested children and compound primary keys', async () => {
            const { devices } = await createPairDevices(pair, 3)
            const [a] = devices
            await a.storageManager.collection('note').createObject({ title: 'hello', rank: 1, tags: ['x', { deep: true }] })
            await a.storageManager.collection('user').createObject({ name: 'joe', emails: [{ address: 'joe@x' }, { address: 'joe@y' }] })
            await a.storageManager.collection('setting').createObject({ scope: 'ui', key: 'theme', value: { dark: true } })
            expect(await a.syncNow()).toEqual({ pushed: 5, pulled: 0, applied: 0 })
            expect(await devices[1].syncNow()).toEqual({ pushed: 0, pulled: 5, applied: 5 })
            await syncInOrder(devices)
            const state = await expectConverged(devices)
            expect(state.email).toHaveLength(2)
            expect(state.setting).toEqual([{ scope: 'ui', key: 'theme', value: { dark: true } }])
            expect(state.note).toEqual([{ id: 'obj0-0001', title: 'hello', rank: 1, tags: ['x', { deep: true }] }])
        })

        it('field updates, deletes, and updateObjects/deleteObjects with where', async () => {
            const { devices } = await createPairDevices(pair, 2)
            const [a, b] = devices
            const notes = a.storageManager.collection('note')
            for (const [title, rank] of [['one', 1], ['two', 2], ['three', 2], ['four', 3]] as const) {
                await notes.createObject({ title, rank })
            }
            await a.storageManager.collection('setting').createObject({ scope: 'ui', key: 'lang', value: 'en' })
            await syncInOrder(devices)
            await b.storageManager.operation('updateObject', 'note', { id: 'obj0-0001' }, { body: 'first', $inc: { rank: 10 } })
            await b.storageManager.operation('updateObjects', 'note', { rank: 2 }, { body: 'a two' })
            await b.storageManager.operation('deleteObjects', 'note', { title: 'four' })
            await b.storageManager.operation('updateObjects', 'setting', { scope: 'ui', key: 'lang' }, { value: 'fr' })
            await syncInOrder(devices)
            const state = await expectConverged(devices)
            expect(state.note).toEqual(
                rows(
                    { id: 'obj0-0001', title: 'one', rank: 11, body: 'first' },
                    { id: 'obj0-0002', title: 'two', rank: 2, body: 'a two' },
                    { id: 'obj0-0003', title: 'three', rank: 2, body: 'a two' },
                ),
            )
            expect(state.setting).toEqual([{ scope: 'ui', key: 'lang', value: 'fr' }])
            await a.storageManager.operation('deleteObject', 'note', { id: 'obj0-0002' })
            await a.storageManager.operation('deleteObjects', 'setting', { scope: 'ui', key: 'lang' })
            await syncInOrder(devices)
            expect((await expectConverged(devices)).note.map(note => (note as { id: string }).id).sort()).toEqual(['obj0-0001', 'obj0-0003'])
            expect(await dump(b, 'setting')).toEqual([])
        })

        it('executeBatch with placeholders, updates and deletes', async () => {
            const { devices } = await createPairDevices(pair, 2)
            const [a, b] = devices
            await a.storageManager.collection('note').createObject({ title: 'doomed' })
            await a.storageManager.operation('executeBatch', [
                { placeholder: 'joe', operation: 'createObject', collection: 'user', args: { name: 'joe' } },
                { operation: 'createObject', collection: 'email', args: { address: 'joe@x' }, replace: [{ path: 'user', placeholder: 'joe' }] },
                { operation: 'createObject', collection: 'note', args: { title: 'kept', rank: 1 } },
                { operation: 'updateObjects', collection: 'note', where: { title: 'doomed' }, updates: { body: 'never seen' } },
                { operation: 'deleteObjects', collection: 'note', where: { title: 'doomed' } },
            ])
            await syncInOrder(devices)
            const state = await expectConverged(devices)
            expect(state.note).toEqual([{ id: 'obj0-0004', title: 'kept', rank: 1 }])
            expect(state.email).toEqual([{ id: 'obj0-0003', address: 'joe@x', user: 'obj0-0002' }])
            expect(await dump(b, 'user')).toEqual([{ id: 'obj0-0002', name: 'joe' }])
        })
    })

    describe('concurrent edits', () => {
        it('of the same field: the higher (version, deviceId) wins on every device', async () => {
            const clock = new ManualClock()
            const { devices } = await createPairDevices(pair, 3, { clock })
            const [a, b, c] = devices
            await a.storageManager.collection('note').createObject({ title: 'start' })
            await syncInOrder(devices)
            clock.advance(1000)
            // Same wall clock, so both edits carry the same version: device-b beats device-a.
            await a.storageManager.operation('updateObject', 'note', { id: 'obj0-0001' }, { title: 'from a' })
            await b.storageManager.operation('updateObject', 'note', { id: 'obj0-0001' }, { title: 'from b' })
            await syncInOrder([c, a, b])
            expect((await expectConverged(devices)).note).toEqual([{ id: 'obj0-0001', title: 'from b' }])
            // A later version beats a higher device id.
            await b.storageManager.operation('updateObject', 'note', { id: 'obj0-0001' }, { title: 'b again' })
            clock.advance(10)
            await a.storageManager.operation('updateObject', 'note', { id: 'obj0-0001' }, { title: 'a later' })
            await syncInOrder([b, c, a])
            expect((await expectConverged(devices)).note).toEqual([{ id: 'obj0-0001', title: 'a later' }])
        })

        it('of different fields of one object: both are kept', async () => {
            const clock = new ManualClock()
            const { devices } = await createPairDevices(pair, 2, { clock })
            const [a, b] = devices
            await a.storageManager.collection('note').createObject({ title: 'start', body: 'old', rank: 1 })
            await syncInOrder(devices)
            await a.storageManager.operation('updateObject', 'note', { id: 'obj0-0001' }, { title: 'title by a' })
            await b.storageManager.operation('updateObject', 'note', { id: 'obj0-0001' }, { body: 'body by b', $inc: { rank: 1 } })
            await syncInOrder([b, a])
            expect((await expectConverged(devices)).note).toEqual([{ id: 'obj0-0001', title: 'title by a', body: 'body by b', rank: 2 }])
        })

        it.each([
            ['delete syncs first, update is newer', 'deleteFirst', 'updateNewer'],
            ['update syncs first, update is newer', 'updateFirst', 'updateNewer'],
            ['delete syncs first, delete is newer', 'deleteFirst', 'deleteNewer'],
            ['update syncs first, delete is newer', 'updateFirst', 'deleteNewer'],
        ])('delete vs concurrent update (%s): the object stays deleted', async (_name, syncOrder, versionOrder) => {
            const clock = new ManualClock()
            const { devices } = await createPairDevices(pair, 2, { clock })
            const [a, b] = devices
            await a.storageManager.collection('note').createObject({ title: 'start' })
            await a.storageManager.collection('note').createObject({ title: 'bystander' })
            await syncInOrder(devices)
            const remove = () => a.storageManager.operation('deleteObject', 'note', { id: 'obj0-0001' })
            const update = () => b.storageManager.operation('updateObject', 'note', { id: 'obj0-0001' }, { title: 'edited', body: 'new' })
            for (const write of versionOrder === 'updateNewer' ? [remove, update] : [update, remove]) {
                await write()
                clock.advance(5)
            }
            await syncInOrder(syncOrder === 'deleteFirst' ? [a, b] : [b, a])
            expect((await expectConverged(devices)).note).toEqual([{ id: 'obj0-0002', title: 'bystander' }])
        })

        it('delete then re-create: the new life wins, without fields of the old one', async () => {
            const clock = new ManualClock()
            const { devices } = await createPairDevices(pair, 3, { clock })
            const [a, b, c] = devices
            await a.storageManager.collection('note').createObject({ id: 'fixed', title: 'first life', body: 'old body' })
            await syncInOrder(devices)
            clock.advance(10)
            // C edits the first life concurrently; that edit is older than the re-create.
            await c.storageManager.operation('updateObject', 'note', { id: 'fixed' }, { rank: 7 })
            clock.advance(10)
            await b.storageManager.operation('deleteObject', 'note', { id: 'fixed' })
            await b.syncNow()
            await a.syncNow()
            expect(await dump(a, 'note')).toEqual([])
            clock.advance(10)
            await a.storageManager.collection('note').createObject({ id: 'fixed', title: 'second life' })
            await syncInOrder([c, b, a])
            expect((await expectConverged(devices)).note).toEqual([{ id: 'fixed', title: 'second life' }])
            clock.advance(10)
            await c.storageManager.operation('updateObject', 'note', { id: 'fixed' }, { rank: 8 })
            await syncInOrder([c, b, a])
            expect((await expectConverged(devices)).note).toEqual([{ id: 'fixed', title: 'second life', rank: 8 }])
        })
    })

    describe('clocks', () => {
        it('a device whose wall clock is an hour behind still wins with an edit made after it synced', async () => {
            const clock = new ManualClock()
            const behind = { now: () => clock.now() - 60 * 60 * 1000 }
            const { devices } = await createPairDevices(pair, 2, {
                clock,
                perDevice: index => (index === 1 ? { now: behind.now, maxDriftMs: 2 * 60 * 60 * 1000 } : {}),
            })
            const [a, b] = devices
            await a.storageManager.collection('note').createObject({ title: 'by a' })
            clock.advance(1000)
            await a.storageManager.operation('updateObject', 'note', { id: 'obj0-0001' }, { title: 'a edited' })
            await a.syncNow()
            await b.syncNow()
            // B's wall clock says an hour ago, but its clock has seen A's version.
            await b.storageManager.operation('updateObject', 'note', { id: 'obj0-0001' }, { title: 'b edited after seeing a' })
            await syncInOrder([b, a])
            expect((await expectConverged(devices)).note).toEqual([{ id: 'obj0-0001', title: 'b edited after seeing a' }])
            // And A, later again in real time, wins over B as usual.
            clock.advance(1000)
            await a.storageManager.operation('updateObject', 'note', { id: 'obj0-0001' }, { title: 'a last' })
            await syncInOrder([a, b])
            expect((await expectConverged(devices)).note).toEqual([{ id: 'obj0-0001', title: 'a last' }])
        })
    })
})
