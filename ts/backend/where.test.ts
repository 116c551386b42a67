import { UnsafeWhereError } from '../errors'
import { assertPrimitiveWhere } from './where'

describe('assertPrimitiveWhere', () => {
    it.each([
        ['an empty where', {}],
        ['primitive equality', { title: 'a', rank: 0, done: false }],
        ['comparison operators', { rank: { $gt: 1, $lte: 5 }, title: { $ne: 'x' }, body: { $eq: '' } }],
        ['$in and $nin with primitives', { id: { $in: ['a', 'b', 3] }, title: { $nin: [] } }],
        ['$exists', { body: { $exists: false } }],
    ])('accepts %s', (_name, where) => {
        expect(() => assertPrimitiveWhere('note', where)).not.toThrow()
    })

    it.each([
        ['an array value (matches every row on Dexie)', { tags: ['x'] }],
        ['a Date value (matches every row on Dexie)', { at: new Date(0) }],
        ['a plain object value', { title: { nested: 'x' } }],
        ['an empty object value', { title: {} }],
        ['an unknown operator', { title: { $regex: 'a' } }],
        ['a known and an unknown operator', { rank: { $gt: 1, $mod: [2, 0] } }],
        ['null (throws on Dexie)', { body: null }],
        ['undefined', { body: undefined }],
        ['$or', { $or: [{ title: 'a' }, { title: 'b' }] }],
        ['$and', { $and: [{ title: 'a' }] }],
        ['$in with an array operand', { id: { $in: [['a', 'b']] } }],
        ['$in with a null operand', { id: { $in: ['a', null] } }],
        ['$in without an array', { id: { $in: 'a' } }],
        ['$gt with a Date', { at: { $gt: new Date(0) } }],
        ['$eq with null', { body: { $eq: null } }],
    ])('refuses %s with UNSAFE_WHERE', (_name, where) => {
        let error: unknown
        try {
            assertPrimitiveWhere('note', where as Record<string, unknown>)
        } catch (caught) {
            error = caught
        }
        expect(error).toBeInstanceOf(UnsafeWhereError)
        expect(error).toMatchObject({ code: 'UNSAFE_WHERE', collection: 'note' })
        expect((error as Error).message).toContain("'note'")
    })
})
