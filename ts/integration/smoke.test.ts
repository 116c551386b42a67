import { createDevices, dump, syncAll } from './devices'

describe('two devices', () => {
    it('sync creates, updates and deletes', async () => {
        const { devices: [a, b] } = await createDevices(2)
        const { object } = await a.storageManager.collection('note').createObject({ title: 'hello' })
        expect(typeof object.id).toBe('string')
        const result = await a.syncNow()
        expect(result.pushed).toBe(1)
        const pulled = await b.syncNow()
        expect(pulled.applied).toBe(1)
        expect(await dump(b, 'note')).toEqual(await dump(a, 'note'))
        await b.storageManager.operation('updateObject', 'note', { id: object.id }, { title: 'changed', $inc: { rank: 2 } })
        await a.storageManager.collection('user').createObject({ name: 'joe', emails: [{ address: 'joe@x' }] })
        await syncAll([a, b])
        expect(await dump(a, 'note')).toEqual(await dump(b, 'note'))
        expect(await dump(b, 'email')).toEqual(await dump(a, 'email'))
        expect((await dump(b, 'email')).length).toBe(1)
        await a.storageManager.collection('note').deleteObjects({ title: 'changed' })
        await syncAll([a, b])
        expect(await dump(b, 'note')).toEqual([])
    })
})
