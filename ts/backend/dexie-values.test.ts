import { collectionNeedsCleaning, nextDoubleUp } from './dexie-values'

describe('nextDoubleUp', () => {
    it('is the smallest double above the value: nothing lies between them', () => {
        for (const value of [0, 1, 0.5, 1e12 + 5, Date.UTC(2026, 11, 1), -1, -Number.MIN_VALUE, Number.MAX_SAFE_INTEGER]) {
            const next = nextDoubleUp(value)
            expect(next).toBeGreaterThan(value)
            const middle = value / 2 + next / 2
            expect(middle === value || middle === next).toBe(true)
        }
        expect(nextDoubleUp(0)).toBe(Number.MIN_VALUE)
        expect(nextDoubleUp(Infinity)).toBe(Infinity)
        expect(nextDoubleUp(NaN)).toBeNaN()
    })
})

describe('collectionNeedsCleaning', () => {
    it('is true only where the Dexie backend cleaners change objects', () => {
        const plain = { fields: { title: { type: 'string' } }, relationships: [] }
        expect(collectionNeedsCleaning(plain as never)).toBe(false)
        expect(collectionNeedsCleaning(undefined)).toBe(true)
        expect(collectionNeedsCleaning({ fields: { at: { type: 'timestamp', fieldObject: {} } } } as never)).toBe(true)
        expect(collectionNeedsCleaning({ fields: { text: { type: 'text', _index: 0 } } } as never)).toBe(true)
        expect(collectionNeedsCleaning({ fields: {}, relationships: [{ childOf: 'user', alias: 'user', fieldName: 'userId' }] } as never)).toBe(true)
        expect(collectionNeedsCleaning({ fields: {}, relationships: [{ childOf: 'user', alias: 'user', fieldName: 'user' }] } as never)).toBe(false)
    })
})
