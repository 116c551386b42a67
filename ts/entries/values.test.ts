import fc from 'fast-check'
import {
    InvalidEncodedValueError,
    InvalidIdentifierError,
    MAX_FIELD_VALUE_DEPTH,
    MAX_VALUE_DEPTH,
    UnsyncableValueError,
    ValueTooDeepError,
    assertPrimaryKey,
    decodeEntry,
    decodeValue,
    encodeEntry,
    encodeValue,
    findIdentifierProblem,
} from './values'
import type { SyncLogEntry } from './types'
import { entryToDoc } from '../shared-log/http-mapping'

/** What a value looks like after it went through JSON text, as it does to SQLite or over HTTP. */
const throughJson = (value: unknown) => decodeValue(JSON.parse(JSON.stringify(encodeValue(value))))

/** Jest's toEqual does not tell -0 from 0 inside objects reliably; Object.is at every leaf does. */
function expectSame(actual: unknown, expected: unknown): void {
    expect(actual).toEqual(expected)
    expect(leaves(actual)).toEqual(leaves(expected))
}

function leaves(value: unknown, path = ''): Array<[string, string]> {
    if (Array.isArray(value)) {
        return value.flatMap((item, index) => leaves(item, `${path}[${index}]`))
    }
    if (value instanceof Date) {
        return [[path, `Date:${value.getTime()}`]]
    }
    if (value instanceof Uint8Array) {
        return [[path, `Uint8Array:${Array.from(value).join(',')}`]]
    }
    if (value !== null && typeof value === 'object') {
        return Object.keys(value).sort().flatMap(key => leaves((value as Record<string, unknown>)[key], `${path}.${key}`))
    }
    return [[path, `${typeof value}:${Object.is(value, -0) ? '-0' : JSON.stringify(value)}`]]
}

describe('encodeValue / decodeValue', () => {
    it('passes strings, booleans, null and finite numbers through untouched', () => {
        for (const value of ['', 'plain', 'k\ud800', '\udc00x', 'a\u0000b', '😀 astral', true, false, null, 0, 1.5, -3, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 5e-324, 1.7976931348623157e308]) {
            expect(encodeValue(value)).toBe(value)
            expect(Object.is(throughJson(value), value)).toBe(true)
        }
    })

    it('carries a Date as a $date tag and gives a Date back', () => {
        const date = new Date('2026-01-02T03:04:05.678Z')
        expect(encodeValue(date)).toEqual({ $date: '2026-01-02T03:04:05.678Z' })
        const back = throughJson(date)
        expect(back).toBeInstanceOf(Date)
        expect((back as Date).getTime()).toBe(date.getTime())
        for (const time of [-8.64e15, 8.64e15, -1, 0, Date.UTC(-5, 0, 1), Date.UTC(12345, 6, 7)]) {
            expect((throughJson(new Date(time)) as Date).getTime()).toBe(time)
        }
    })

    it('carries -0 exactly', () => {
        expect(encodeValue(-0)).toEqual({ $num: '-0' })
        expect(Object.is(throughJson(-0), -0)).toBe(true)
        expectSame(throughJson({ f: -0, list: [0, -0] }), { f: -0, list: [0, -0] })
    })

    it('carries Uint8Arrays as base64', () => {
        for (const bytes of [new Uint8Array([]), new Uint8Array([0]), new Uint8Array([1, 2]), new Uint8Array([255, 0, 128]), new Uint8Array(70_000).map((_, i) => i % 251)]) {
            const back = throughJson(bytes)
            expect(back).toBeInstanceOf(Uint8Array)
            expect(Array.from(back as Uint8Array)).toEqual(Array.from(bytes))
        }
        expect(encodeValue(new Uint8Array([1, 2, 3]))).toEqual({ $bytes: 'AQID' })
    })

    it('escapes plain objects that look like a tag, so they come back as they were', () => {
        const lookalikes = [{ $date: '2026-01-01T00:00:00.000Z' }, { $bytes: 'AQID' }, { $num: '-0' }, { $esc: { $date: 'x' } }, { $unknown: 1 }, { $: null }, { $esc: {} }]
        for (const value of lookalikes) {
            expect(Object.keys(encodeValue(value) as object)).toEqual(['$esc'])
            expectSame(throughJson(value), value)
            expectSame(throughJson({ nested: [value] }), { nested: [value] })
        }
        expect(encodeValue({ $date: 'x' })).toEqual({ $esc: { $date: 'x' } })
        expect(encodeValue({ $esc: { $date: 'x' } })).toEqual({ $esc: { $esc: { $esc: { $date: 'x' } } } })
        // Two keys never look like a tag: no escape needed.
        expect(encodeValue({ $date: 'x', other: 1 })).toEqual({ $date: 'x', other: 1 })
        expect(encodeValue({ $date: 'x', gone: undefined })).toEqual({ $esc: { $date: 'x' } })
    })

    it('keeps __proto__ as an ordinary key, never as a prototype', () => {
        const value = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}')
        const back = throughJson(value) as Record<string, unknown>
        expect(Object.keys(back)).toEqual(['__proto__', 'a'])
        expect(Object.getPrototypeOf(back)).toBe(Object.prototype)
        expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    })

    it('copies: the encoded and decoded forms share no objects with their input', () => {
        const value = { list: [{ when: new Date(1) }], bytes: new Uint8Array([1]) }
        const encoded = encodeValue(value) as Record<string, unknown>
        const decoded = decodeValue(encoded) as typeof value
        expect(decoded).not.toBe(value)
        expect(decoded.list).not.toBe(value.list)
        expect(decoded.list[0].when).not.toBe(value.list[0].when)
        expect(decoded.bytes).not.toBe(value.bytes)
        expect(decodeValue(encoded)).not.toBe(decoded)
    })

    it('leaves out undefined object properties, as JSON does', () => {
        expect(encodeValue({ a: undefined, b: 1 })).toEqual({ b: 1 })
    })

    it.each([
        ['NaN', NaN],
        ['Infinity', Infinity],
        ['-Infinity', -Infinity],
        ['an invalid Date', new Date(NaN)],
        ['undefined in an array', [1, undefined]],
        ['a hole in an array', [1, , 3]], // eslint-disable-line no-sparse-arrays
        ['a bigint', 1n],
        ['a function', () => 1],
        ['a symbol', Symbol('x')],
        ['a Map', new Map()],
        ['a class instance', new (class Point { x = 1 })()],
        ['a Blob', new Blob(['x'])],
        ['an ArrayBuffer', new ArrayBuffer(2)],
        ['an Int16Array', new Int16Array(2)],
        ['a RegExp', /x/],
    ])('refuses %s with a typed error naming where it is', (_name, bad) => {
        const attempt = () => encodeValue({ outer: [{ inner: bad }] }, { label: 'note.tags' })
        expect(attempt).toThrow(UnsyncableValueError)
        try {
            attempt()
        } catch (error) {
            expect((error as UnsyncableValueError).code).toBe('UNSYNCABLE_VALUE')
            expect((error as UnsyncableValueError).path.slice(0, 3)).toEqual(['outer', 0, 'inner'])
            expect((error as Error).message).toContain('note.tags.outer[0].inner')
        }
    })

    it(`refuses values nested deeper than MAX_VALUE_DEPTH (${MAX_VALUE_DEPTH}), counting tags and escapes as levels`, () => {
        const nest = (levels: number, leaf: unknown = 1): unknown => {
            let value = leaf
            for (let level = 0; level < levels; level++) {
                value = [value]
            }
            return value
        }
        expect(() => encodeValue(nest(MAX_VALUE_DEPTH))).not.toThrow()
        expect(() => encodeValue(nest(MAX_VALUE_DEPTH + 1))).toThrow(ValueTooDeepError)
        // A Date is one level ({"$date": ...}); so is -0 and a Uint8Array.
        expect(() => encodeValue(nest(MAX_VALUE_DEPTH - 1, new Date(0)))).not.toThrow()
        expect(() => encodeValue(nest(MAX_VALUE_DEPTH, new Date(0)))).toThrow(ValueTooDeepError)
        expect(() => encodeValue(nest(MAX_VALUE_DEPTH, -0))).toThrow(ValueTooDeepError)
        expect(() => encodeValue(nest(MAX_VALUE_DEPTH, 0))).not.toThrow()
        // An escaped object takes two levels: the escape and the object.
        expect(() => encodeValue(nest(MAX_VALUE_DEPTH - 2, { $x: 1 }))).not.toThrow()
        expect(() => encodeValue(nest(MAX_VALUE_DEPTH - 1, { $x: 1 }))).toThrow(ValueTooDeepError)
        expect(() => encodeValue(nest(MAX_VALUE_DEPTH - 1, { x: 1 }))).not.toThrow()
        // A deep value is refused without walking all of it (no stack overflow).
        expect(() => encodeValue(nest(100_000))).toThrow(ValueTooDeepError)
        expect(() => encodeValue(nest(10), { maxDepth: 9 })).toThrow(expect.objectContaining({ code: 'VALUE_TOO_DEEP' }))
    })

    it('the depth limit is the depth of the JSON text', () => {
        const depthOf = (json: unknown): number =>
            json !== null && typeof json === 'object' ? 1 + Math.max(0, ...Object.values(json as object).map(depthOf)) : 0
        const nest = (levels: number): unknown => (levels === 0 ? { $date: new Date(0) } : { k: nest(levels - 1) })
        const value = nest(MAX_VALUE_DEPTH - 3)
        expect(depthOf(JSON.parse(JSON.stringify(encodeValue(value))))).toBe(MAX_VALUE_DEPTH)
    })

    it('refuses data that is not in the encoding with a typed error', () => {
        for (const bad of [{ $date: 'yesterday' }, { $date: 5 }, { $bytes: '***' }, { $num: 'NaN' }, { $esc: { a: 1, b: 2 } }, { $esc: 'x' }, { $future: 1 }, [{ ok: { $nope: 1 } }]]) {
            expect(() => decodeValue(bad)).toThrow(InvalidEncodedValueError)
        }
        try {
            decodeValue({ a: [0, { $date: 'never' }] })
        } catch (error) {
            expect((error as InvalidEncodedValueError).path).toEqual(['a', 1])
        }
    })

    it('reads values an older version stored raw (a Date or Uint8Array in IndexedDB)', () => {
        expect(decodeValue(new Date(5))).toEqual(new Date(5))
        expect(decodeValue({ at: new Date(5) })).toEqual({ at: new Date(5) })
        expect(decodeValue(new Uint8Array([1]))).toEqual(new Uint8Array([1]))
        expect(decodeValue(undefined)).toBeNull()
    })

    it('round-trips any JSON-like value with Dates, bytes, -0, lone surrogates and NUL (property)', () => {
        const leaf = fc.oneof(
            fc.string({ unit: 'binary' }),
            fc.string({ unit: fc.constantFrom('a', '$', '\u0000', '\ud800', '\udc00', '😀', '\ud83d') }),
            fc.double({ noNaN: true, noDefaultInfinity: true }),
            fc.integer(),
            fc.boolean(),
            fc.constant(null),
            fc.date({ noInvalidDate: true }),
            fc.uint8Array({ maxLength: 8 }),
        )
        const key = fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('$date', '$bytes', '$num', '$esc', '$', '__proto__'))
        const { value } = fc.letrec(tie => ({
            value: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
            array: fc.array(tie('value'), { maxLength: 4 }),
            object: fc.dictionary(key, tie('value'), { maxKeys: 3 }),
        }))
        fc.assert(
            fc.property(value, input => {
                expectSame(throughJson(input), input)
            }),
            { numRuns: 500 },
        )
    })
})

describe('encodeEntry / decodeEntry', () => {
    it('round-trip an entry through JSON text', () => {
        const entry: SyncLogEntry = {
            collection: 'note', pk: ['a', 1], operation: 'create', field: null,
            value: { when: new Date(7), bytes: new Uint8Array([9]), neg: -0, tagLike: { $date: 'no' } },
            version: 1767225600000, deviceId: 'device-a', schemaVersion: 1,
        }
        const encoded = encodeEntry(entry)
        expect(encoded.pk).not.toBe(entry.pk)
        const back = decodeEntry(JSON.parse(JSON.stringify(encoded)))
        expectSame(back, entry)
    })
})

describe('the depth a service sees', () => {
    it(`a document written for the deepest accepted field value nests ${MAX_VALUE_DEPTH + 1} levels, counting data itself`, () => {
        const depthOf = (json: unknown): number =>
            json !== null && typeof json === 'object' ? 1 + Math.max(0, ...Object.values(json as object).map(depthOf)) : 0
        // A Date is one level ({"$date": ...}); each array around it one more.
        let deep: unknown = new Date(0)
        for (let level = 1; level < MAX_FIELD_VALUE_DEPTH; level++) {
            deep = [deep]
        }
        expect(depthOf(encodeValue(deep))).toBe(MAX_FIELD_VALUE_DEPTH)
        expect(() => encodeValue(deep, { maxDepth: MAX_FIELD_VALUE_DEPTH })).not.toThrow()
        const create: SyncLogEntry = { collection: 'note', pk: ['a', 1], operation: 'create', field: null, value: { tags: deep }, version: 1, deviceId: 'd', schemaVersion: 1 }
        const doc = entryToDoc(create)
        expect(depthOf(JSON.parse(JSON.stringify(doc.data)))).toBe(MAX_VALUE_DEPTH + 1)
        expect(() => encodeValue([deep], { maxDepth: MAX_FIELD_VALUE_DEPTH })).toThrow(ValueTooDeepError)
    })
})

describe('identifiers', () => {
    it('accepts well-formed Unicode, refuses lone surrogates and NUL', () => {
        for (const ok of ['', 'note', 'tïtle_✓', '😀', 'a\ud83d\ude00b']) {
            expect(findIdentifierProblem(ok)).toBeNull()
        }
        for (const bad of ['k\ud800', '\udc00', 'a\ud800\ud800', '\ude00\ud83d', 'x\u0000']) {
            expect(findIdentifierProblem(bad)).not.toBeNull()
        }
    })

    it('checks every part of a primary key', () => {
        expect(() => assertPrimaryKey(['ok', 1])).not.toThrow()
        expect(() => assertPrimaryKey(['ok', 'k\ud800'])).toThrow(InvalidIdentifierError)
        expect(() => assertPrimaryKey('a\u0000')).toThrow(expect.objectContaining({ code: 'INVALID_IDENTIFIER' }))
        expect(() => assertPrimaryKey(NaN)).toThrow(InvalidIdentifierError)
    })
})
