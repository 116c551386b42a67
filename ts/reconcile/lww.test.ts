import type { PrimaryKey, SyncLogEntry } from '../entries/types'
import { objectStateFromEntries, reconcileLww, PrimaryKeyShapeError } from './index'

function entry(fields: Partial<SyncLogEntry> & Pick<SyncLogEntry, 'operation' | 'version'>): SyncLogEntry {
    return {
        collection: 'note',
        pk: 'n1',
        field: null,
        value: null,
        deviceId: 'a',
        schemaVersion: 1,
        ...fields,
    }
}
const create = (version: number, value: Record<string, unknown>, more: Partial<SyncLogEntry> = {}) =>
    entry({ operation: 'create', version, value, ...more })
const modify = (version: number, field: string, value: unknown, more: Partial<SyncLogEntry> = {}) =>
    entry({ operation: 'modify', version, field, value, ...more })
const remove = (version: number, more: Partial<SyncLogEntry> = {}) => entry({ operation: 'delete', version, ...more })

const pkFields = (collection: string) => (collection === 'tag' ? ['noteId', 'name'] : ['id'])
const reconcile = (known: SyncLogEntry[], incoming: SyncLogEntry[]) => reconcileLww({ known, incoming, pkFields })

describe('objectStateFromEntries', () => {
    it('is absent without entries or without a lifecycle entry', () => {
        expect(objectStateFromEntries([])).toEqual({ exists: false })
        expect(objectStateFromEntries([modify(5, 'title', 'x')])).toEqual({ exists: false })
    })

    it('applies field modifies newer than the create, last write wins per field', () => {
        const state = objectStateFromEntries([
            create(1, { title: 'a', body: 'b' }),
            modify(3, 'title', 'late', { deviceId: 'b' }),
            modify(2, 'title', 'early'),
            modify(2, 'body', 'other'),
        ])
        expect(state).toEqual({ exists: true, fields: { title: 'late', body: 'other' } })
    })

    it('breaks equal versions by device id', () => {
        const entries = [create(1, { title: 'a' }), modify(5, 'title', 'from-b', { deviceId: 'b' }), modify(5, 'title', 'from-a', { deviceId: 'a' })]
        expect(objectStateFromEntries(entries)).toEqual({ exists: true, fields: { title: 'from-b' } })
        expect(objectStateFromEntries([...entries].reverse())).toEqual({ exists: true, fields: { title: 'from-b' } })
    })

    it('drops modifies older than the create', () => {
        expect(objectStateFromEntries([modify(1, 'title', 'old'), create(2, { title: 'new' })])).toEqual({
            exists: true,
            fields: { title: 'new' },
        })
    })

    it('a modify newer than a delete does not revive the object', () => {
        expect(objectStateFromEntries([create(1, { title: 'a' }), remove(3), modify(4, 'title', 'x', { deviceId: 'b' })])).toEqual({
            exists: false,
        })
    })

    it('a later create revives with only its own values and later modifies', () => {
        const state = objectStateFromEntries([
            create(1, { title: 'a', body: 'b' }),
            modify(2, 'body', 'old life'),
            remove(3),
            create(4, { title: 'again' }),
            modify(5, 'tag', 't'),
        ])
        expect(state).toEqual({ exists: true, fields: { title: 'again', tag: 't' } })
    })

    it('ignores duplicates', () => {
        const entries = [create(1, { title: 'a' }), modify(2, 'title', 'b')]
        expect(objectStateFromEntries([...entries, ...entries, entries[1]])).toEqual(objectStateFromEntries(entries))
    })
})

describe('reconcileLww', () => {
    it('creates an object that arrives with its create', () => {
        const result = reconcile([], [create(1, { title: 'a' }), modify(2, 'title', 'b')])
        expect(result.batch).toEqual([{ operation: 'createObject', collection: 'note', args: { id: 'n1', title: 'b' } }])
        expect(result.newEntries).toHaveLength(2)
    })

    it('updates only the changed fields of an existing object in one operation', () => {
        const known = [create(1, { title: 'a', body: 'b' })]
        const result = reconcile(known, [modify(2, 'title', 'x', { deviceId: 'b' }), modify(3, 'body', 'b', { deviceId: 'b' }), modify(4, 'pinned', true)])
        expect(result.batch).toEqual([{ operation: 'updateObjects', collection: 'note', where: { id: 'n1' }, updates: { title: 'x', pinned: true } }])
    })

    it('concurrent edits of the same field: the newer wins whichever side holds it', () => {
        const base = create(1, { title: 'a' })
        const mine = modify(5, 'title', 'mine', { deviceId: 'a' })
        const theirs = modify(6, 'title', 'theirs', { deviceId: 'b' })
        expect(reconcile([base, mine], [theirs]).batch).toEqual([
            { operation: 'updateObjects', collection: 'note', where: { id: 'n1' }, updates: { title: 'theirs' } },
        ])
        expect(reconcile([base, theirs], [mine]).batch).toEqual([])
    })

    it('concurrent edits of different fields are both kept', () => {
        const base = create(1, { title: 'a', body: 'b' })
        const result = reconcile([base, modify(5, 'title', 'T')], [modify(5, 'body', 'B', { deviceId: 'b' })])
        expect(result.batch).toEqual([{ operation: 'updateObjects', collection: 'note', where: { id: 'n1' }, updates: { body: 'B' } }])
    })

    it('equal versions are tie-broken by device id', () => {
        const base = create(1, { title: 'a' })
        const fromA = modify(5, 'title', 'A', { deviceId: 'a' })
        const fromB = modify(5, 'title', 'B', { deviceId: 'b' })
        expect(reconcile([base, fromA], [fromB]).batch).toEqual([
            { operation: 'updateObjects', collection: 'note', where: { id: 'n1' }, updates: { title: 'B' } },
        ])
        expect(reconcile([base, fromB], [fromA]).batch).toEqual([])
    })

    it('delete vs a concurrent older update: deleted either way', () => {
        const base = create(1, { title: 'a' })
        const update = modify(2, 'title', 'x', { deviceId: 'b' })
        const deletion = remove(3)
        expect(reconcile([base, update], [deletion]).batch).toEqual([{ operation: 'deleteObjects', collection: 'note', where: { id: 'n1' } }])
        expect(reconcile([base, deletion], [update]).batch).toEqual([])
    })

    it('delete vs a concurrent newer update: the update does not revive', () => {
        const base = create(1, { title: 'a' })
        const update = modify(4, 'title', 'x', { deviceId: 'b' })
        const deletion = remove(3)
        expect(reconcile([base, update], [deletion]).batch).toEqual([{ operation: 'deleteObjects', collection: 'note', where: { id: 'n1' } }])
        expect(reconcile([base, deletion], [update]).batch).toEqual([])
    })

    it('delete then re-create updates changed fields and nulls fields the new life lacks', () => {
        const known = [create(1, { title: 'a', body: 'b' })]
        const result = reconcile(known, [remove(2, { deviceId: 'b' }), create(3, { title: 'a', tag: 't' }, { deviceId: 'b' })])
        expect(result.batch).toEqual([
            { operation: 'updateObjects', collection: 'note', where: { id: 'n1' }, updates: { body: null, tag: 't' } },
        ])
    })

    it('re-create over a deleted object creates it again', () => {
        const known = [create(1, { title: 'a' }), remove(2)]
        expect(reconcile(known, [create(3, { title: 'b' }, { deviceId: 'b' })]).batch).toEqual([
            { operation: 'createObject', collection: 'note', args: { id: 'n1', title: 'b' } },
        ])
    })

    it('modifies arriving before their create: nothing, then the merged object', () => {
        const early = modify(2, 'title', 'x', { deviceId: 'b' })
        const first = reconcile([], [early])
        expect(first.batch).toEqual([])
        expect(first.newEntries).toEqual([early])
        const second = reconcile([early], [create(1, { title: 'a', body: 'b' })])
        expect(second.batch).toEqual([{ operation: 'createObject', collection: 'note', args: { id: 'n1', title: 'x', body: 'b' } }])
    })

    it('deduplicates incoming against known and against itself, keeping first occurrence order', () => {
        const c = create(1, { title: 'a' })
        const m1 = modify(2, 'title', 'b')
        const m2 = modify(3, 'body', 'c')
        const result = reconcile([c], [m2, c, m1, m2, m1])
        expect(result.newEntries).toEqual([m2, m1])
        expect(result.batch).toEqual([{ operation: 'updateObjects', collection: 'note', where: { id: 'n1' }, updates: { title: 'b', body: 'c' } }])
    })

    it('is idempotent: the same incoming again gives an empty batch', () => {
        const incoming = [create(1, { title: 'a' }), modify(2, 'title', 'b'), remove(3, { pk: 'n2' })]
        const first = reconcile([create(0, { x: 1 }, { pk: 'n2' })], incoming)
        expect(first.batch).toHaveLength(2)
        const second = reconcile([create(0, { x: 1 }, { pk: 'n2' }), ...first.newEntries], incoming)
        expect(second).toEqual({ batch: [], newEntries: [] })
    })

    it('treats values as changed by deep JSON equality', () => {
        const known = [create(1, { meta: { a: 1, b: [1, 2] } })]
        expect(reconcile(known, [modify(2, 'meta', { b: [1, 2], a: 1 })]).batch).toEqual([])
        expect(reconcile(known, [modify(2, 'meta', { a: 1, b: [2, 1] })]).batch).toEqual([
            { operation: 'updateObjects', collection: 'note', where: { id: 'n1' }, updates: { meta: { a: 1, b: [2, 1] } } },
        ])
    })

    it('zips compound primary keys into where and args', () => {
        const pk: PrimaryKey = ['n1', 'work']
        const result = reconcile([], [create(1, { color: 'red' }, { collection: 'tag', pk })])
        expect(result.batch).toEqual([{ operation: 'createObject', collection: 'tag', args: { noteId: 'n1', name: 'work', color: 'red' } }])
        const deletion = reconcile([create(1, { color: 'red' }, { collection: 'tag', pk })], [remove(2, { collection: 'tag', pk })])
        expect(deletion.batch).toEqual([{ operation: 'deleteObjects', collection: 'tag', where: { noteId: 'n1', name: 'work' } }])
    })

    it('refuses a primary key that does not fit the pk fields', () => {
        expect(() => reconcile([], [create(1, {}, { collection: 'tag', pk: 'n1' })])).toThrow(PrimaryKeyShapeError)
    })

    it('emits one operation per touched object and leaves untouched objects alone', () => {
        const known = [create(1, { title: 'a' }), create(1, { title: 'z' }, { pk: 'other' })]
        const result = reconcile(known, [modify(2, 'title', 'b'), modify(3, 'title', 'c'), create(4, { title: 'n' }, { pk: 'n3' })])
        expect(result.batch).toEqual([
            { operation: 'updateObjects', collection: 'note', where: { id: 'n1' }, updates: { title: 'c' } },
            { operation: 'createObject', collection: 'note', args: { id: 'n3', title: 'n' } },
        ])
    })

    it('an edited datetime is written (issue 14: two Dates used to compare equal)', () => {
        const result = reconcile([create(1, { createdWhen: new Date('2026-01-02T03:04:05Z') })], [modify(2, 'createdWhen', new Date('2026-06-06T07:08:09Z'))])
        expect(result.batch).toEqual([{ operation: 'updateObjects', collection: 'note', where: { id: 'n1' }, updates: { createdWhen: new Date('2026-06-06T07:08:09Z') } }])
        expect((result.batch[0] as { updates: { createdWhen: unknown } }).updates.createdWhen).toBeInstanceOf(Date)
        const nested = reconcile([create(1, { meta: { at: new Date(1) } })], [modify(2, 'meta', { at: new Date(2) })])
        expect(nested.batch).toHaveLength(1)
    })

    it('a change of type or sign is a change; an equal value is not', () => {
        expect(reconcile([create(1, { f: 0 })], [modify(2, 'f', -0)]).batch).toHaveLength(1)
        expect(reconcile([create(1, { d: '2026-01-01T00:00:00.000Z' })], [modify(2, 'd', new Date('2026-01-01T00:00:00.000Z'))]).batch).toHaveLength(1)
        expect(reconcile([create(1, { d: new Date(5), b: new Uint8Array([1]) })], [modify(2, 'd', new Date(5)), modify(2, 'b', new Uint8Array([1]))]).batch).toEqual([])
    })
})
