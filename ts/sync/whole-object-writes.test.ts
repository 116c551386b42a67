import type { OperationBatch } from '@worldbrain/storex'
import { IDBObjectStore as FakeObjectStore } from 'fake-indexeddb'
import type { SyncLogEntry } from '../entries/types'
import { entryObjectKey } from '../entries/keys'
import { reconcileLww } from '../reconcile/lww'
import type { Reconciler } from '../reconcile/types'
import { MemorySharedSyncLog } from '../shared-log/memory'
import { createDevice, dump } from '../integration/devices'
import { updatesAsPuts } from './whole-object-writes'

function entry(overrides: Partial<SyncLogEntry> & Pick<SyncLogEntry, 'version'>): SyncLogEntry {
    return { collection: 'note', pk: 'n1', operation: 'modify', field: 'title', value: `v${overrides.version}`, deviceId: 'a', schemaVersion: 1, ...overrides }
}

const pkFields = (collection: string) => (collection === 'setting' ? ['scope', 'key'] : ['id'])

function asPuts(batch: OperationBatch, known: SyncLogEntry[]): OperationBatch {
    return updatesAsPuts({ batch, known, objectKeyOf: entryObjectKey, pkFields })
}

describe('updatesAsPuts', () => {
    it("writes an object whose create the device holds whole: its known state with the reconciler's updates", () => {
        const known = [entry({ version: 1, operation: 'create', field: null, value: { title: 'a', body: 'b', rank: 2 } }), entry({ version: 2, field: 'rank', value: 3 })]
        const update = { operation: 'updateObjects' as const, collection: 'note', where: { id: 'n1' }, updates: { title: 'c', body: null } }
        expect(asPuts([update], known)).toEqual([{ operation: 'createObject', collection: 'note', args: { id: 'n1', title: 'c', body: null, rank: 3 } }])
    })

    it('keeps the update of an object the device holds no live lifecycle entry for (made before sync, or deleted)', () => {
        const update = { operation: 'updateObjects' as const, collection: 'note', where: { id: 'n1' }, updates: { title: 'c' } }
        expect(asPuts([update], [entry({ version: 2, field: 'rank', value: 3 })])).toEqual([update])
        const deleted = [entry({ version: 1, operation: 'create', field: null, value: { title: 'a' } }), entry({ version: 2, operation: 'delete', field: null, value: null })]
        expect(asPuts([update], deleted)).toEqual([update])
        expect(asPuts([update], [])).toEqual([update])
    })

    it('finds compound keys, and leaves creates and deletes as they are', () => {
        const known = [entry({ version: 1, collection: 'setting', pk: ['ui', 'theme'], operation: 'create', field: null, value: { value: 'dark' } })]
        const batch: OperationBatch = [
            { operation: 'updateObjects', collection: 'setting', where: { scope: 'ui', key: 'theme' }, updates: { value: 'light' } },
            { operation: 'createObject', collection: 'note', args: { id: 'n2', title: 'new' } },
            { operation: 'deleteObjects', collection: 'note', where: { id: 'n3' } },
        ]
        expect(asPuts(batch, known)).toEqual([{ operation: 'createObject', collection: 'setting', args: { scope: 'ui', key: 'theme', value: 'light' } }, batch[1], batch[2]])
    })
})

describe('applying edits of objects the device holds', () => {
    /** Counts IndexedDB reads of one store by key (fake-indexeddb's `get`). */
    function countGets(store: string): { count(): number; restore(): void } {
        const spy = jest.spyOn(FakeObjectStore.prototype, 'get')
        return {
            count: () => spy.mock.contexts.filter(context => (context as IDBObjectStore).name === store).length,
            restore: () => spy.mockRestore(),
        }
    }

    async function editAndSync(reconciler?: Reconciler): Promise<{ noteGets: number; same: boolean; b: unknown[] }> {
        const sharedLog = new MemorySharedSyncLog()
        const a = await createDevice({ sharedLog, ...(reconciler ? { reconciler } : {}) })
        const b = await createDevice({ sharedLog, ...(reconciler ? { reconciler } : {}) })
        for (const id of ['n1', 'n2', 'n3']) {
            await a.storageManager.collection('note').createObject({ id, title: `title ${id}`, body: 'body', rank: 1, tags: ['x'] })
        }
        await a.storageManager.collection('setting').createObject({ scope: 'ui', key: 'theme', value: { dark: true } })
        await a.syncNow()
        await b.syncNow()
        await a.storageManager.operation('updateObject', 'note', { id: 'n1' }, { title: 'edited', body: null })
        await a.storageManager.operation('updateObjects', 'note', { rank: 1 }, { tags: ['y', 'z'] })
        await a.storageManager.operation('updateObject', 'setting', { scope: 'ui', key: 'theme' }, { value: { dark: false } })
        await a.syncNow()
        const gets = countGets('note')
        try {
            await b.syncNow()
            const same = JSON.stringify([await dump(a, 'note'), await dump(a, 'setting')]) === JSON.stringify([await dump(b, 'note'), await dump(b, 'setting')])
            return { noteGets: gets.count(), same, b: await dump(b, 'note') }
        } finally {
            gets.restore()
        }
    }

    it('with the default reconciler: writes them whole, reading none of them, to the same result', async () => {
        const result = await editAndSync()
        expect(result.noteGets).toBe(0)
        expect(result.same).toBe(true)
        // In `dump`'s order (by canonical JSON); the unset body is left out.
        expect(result.b).toEqual([
            { id: 'n2', title: 'title n2', body: 'body', rank: 1, tags: ['y', 'z'] },
            { id: 'n3', title: 'title n3', body: 'body', rank: 1, tags: ['y', 'z'] },
            { id: 'n1', title: 'edited', rank: 1, tags: ['y', 'z'] },
        ])
    })

    it('with a custom reconciler: applies its updates as given, reading the objects', async () => {
        const custom: Reconciler = input => reconcileLww(input)
        const result = await editAndSync(custom)
        expect(result.noteGets).toBeGreaterThan(0)
        expect(result.same).toBe(true)
    })
})
