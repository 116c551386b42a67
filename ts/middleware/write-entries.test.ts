import { WriteEntries } from './write-entries'
import type { SyncLogEntry } from '../entries/types'

const base = { collection: 'note', pk: 'n1', version: 5, deviceId: 'd', schemaVersion: 1 }
const create = (value: object): SyncLogEntry => ({ ...base, operation: 'create', field: null, value })
const modify = (field: string, value: unknown): SyncLogEntry => ({ ...base, operation: 'modify', field, value })
const remove = (): SyncLogEntry => ({ ...base, operation: 'delete', field: null, value: null })

describe('WriteEntries', () => {
    it('folds a modify of an object created in the same write into the create', () => {
        const entries = new WriteEntries()
        entries.add(create({ title: 'a' }))
        entries.add(modify('title', 'b'))
        entries.add(modify('rank', 2))
        expect(entries.list()).toEqual([create({ title: 'b', rank: 2 })])
    })

    it('keeps the last modify of a field', () => {
        const entries = new WriteEntries()
        entries.add(modify('title', 'a'))
        entries.add(modify('title', 'b'))
        expect(entries.list()).toEqual([modify('title', 'b')])
    })

    it('lets a re-create in the same write replace the delete and the modifies before it', () => {
        const entries = new WriteEntries()
        entries.add(modify('title', 'x'))
        entries.add(remove())
        entries.add(create({ title: 'new' }))
        expect(entries.list()).toEqual([create({ title: 'new' })])
    })

    it('lets a delete replace a create made in the same write', () => {
        const entries = new WriteEntries()
        entries.add(create({ title: 'a' }))
        entries.add(remove())
        expect(entries.list()).toEqual([remove()])
    })

    it('keeps entries of other objects apart', () => {
        const entries = new WriteEntries()
        entries.add(create({ title: 'a' }))
        entries.add({ ...modify('title', 'b'), pk: 'n2' })
        expect(entries.list()).toHaveLength(2)
    })
})
