import { UnloggableOperationError } from '../errors'
import { computeUpdates, parseUpdates } from './update-operators'

const apply = (updates: Record<string, unknown>, current: Record<string, unknown>) => computeUpdates(parseUpdates('note', updates), current)

describe('update operators', () => {
    it('treats plain updates as plain values, the same for every object', () => {
        const parsed = parseUpdates('note', { title: 'a', body: undefined, tags: ['x'] })
        expect(parsed.plain).toBe(true)
        expect(computeUpdates(parsed, {})).toEqual({ title: 'a', body: null, tags: ['x'] })
        expect(computeUpdates(parsed, { title: 'old' })).toEqual({ title: 'a', body: null, tags: ['x'] })
    })

    it('resolves $inc, $mul, $set and $unset to the resulting values', () => {
        const parsed = parseUpdates('note', { $inc: { rank: 2 }, $mul: { score: 3 }, $set: { title: 'set' }, $unset: { body: '' }, done: true })
        expect(parsed.plain).toBe(false)
        expect([...parsed.fields.keys()].sort()).toEqual(['body', 'done', 'rank', 'score', 'title'])
        expect(computeUpdates(parsed, { rank: 5, score: 1.5, title: 'old', body: 'old' })).toEqual({ rank: 7, score: 4.5, title: 'set', body: null, done: true })
    })

    it('counts a missing or null number as 0, never NaN', () => {
        expect(apply({ $inc: { rank: 3 } }, {})).toEqual({ rank: 3 })
        expect(apply({ $inc: { rank: 3 } }, { rank: null })).toEqual({ rank: 3 })
        expect(apply({ $mul: { rank: 3 } }, { rank: null })).toEqual({ rank: 0 })
        expect(apply({ $inc: { rank: -1.5 } }, { rank: 1 })).toEqual({ rank: -0.5 })
    })

    it('computes per object', () => {
        const parsed = parseUpdates('note', { $inc: { rank: 1 } })
        expect([1, 10, 100].map(rank => computeUpdates(parsed, { rank }).rank)).toEqual([2, 11, 101])
    })

    it.each([
        ['an unsupported operator', { $push: { tags: 'x' } }, {}],
        ['$rename', { $rename: { a: 'b' } }, {}],
        ['$inc by a non-number', { $inc: { rank: '1' } }, {}],
        ['$inc by NaN', { $inc: { rank: NaN } }, {}],
        ['$mul by Infinity', { $mul: { rank: Infinity } }, {}],
        ['an operator without a field object', { $set: 'x' }, {}],
        ['an operator with an array', { $set: ['x'] }, {}],
        ['$inc on a non-number field', { $inc: { title: 1 } }, { title: 'text' }],
    ])('refuses %s with UnloggableOperationError', (_name, updates, current) => {
        const run = () => apply(updates as Record<string, unknown>, current)
        expect(run).toThrow(UnloggableOperationError)
        try {
            run()
        } catch (error) {
            expect(error).toMatchObject({ code: 'UNLOGGABLE_OPERATION', collection: 'note' })
        }
    })
})
