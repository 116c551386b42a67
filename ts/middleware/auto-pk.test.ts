import type { OperationBatch } from '@worldbrain/storex'
import type { StorageMiddlewareContext } from '@worldbrain/storex/lib/types/middleware'
import { createDexieStorageManager, createDevice } from '../integration/devices'
import { MemorySharedSyncLog } from '../shared-log/memory'
import { SyncConfigurationError } from '../errors'
import { CustomAutoPkMiddleware } from './auto-pk'

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

/** A middleware set up on the test schema, and a way to see what it hands on. */
function setup(options: { generateId?: () => string; collections?: string[] } = {}) {
    const manager = createDexieStorageManager()
    const middleware = new CustomAutoPkMiddleware({ collections: options.collections ?? ['note', 'user', 'email', 'setting'], generateId: options.generateId })
    middleware.setup({ registry: manager.registry })
    const process = (...operation: unknown[]) => {
        let passed: unknown[] = []
        const context = { operation, next: { process: ({ operation: next }: { operation: unknown[] }) => ((passed = next), Promise.resolve(next)) } }
        void middleware.process(context as unknown as StorageMiddlewareContext)
        return passed
    }
    return { manager, middleware, process }
}

function counter(prefix: string): () => string {
    let next = 0
    return () => `${prefix}-${++next}`
}

describe('CustomAutoPkMiddleware', () => {
    it('turns auto-pk fields of its collections into string keys, leaving compound keys and other collections alone', () => {
        const { manager } = setup({ collections: ['note', 'setting'] })
        const { collections } = manager.registry
        expect(collections.note.fields.id.type).toBe('string')
        expect(collections.setting.pkIndex).toEqual(['scope', 'key'])
        expect(collections.localCache.fields.id.type).toBe('auto-pk')
        expect(collections.user.fields.id.type).toBe('auto-pk')
    })

    it('turns the key into a string key in every registered version of a collection', () => {
        const manager = createDexieStorageManager()
        manager.registry.registerCollection('journal', [
            { version: new Date('2026-02-01'), fields: { text: { type: 'string' } } },
            { version: new Date('2026-03-01'), fields: { text: { type: 'string' }, mood: { type: 'string', optional: true } } },
        ])
        new CustomAutoPkMiddleware({ collections: ['journal'] }).setup({ registry: manager.registry })
        const idTypes = manager.registry
            .getSchemaHistory()
            .filter(entry => entry.collections.journal)
            .map(entry => entry.collections.journal.fields.id.type)
        expect(idTypes).toEqual(['string', 'string'])
    })

    it('can be set up twice on one registry', () => {
        const { manager, middleware } = setup()
        middleware.setup({ registry: manager.registry })
        expect(manager.registry.collections.note.fields.id.type).toBe('string')
    })

    it('refuses an unknown collection', () => {
        const manager = createDexieStorageManager()
        const middleware = new CustomAutoPkMiddleware({ collections: ['nope'] })
        expect(() => middleware.setup({ registry: manager.registry })).toThrow(SyncConfigurationError)
    })

    it('gives createObject a generated key and keeps an explicit one', () => {
        const { process } = setup({ generateId: counter('k') })
        expect(process('createObject', 'note', { title: 'a' })).toEqual(['createObject', 'note', { title: 'a', id: 'k-1' }])
        expect(process('createObject', 'note', { id: 'mine', title: 'b' })).toEqual(['createObject', 'note', { id: 'mine', title: 'b' }])
        expect(process('createObject', 'note', { id: null, title: 'c' })).toEqual(['createObject', 'note', { id: 'k-2', title: 'c' }])
        expect(process('createObject', 'localCache', { text: 'd' })).toEqual(['createObject', 'localCache', { text: 'd' }])
        expect(process('createObject', 'setting', { scope: 's', key: 'k' })).toEqual(['createObject', 'setting', { scope: 's', key: 'k' }])
    })

    it('does not change the caller\'s object', () => {
        const { process } = setup({ generateId: counter('k') })
        const object = { title: 'a' }
        process('createObject', 'note', object)
        expect(object).toEqual({ title: 'a' })
    })

    it('gives nested children keys once the registry knows its relationships', async () => {
        const { manager, process } = setup({ generateId: counter('k') })
        await manager.finishInitialization()
        expect(process('createObject', 'user', { name: 'joe', emails: [{ address: 'a' }, { id: 'given', address: 'b' }] })).toEqual([
            'createObject',
            'user',
            { id: 'k-1', name: 'joe', emails: [{ id: 'k-2', address: 'a' }, { id: 'given', address: 'b' }] },
        ])
    })

    it('gives batch creates keys and leaves other steps and operations alone', () => {
        const { process } = setup({ generateId: counter('k') })
        const batch: OperationBatch = [
            { placeholder: 'u', operation: 'createObject', collection: 'user', args: { name: 'joe' } },
            { operation: 'createObject', collection: 'email', args: { address: 'a' }, replace: [{ path: 'user', placeholder: 'u' }] },
            { operation: 'updateObjects', collection: 'note', where: { id: 'x' }, updates: { title: 'y' } },
        ]
        const [, processed] = process('executeBatch', batch) as [string, OperationBatch]
        expect(processed.map(step => (step.operation === 'createObject' ? step.args : step.operation))).toEqual([
            { id: 'k-1', name: 'joe' },
            { id: 'k-2', address: 'a' },
            'updateObjects',
        ])
        expect(processed[1]).toMatchObject({ replace: [{ path: 'user', placeholder: 'u' }] })
        expect(process('findObjects', 'note', { title: 'a' })).toEqual(['findObjects', 'note', { title: 'a' }])
        expect(process('updateObjects', 'note', { id: 'a' }, { title: 'b' })).toEqual(['updateObjects', 'note', { id: 'a' }, { title: 'b' }])
    })

    it('keys resolve through placeholders in a real batch', async () => {
        const manager = createDexieStorageManager()
        const middleware = new CustomAutoPkMiddleware({ collections: ['user', 'email'], generateId: counter('k') })
        middleware.setup({ registry: manager.registry })
        await manager.finishInitialization()
        manager.setMiddleware([middleware])
        const result = await manager.operation('executeBatch', [
            { placeholder: 'u', operation: 'createObject', collection: 'user', args: { name: 'joe' } },
            { placeholder: 'e', operation: 'createObject', collection: 'email', args: { address: 'a' }, replace: [{ path: 'user', placeholder: 'u' }] },
        ])
        expect(result.info.e.object).toMatchObject({ id: 'k-2', user: 'k-1' })
        expect(await manager.collection('email').findObjects({})).toEqual([{ id: 'k-2', address: 'a', user: 'k-1' }])
    })

    it('never repeats a key across two devices over 100k keys each (default UUID v4 generator)', () => {
        const seen = new Set<string>()
        for (const device of [setup(), setup()]) {
            for (let index = 0; index < 100_000; index++) {
                const [, , object] = device.process('createObject', 'note', { title: 't' }) as [string, string, { id: string }]
                seen.add(object.id)
            }
        }
        expect(seen.size).toBe(200_000)
        for (const id of Array.from(seen).slice(0, 1000)) {
            expect(id).toMatch(UUID_V4)
        }
    })

    it('never repeats a key across two real devices writing offline', async () => {
        const devices = [
            await createDevice({ sharedLog: new MemorySharedSyncLog() }),
            await createDevice({ sharedLog: new MemorySharedSyncLog() }),
        ]
        const keys: string[] = []
        for (const device of devices) {
            for (let round = 0; round < 10; round++) {
                await Promise.all(Array.from({ length: 100 }, (_, index) => device.storageManager.collection('note').createObject({ title: `${round}-${index}` })))
            }
            const ids = (await device.storageManager.collection('note').findObjects<{ id: string }>({})).map(object => object.id)
            expect(ids).toHaveLength(1000)
            keys.push(...ids)
            expect(await device.clientLog.countEntries()).toBe(1000)
        }
        expect(new Set(keys).size).toBe(2000)
        expect(keys.every(key => UUID_V4.test(key))).toBe(true)
    })
})

