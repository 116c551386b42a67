import type StorageManager from '@worldbrain/storex'
import { IDBIndex as FakeIndex, IDBObjectStore as FakeObjectStore } from 'fake-indexeddb'
import { createDexieStorageManager } from '../integration/devices'
import { createBackendAdapter } from './index'
import type { DexieBackendAdapter } from './dexie'
import { KeyExistsError } from './types'
import type { StoredObject } from './types'

/**
 * The adapter's plain-IndexedDB path (`IdbOperations`): which bodies take it, that it is as
 * atomic as the Dexie path, and that a body needing the backend is rerun there from scratch.
 */

interface DexieInternals {
    dexie: {
        transaction: (...args: unknown[]) => Promise<unknown>
        table(name: string): { hook(event: string, fn: (...args: unknown[]) => unknown): void; put(object: StoredObject): Promise<unknown> }
    }
}

async function setup(): Promise<{ manager: StorageManager; adapter: DexieBackendAdapter; dexieTransactions(): number }> {
    const manager = createDexieStorageManager()
    await manager.finishInitialization()
    const adapter = createBackendAdapter(manager) as DexieBackendAdapter
    // Dexie opens the database at its first request; the plain path needs it open.
    await manager.collection('note').findObjects({})
    const dexie = (manager.backend as unknown as DexieInternals).dexie
    const original = dexie.transaction.bind(dexie)
    let count = 0
    dexie.transaction = (...args: unknown[]) => {
        count++
        return original(...args)
    }
    return { manager, adapter, dexieTransactions: () => count }
}

const notes = (manager: StorageManager) => manager.collection('note').findObjects({})

describe('the plain IndexedDB path of the Dexie adapter', () => {
    it('runs key-addressed writes without a Dexie transaction, all committed together', async () => {
        const { manager, adapter, dexieTransactions } = await setup()
        await adapter.atomic(['note', 'localCache'], async ops => {
            await ops.insertObject!('note', { id: 'a', title: 'a' })
            await ops.createObject('note', { id: 'b', title: 'b' })
            await ops.createObjects('localCache', [{ id: 1, text: 'x' }])
            expect(await ops.updateObjectByPk!('note', { id: 'a' }, { title: 'a2' })).toBe(true)
            await ops.putObjects!('note', [{ id: 'c', title: 'c' }])
            await ops.deleteObjects('note', { id: { $in: ['b'] } })
        })
        expect(dexieTransactions()).toBe(0)
        expect(await notes(manager)).toEqual([expect.objectContaining({ id: 'a', title: 'a2' }), expect.objectContaining({ id: 'c', title: 'c' })])
        expect(await manager.collection('localCache').findObjects({})).toEqual([{ id: 1, text: 'x' }])
    })

    it('deletes a run of keys that is all the store holds between them as one range, and only those keys otherwise', async () => {
        const { manager, adapter, dexieTransactions } = await setup()
        const ids = Array.from({ length: 40 }, (_, index) => `k${String(index).padStart(2, '0')}`)
        await adapter.atomic(['note'], ops => ops.putObjects!('note', ids.map(id => ({ id, title: id }))))
        // k00..k19 are contiguous: one range. Every other key of k20..k39 is not: the keys in between stay.
        const scattered = ids.slice(20).filter((_, index) => index % 2 === 0)
        await adapter.atomic(['note'], async ops => {
            await ops.deleteObjects('note', { id: { $in: ids.slice(0, 20).reverse() } })
            await ops.deleteObjects('note', { id: { $in: [...scattered, 'missing-1', 'missing-2'] } })
        })
        expect(dexieTransactions()).toBe(0)
        expect((await notes(manager)).map(note => (note as StoredObject).id)).toEqual(ids.slice(20).filter(id => !scattered.includes(id)))
    })

    it('reads many keys as one range when they cluster, and exactly the keys asked for in every case', async () => {
        const { adapter, dexieTransactions } = await setup()
        const ids = Array.from({ length: 100 }, (_, index) => `k${String(index).padStart(3, '0')}`)
        await adapter.atomic(['note'], ops => ops.putObjects!('note', ids.map(id => ({ id, title: id }))))
        const read = (keys: string[]) => adapter.atomic(['note'], async ops => (await ops.findObjects('note', { id: { $in: keys } })).map(note => note.id as string).sort())
        // All the range holds; most of it with gaps and missing keys; a sparse pick over the whole store.
        const contiguous = ids.slice(10, 40)
        const gappy = [...ids.slice(50, 70).filter((_, index) => index % 4 !== 0), 'k0555', 'k0556']
        const sparse = ids.filter((_, index) => index % 5 === 0)
        expect(await read(contiguous)).toEqual(contiguous)
        expect(await read(gappy)).toEqual(gappy.filter(id => ids.includes(id)).sort())
        expect(await read(sparse)).toEqual(sparse)
        expect(await read([...ids.slice(0, 20).map(id => `${id}-missing`)])).toEqual([])
        expect(dexieTransactions()).toBe(0)
    })

    it('tells which primary keys exist without reading the objects, clustered or not', async () => {
        const { adapter } = await setup()
        const ids = Array.from({ length: 60 }, (_, index) => `k${String(index).padStart(2, '0')}`)
        await adapter.atomic(['note'], ops => ops.putObjects!('note', ids.filter((_, index) => index % 3 !== 0).map(id => ({ id, title: id }))))
        const existing = (keys: string[]) => adapter.atomic(['note'], async ops => (await ops.findKeys!('note', { id: { $in: keys } }))!.map(String).sort())
        const stored = ids.filter((_, index) => index % 3 !== 0)
        // A run with gaps (one probe), a sparse pick with others in between (a key check each), a few keys.
        expect(await existing(ids.slice(0, 30))).toEqual(stored.filter(id => id < 'k30'))
        expect(await existing(ids.filter((_, index) => index % 2 === 0))).toEqual(stored.filter(id => Number(id.slice(1)) % 2 === 0))
        expect(await existing(['k01', 'k03', 'nope'])).toEqual(['k01'])
    })

    it('applies a run of updates by key as the same updates one after another would, in one read and one write per object', async () => {
        const seed = Array.from({ length: 30 }, (_, index) => ({ id: `n${index}`, title: `t${index}`, rank: index }))
        const items = [
            ...seed.slice(0, 20).map(note => ({ where: { id: note.id }, updates: { title: `${note.title}!` } })),
            // The same object again (sees the first update), a missing object, a field set to null.
            { where: { id: 'n3' }, updates: { rank: 99 } },
            { where: { id: 'missing' }, updates: { title: 'nobody' } },
            { where: { id: 'n4' }, updates: { title: null } },
        ]
        const run = async (batched: boolean) => {
            const { manager, adapter, dexieTransactions } = await setup()
            await adapter.atomic(['note'], ops => ops.putObjects!('note', seed))
            await adapter.atomic(['note'], async ops => {
                if (batched) {
                    await ops.updateObjectsByPk!('note', items)
                } else {
                    for (const item of items) {
                        await ops.updateObjects('note', item.where, item.updates)
                    }
                }
            })
            expect(dexieTransactions()).toBe(0)
            return (await notes(manager)) as StoredObject[]
        }
        const batched = await run(true)
        expect(batched).toEqual(await run(false))
        expect(batched.find(note => note.id === 'n3')).toEqual(expect.objectContaining({ title: 't3!', rank: 99 }))
        expect(batched.find(note => note.id === 'n4')).toEqual(expect.objectContaining({ title: null }))
        expect(batched.some(note => note.id === 'missing')).toBe(false)
        expect(items[0].updates).toEqual({ title: 't0!' })
    })

    it('runs a run of updates one by one when a where is not a single key', async () => {
        const { manager, adapter } = await setup()
        await adapter.atomic(['note'], ops => ops.putObjects!('note', [{ id: 'a', title: 'a' }, { id: 'b', title: 'b' }]))
        await adapter.atomic(['note'], ops =>
            ops.updateObjectsByPk!('note', [
                { where: { id: { $in: ['a', 'b'] } }, updates: { title: 'both' } },
                { where: { id: 'b' }, updates: { title: 'b2' } },
            ]),
        )
        expect(await notes(manager)).toEqual([expect.objectContaining({ id: 'a', title: 'both' }), expect.objectContaining({ id: 'b', title: 'b2' })])
    })

    it('reads a store in key order, limited, on the plain path and the Dexie path alike', async () => {
        const { manager, adapter, dexieTransactions } = await setup()
        await adapter.atomic(['note'], ops => ops.putObjects!('note', ['c', 'a', 'd', 'b'].map(id => ({ id, title: id }))))
        const first = (ops: { findObjects(collection: string, where: StoredObject, options?: object): Promise<StoredObject[]> }) =>
            ops.findObjects('note', {}, { order: [['id', 'asc']], limit: 2 })
        expect((await adapter.atomic(['note'], first)).map(note => note.id)).toEqual(['a', 'b'])
        expect(dexieTransactions()).toBe(0)
        // Outside a transaction the adapter reads through Dexie.
        expect((await first(adapter)).map(note => note.id)).toEqual(['a', 'b'])
        expect((await adapter.findObjects('note', {})).map(note => note.id)).toEqual(['a', 'b', 'c', 'd'])
        // Another order is the backend's to answer.
        expect((await adapter.findObjects('note', {}, { order: [['title', 'desc']], limit: 1 })).map(note => note.id)).toEqual(['d'])
        expect(await notes(manager)).toHaveLength(4)
    })

    it('reads objects by an index with one getAll per value and no get per object, on the plain path and the Dexie path alike', async () => {
        const manager = createDexieStorageManager()
        manager.registry.registerCollections({
            tagged: { version: new Date('2026-01-01'), fields: { label: { type: 'string' }, group: { type: 'string' } }, indices: [{ field: 'group' }] },
        })
        await manager.finishInitialization()
        const adapter = createBackendAdapter(manager) as DexieBackendAdapter
        await manager.collection('tagged').findObjects({})
        const objects = Array.from({ length: 12 }, (_, index) => ({ id: `t${String(index).padStart(2, '0')}`, label: `l${index}`, group: `g${index % 4}` }))
        await adapter.atomic(['tagged'], ops => ops.putObjects!('tagged', objects))
        const counts = { indexGetAll: 0, storeGet: 0 }
        const originalGetAll = FakeIndex.prototype.getAll
        const originalGet = FakeObjectStore.prototype.get
        FakeIndex.prototype.getAll = function (this: IDBIndex, ...args: Parameters<IDBIndex['getAll']>) {
            counts.indexGetAll++
            return originalGetAll.apply(this, args)
        }
        FakeObjectStore.prototype.get = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['get']>) {
            counts.storeGet++
            return originalGet.apply(this, args)
        }
        const ids = (found: StoredObject[]) => found.map(object => object.id as string).sort()
        const inGroups = objects.filter(object => object.group === 'g1' || object.group === 'g3').map(object => object.id)
        try {
            // Plain path: three values (one holding nothing), then a limit on one value.
            const plain = await adapter.atomic(['tagged'], async ops => ({
                many: ids(await ops.findObjects('tagged', { group: { $in: ['g1', 'g3', 'none', 'g1'] } })),
                limited: (await ops.findObjects('tagged', { group: 'g2' }, { limit: 2 })).length,
            }))
            expect(plain).toEqual({ many: inGroups, limited: 2 })
            expect(counts).toEqual({ indexGetAll: 4, storeGet: 0 })
            // Dexie path: a non-key where sends the body there, and the index lookup reads alike.
            const viaDexie = await adapter.atomic(['tagged'], async ops => {
                await ops.findObjects('tagged', { label: 'l0' })
                counts.indexGetAll = counts.storeGet = 0
                return ids(await ops.findObjects('tagged', { group: { $in: ['g1', 'g3', 'none'] } }))
            })
            expect(viaDexie).toEqual(inGroups)
            expect(counts).toEqual({ indexGetAll: 3, storeGet: 0 })
        } finally {
            FakeIndex.prototype.getAll = originalGetAll
            FakeObjectStore.prototype.get = originalGet
        }
    })

    it('assigns auto-incremented keys and returns them, as the backend does', async () => {
        const { manager, adapter } = await setup()
        const created = await adapter.atomic(['localCache'], ops => ops.createObject('localCache', { text: 'auto' }))
        expect(typeof created.id).toBe('number')
        expect(await manager.collection('localCache').findObjects({})).toEqual([{ id: created.id, text: 'auto' }])
    })

    it('rolls every write back when the body fails', async () => {
        const { manager, adapter, dexieTransactions } = await setup()
        await manager.collection('note').createObject({ id: 'keep', title: 'before' })
        const failing = adapter.atomic(['note'], async ops => {
            await ops.createObject('note', { id: 'n', title: 'n' })
            await ops.updateObjects('note', { id: 'keep' }, { title: 'after' })
            throw new Error('boom')
        })
        await expect(failing).rejects.toThrow('boom')
        expect(dexieTransactions()).toBe(0)
        expect(await notes(manager)).toEqual([expect.objectContaining({ id: 'keep', title: 'before' })])
    })

    it('reports an existing key as KeyExistsError without dooming the transaction', async () => {
        const { manager, adapter } = await setup()
        await manager.collection('note').createObject({ id: 'taken', title: 'first' })
        await adapter.atomic(['note'], async ops => {
            await expect(ops.insertObject!('note', { id: 'taken', title: 'second' })).rejects.toBeInstanceOf(KeyExistsError)
            await ops.createObject('note', { id: 'other', title: 'still written' })
        })
        expect(await notes(manager)).toEqual([expect.objectContaining({ id: 'other' }), expect.objectContaining({ id: 'taken', title: 'first' })])
    })

    it('rolls back and reruns in a Dexie transaction a body that needs the backend (a non-key where)', async () => {
        const { manager, adapter, dexieTransactions } = await setup()
        await manager.collection('note').createObject({ id: 'x', title: 'match' })
        let runs = 0
        await adapter.atomic(['note'], async ops => {
            runs++
            await ops.createObject('note', { id: 'first', title: 'written before the fallback' })
            const found = await ops.findObjects('note', { title: 'match' })
            await ops.updateObjects('note', { id: found[0].id }, { title: 'updated' })
        })
        expect(runs).toBe(2)
        expect(dexieTransactions()).toBe(1)
        expect(await notes(manager)).toEqual([
            expect.objectContaining({ id: 'first', title: 'written before the fallback' }),
            expect.objectContaining({ id: 'x', title: 'updated' }),
        ])
    })

    it('leaves a table with Dexie hooks to Dexie, so the hooks run', async () => {
        const { manager, adapter, dexieTransactions } = await setup()
        const created: unknown[] = []
        ;(manager.backend as unknown as DexieInternals).dexie.table('note').hook('creating', (_key: unknown, object: unknown) => void created.push(object))
        await adapter.atomic(['note'], ops => ops.createObject('note', { id: 'hooked', title: 'h' }))
        expect(dexieTransactions()).toBe(1)
        expect(created).toEqual([expect.objectContaining({ id: 'hooked' })])
    })

    it("joins an app's running Dexie transaction instead of waiting for it", async () => {
        const { manager, adapter } = await setup()
        const dexie = (manager.backend as unknown as DexieInternals).dexie
        const outer = dexie.transaction('rw', [dexie.table('note')], async () => {
            await dexie.table('note').put({ id: 'outer', title: 'o' })
            await adapter.atomic(['note'], ops => ops.createObject('note', { id: 'inner', title: 'i' }))
            throw new Error('outer fails')
        })
        await expect(outer).rejects.toThrow('outer fails')
        expect(await notes(manager)).toEqual([])
    })
})
