import { valuesEqual } from './values-equal'

describe('valuesEqual', () => {
    it('compares Dates by time (two different Dates are not equal; the bug of issue 14)', () => {
        expect(valuesEqual(new Date('2026-01-02T03:04:05Z'), new Date('2026-06-06T07:08:09Z'))).toBe(false)
        expect(valuesEqual(new Date(5), new Date(5))).toBe(true)
        expect(valuesEqual({ at: new Date(1) }, { at: new Date(2) })).toBe(false)
        expect(valuesEqual([new Date(1)], [new Date(1)])).toBe(true)
    })

    it('never equates a value with another type that JSON would print the same', () => {
        expect(valuesEqual(new Date(0), '1970-01-01T00:00:00.000Z')).toBe(false)
        expect(valuesEqual(new Date(0), 0)).toBe(false)
        expect(valuesEqual(new Date(0), {})).toBe(false)
        expect(valuesEqual(new Uint8Array([1]), { 0: 1 })).toBe(false)
        expect(valuesEqual(new Uint8Array([1]), [1])).toBe(false)
        expect(valuesEqual([], {})).toBe(false)
        expect(valuesEqual('1', 1)).toBe(false)
        expect(valuesEqual(null, undefined)).toBe(false)
        expect(valuesEqual(0, false)).toBe(false)
        expect(valuesEqual(null, {})).toBe(false)
    })

    it('tells -0 from 0, as the encoding carries them', () => {
        expect(valuesEqual(-0, 0)).toBe(false)
        expect(valuesEqual({ f: -0 }, { f: 0 })).toBe(false)
        expect(valuesEqual(-0, -0)).toBe(true)
        expect(valuesEqual(NaN, NaN)).toBe(true)
    })

    it('compares Uint8Arrays byte by byte', () => {
        expect(valuesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true)
        expect(valuesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false)
        expect(valuesEqual(new Uint8Array([1]), new Uint8Array([1, 0]))).toBe(false)
    })

    it('compares arrays by position and objects by defined keys in any order', () => {
        expect(valuesEqual([1, [2, { a: 'x' }]], [1, [2, { a: 'x' }]])).toBe(true)
        expect(valuesEqual([1, 2], [2, 1])).toBe(false)
        expect(valuesEqual([1], [1, 1])).toBe(false)
        expect(valuesEqual({ a: 1, b: { c: [true] } }, { b: { c: [true] }, a: 1 })).toBe(true)
        expect(valuesEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true)
        expect(valuesEqual({ a: 1 }, { a: 1, b: null })).toBe(false)
        expect(valuesEqual({ a: undefined }, { b: undefined })).toBe(true)
        expect(valuesEqual({ a: 1 }, { b: 1 })).toBe(false)
    })

    it('compares strings exactly, lone surrogates and NUL included', () => {
        expect(valuesEqual('k\ud800', 'k\ud800')).toBe(true)
        expect(valuesEqual('k\ud800', 'k\ufffd')).toBe(false)
        expect(valuesEqual('a\u0000', 'a')).toBe(false)
    })

    it('handles objects from another realm (Dexie in Node returns them)', () => {
        const vm = require('vm') as typeof import('vm')
        const foreign = vm.runInNewContext('({ at: new Date(5), list: [1, { x: 2 }], bytes: new Uint8Array([1]) })')
        expect(valuesEqual(foreign, { at: new Date(5), list: [1, { x: 2 }], bytes: new Uint8Array([1]) })).toBe(true)
        expect(valuesEqual(foreign, { at: new Date(6), list: [1, { x: 2 }], bytes: new Uint8Array([1]) })).toBe(false)
    })

    it('does not equate distinct class instances', () => {
        class Point {
            constructor(readonly x: number) {}
        }
        const point = new Point(1)
        expect(valuesEqual(point, point)).toBe(true)
        expect(valuesEqual(new Point(1), new Point(1))).toBe(false)
    })
})
