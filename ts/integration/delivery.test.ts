import { CLIENT_LOG_COLLECTIONS } from '../client-log/collections'
import type { SyncLogEntry } from '../entries/types'
import { PULL_CURSOR_KEY } from '../sync/sync-pass'
import { backendPairs, dump } from './devices'
import type { TestDevice } from './devices'
import { FaultySharedLog, ManualClock, createMemoryLog, createPairDevices, dumpAll, logRows } from './scenario-helpers'

async function syncEveryone(devices: TestDevice[]): Promise<void> {
    for (const device of [...devices, ...devices]) {
        await device.syncNow()
    }
}

/** A mixed history: creates, updates, a concurrent edit, a delete and a re-create. */
async function history(devices: TestDevice[], clock: ManualClock): Promise<void> {
    const [a, b, c] = devices
    for (let index = 0; index < 4; index++) {
        await a.storageManager.collection('note').createObject({ id: `n${index}`, title: `note ${index}`, rank: index })
    }
    await a.syncNow()
    await b.syncNow()
    clock.advance(10)
    await b.storageManager.operation('updateObjects', 'note', { rank: 1 }, { title: 'b1' })
    await b.storageManager.operation('updateObject', 'note', { id: 'n2' }, { body: 'by b' })
    await a.storageManager.operation('updateObject', 'note', { id: 'n1' }, { title: 'a1' })
    await c.storageManager.collection('user').createObject({ id: 'u1', name: 'carol', emails: [{ id: 'e1', address: 'c@x' }] })
    clock.advance(10)
    await a.storageManager.operation('deleteObject', 'note', { id: 'n3' })
    await b.storageManager.operation('updateObject', 'note', { id: 'n2' }, { body: 'by b again' })
    await c.syncNow()
    await a.syncNow()
    clock.advance(10)
    await a.storageManager.collection('note').createObject({ id: 'n3', title: 'reborn' })
    await c.storageManager.operation('updateObject', 'user', { id: 'u1' }, { name: 'caroline' })
}

describe.each(backendPairs())('delivery on %s + %s', (...pair) => {
    it('duplicate delivery changes nothing (re-read from the start, and pages with repeated entries)', async () => {
        const clock = new ManualClock()
        const sharedLog = new FaultySharedLog(createMemoryLog())
        const { devices } = await createPairDevices(pair, 3, { clock, sharedLog })
        sharedLog.duplicatePages = true
        await history(devices, clock)
        await syncEveryone(devices)
        const state = await dumpAll(devices[0])
        for (const device of devices) {
            expect(await dumpAll(device)).toEqual(state)
        }
        const [, b] = devices
        const rowsBefore = (await logRows(b)).length
        await b.clientLog.setState(PULL_CURSOR_KEY, null)
        expect(await b.syncNow()).toMatchObject({ pushed: 0, applied: 0 })
        expect(await dumpAll(b)).toEqual(state)
        expect((await logRows(b)).length).toBe(rowsBefore)
    })

    it('a compacting shared log gives the same result as a full one', async () => {
        const results = []
        for (const compact of [false, true]) {
            const clock = new ManualClock()
            const { devices } = await createPairDevices(pair, 3, { clock, sharedLog: createMemoryLog({ compact }) })
            await history(devices, clock)
            await syncEveryone(devices)
            const state = await dumpAll(devices[0])
            for (const device of devices.slice(1)) {
                expect(await dumpAll(device)).toEqual(state)
            }
            results.push(state)
        }
        expect(results[1]).toEqual(results[0])
        expect(results[0].note).toHaveLength(4)
    })

    it('preSend drops a field and postReceive transforms what arrives', async () => {
        const withoutBody = (entry: SyncLogEntry): SyncLogEntry | null => {
            if (entry.collection === 'note' && entry.operation === 'modify' && entry.field === 'body') {
                return null
            }
            if (entry.collection === 'note' && entry.operation === 'create') {
                const { body: _body, ...rest } = entry.value as Record<string, unknown>
                return { ...entry, value: rest }
            }
            return entry
        }
        const shout = (entry: SyncLogEntry): SyncLogEntry => {
            if (entry.operation === 'create' && entry.collection === 'note') {
                const value = entry.value as Record<string, unknown>
                return { ...entry, value: { ...value, title: String(value.title).toUpperCase() } }
            }
            return entry.field === 'title' ? { ...entry, value: String(entry.value).toUpperCase() } : entry
        }
        const { devices } = await createPairDevices(pair, 2, { perDevice: index => (index === 0 ? { preSend: withoutBody } : { postReceive: shout }) })
        const [a, b] = devices
        await a.storageManager.collection('note').createObject({ id: 'n', title: 'quiet', body: 'private' })
        await a.storageManager.operation('updateObject', 'note', { id: 'n' }, { body: 'still private', rank: 3 })
        await a.syncNow()
        await b.syncNow()
        expect(await dump(b, 'note')).toEqual([{ id: 'n', title: 'QUIET', rank: 3 }])
        await a.storageManager.operation('updateObject', 'note', { id: 'n' }, { title: 'louder' })
        await a.syncNow()
        await b.syncNow()
        expect(await dump(b, 'note')).toEqual([{ id: 'n', title: 'LOUDER', rank: 3 }])
        expect(await dump(a, 'note')).toEqual([{ id: 'n', title: 'louder', body: 'still private', rank: 3 }])
        // Dropped entries count as shared: nothing is left waiting to be pushed.
        expect(await a.clientLog.countEntries({ shared: 0 })).toBe(0)
    })

    it('events report what was sent, received and reconciled, with counts', async () => {
        const { devices } = await createPairDevices(pair, 2)
        const [a, b] = devices
        const seen: string[] = []
        a.events.on('sending', ({ entries }) => seen.push(`a sending ${entries.length}`))
        b.events.on('received', ({ entries }) => seen.push(`b received ${entries.length}`))
        b.events.on('reconciled', ({ entries, operations }) => seen.push(`b reconciled ${entries.length} in ${operations} writes`))
        b.events.on('quarantined', ({ entries }) => seen.push(`b quarantined ${entries.length}`))
        b.events.on('error', () => seen.push('b error'))
        await a.storageManager.collection('note').createObject({ id: 'n1', title: 'one' })
        await a.storageManager.collection('note').createObject({ id: 'n2', title: 'two' })
        await a.storageManager.operation('updateObjects', 'note', { title: 'two' }, { rank: 2, body: 'b' })
        expect(await a.syncNow()).toEqual({ pushed: 4, pulled: 0, applied: 0 })
        expect(await b.syncNow()).toEqual({ pushed: 0, pulled: 4, applied: 4 })
        expect(seen).toEqual(['a sending 4', 'b received 4', 'b reconciled 4 in 2 writes'])
    })

    it('syncNow called twice concurrently does not apply anything twice', async () => {
        const { devices } = await createPairDevices(pair, 2)
        const [a, b] = devices
        for (let index = 0; index < 20; index++) {
            await a.storageManager.collection('note').createObject({ title: `note ${index}` })
        }
        await a.storageManager.operation('updateObjects', 'note', { title: 'note 3' }, { rank: 3 })
        await a.syncNow()
        let reconciled = 0
        b.events.on('reconciled', ({ entries }) => (reconciled += entries.length))
        const results = await Promise.all([b.syncNow(), b.syncNow(), b.syncNow()])
        expect(results.map(result => result.applied).reduce((x, y) => x + y)).toBe(21)
        expect(reconciled).toBe(21)
        expect(await dump(b, 'note')).toEqual(await dump(a, 'note'))
        const received = await b.adapter.findObjects(CLIENT_LOG_COLLECTIONS.entry, { deviceId: a.deviceId })
        expect(received).toHaveLength(21)
    })
})
