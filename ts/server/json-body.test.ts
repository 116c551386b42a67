/**
 * The building blocks of the hostile-input checks: the identifier rule, the raw-body depth scan,
 * the charset parameter, and the stack-safe JSON helpers. (The routes using them are tested in
 * hostile-input.test.ts.)
 */
import fc from 'fast-check'
import { IDENTIFIER_PATTERN, isValidIdentifier, requireIdentifier } from './identifiers'
import { declaredCharset, installJsonBodyParser, jsonTextDepthExceeds } from './json-body'
import { jsonDepthExceeds, jsonEqual, stringifyJson, stringifyJsonIteratively } from './json-values'
import Fastify from 'fastify'

const nasty = fc.constantFrom('\u0000', '\ud800', '\udbff', '\udc00', '\udfff', '\ud83c\udf89', 'a', '"', '\\', '[', '{', ']', '}', 'é')
const anyUnits = fc.array(fc.oneof(nasty, fc.string({ maxLength: 3 }), fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit))), { maxLength: 8 }).map((parts) => parts.join(''))

/** `levels` nested containers around `leaf`, alternating objects and arrays. */
function nested(levels: number, leaf: unknown = 1): unknown {
    let value = leaf
    for (let level = 0; level < levels; level++) {
        value = level % 2 === 0 ? { k: value } : [value]
    }
    return value
}

describe('identifier rule', () => {
    it('is "well-formed and no NUL", as String.prototype.isWellFormed says, for any string', () => {
        const wellFormed = (value: string) => (value as string & { isWellFormed(): boolean }).isWellFormed()
        fc.assert(
            fc.property(anyUnits, (value) => {
                expect(isValidIdentifier(value)).toBe(wellFormed(value) && !value.includes('\u0000'))
            }),
        )
    })

    it('accepts pairs and refuses lone halves and NUL', () => {
        for (const good of ['a', '🎉', '\ud83c\udf89x', '\ufffd', '\uffff', 'ünï /?&=']) {
            expect(isValidIdentifier(good)).toBe(true)
        }
        for (const bad of ['\u0000', 'a\u0000', '\ud800', 'x\udfff', '\udf89\ud83c', '\ud83c']) {
            expect(isValidIdentifier(bad)).toBe(false)
        }
        expect(() => requireIdentifier('a\ud800', 'body/clientId')).toThrow(expect.objectContaining({ code: 'INVALID_IDENTIFIER', field: 'body/clientId' }))
        expect(() => requireIdentifier('', 'deviceId')).toThrow(expect.objectContaining({ code: 'INVALID_IDENTIFIER' }))
        expect(requireIdentifier('ok', 'x')).toBe('ok')
    })

    it('is the same rule as a JSON-schema pattern compiled the way Ajv compiles it (u flag)', () => {
        const asAjv = new RegExp(IDENTIFIER_PATTERN, 'u')
        fc.assert(fc.property(anyUnits, (value) => expect(asAjv.test(value)).toBe(isValidIdentifier(value))))
    })
})

describe('jsonTextDepthExceeds', () => {
    const bytes = (text: string) => new TextEncoder().encode(text)

    it('measures the depth JSON.parse sees, ignoring brackets inside strings', () => {
        fc.assert(
            fc.property(fc.integer({ min: 1, max: 40 }), anyUnits, fc.integer({ min: 1, max: 45 }), (levels, leaf, limit) => {
                const text = JSON.stringify(nested(levels, { [leaf]: leaf }))
                const depth = levels + 1
                expect(jsonTextDepthExceeds(bytes(text), limit)).toBe(depth > limit)
                expect(jsonDepthExceeds(JSON.parse(text), limit)).toBe(depth > limit)
            }),
        )
    })

    it('handles escaped quotes and backslash runs, and never throws on malformed text', () => {
        expect(jsonTextDepthExceeds(bytes('["\\"[[[", "\\\\", [1]]'), 2)).toBe(false)
        expect(jsonTextDepthExceeds(bytes('["\\\\"[[1]]]'), 2)).toBe(true)
        expect(jsonTextDepthExceeds(bytes('["\\\\"[[1]]]'), 3)).toBe(false)
        expect(jsonTextDepthExceeds(bytes('"unterminated [[[['), 1)).toBe(false)
        expect(jsonTextDepthExceeds(bytes(']]]]]][[['), 3)).toBe(false)
        expect(jsonTextDepthExceeds(bytes('['.repeat(1_000_000)), 200)).toBe(true)
    })
})

describe('declaredCharset', () => {
    it('reads the charset parameter, lower-cased and unquoted, preferring a non-UTF-8 one', () => {
        expect(declaredCharset(undefined)).toBeUndefined()
        expect(declaredCharset('application/json')).toBeUndefined()
        expect(declaredCharset('application/json; charset=UTF-8')).toBe('utf-8')
        expect(declaredCharset('application/json;charset="utf-16"')).toBe('utf-16')
        expect(declaredCharset('application/json; CHARSET = latin1 ')).toBe('latin1')
        expect(declaredCharset('application/json; charset=utf-8; charset=utf-16')).toBe('utf-16')
        expect(declaredCharset('application/json; foo=bar')).toBeUndefined()
    })
})

describe('installJsonBodyParser', () => {
    it('refuses a dataDepth outside 1..1000 with a configuration error naming the option', () => {
        for (const dataDepth of [0, -1, 1.5, 1001, NaN]) {
            expect(() => installJsonBodyParser(Fastify(), { dataDepth })).toThrow(expect.objectContaining({ code: 'SYNC_CONFIGURATION', option: 'limits.dataDepth' }))
        }
    })
})

describe('stack-safe JSON helpers', () => {
    it('stringifyJson matches JSON.stringify on any JSON value, and keeps going where it overflows', () => {
        fc.assert(fc.property(fc.jsonValue(), (value) => expect(stringifyJsonIteratively(value)).toBe(JSON.stringify(value))))
        fc.assert(fc.property(fc.object(), (value) => expect(stringifyJsonIteratively(value)).toBe(JSON.stringify(value))))
        fc.assert(fc.property(fc.jsonValue(), (value) => expect(stringifyJson(value)).toBe(JSON.stringify(value))))
        const deep = nested(100_000, 'x\ud800\u0000')
        expect(() => JSON.stringify(deep)).toThrow(RangeError)
        const text = stringifyJson(deep)
        expect(text.length).toBeGreaterThan(400_000)
        expect(jsonEqual(JSON.parse(text), deep)).toBe(true)
        const small = { a: [1, undefined, () => 1], b: undefined, c: new Date(0), d: -0, e: NaN }
        const deepSmall = nested(10_000, small)
        expect(stringifyJson(deepSmall).endsWith(`${JSON.stringify(small)}${'}]'.repeat(5_000)}`)).toBe(true)
    })

    it('jsonEqual agrees with canonical comparison at any depth, independent of key order', () => {
        const canonical = (value: unknown): unknown =>
            value !== null && typeof value === 'object'
                ? Array.isArray(value)
                    ? value.map(canonical)
                    : Object.fromEntries(Object.keys(value).sort().map((key) => [key, canonical((value as Record<string, unknown>)[key])]))
                : value
        fc.assert(
            fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
                expect(jsonEqual(a, b)).toBe(JSON.stringify(canonical(a)) === JSON.stringify(canonical(b)))
                expect(jsonEqual(a, JSON.parse(JSON.stringify(a)))).toBe(true)
            }),
        )
        expect(jsonEqual({ a: 1, b: [2] }, { b: [2], a: 1 })).toBe(true)
        expect(jsonEqual(nested(200_000, 'x'), nested(200_000, 'x'))).toBe(true)
        expect(jsonEqual(nested(200_000, 'x'), nested(200_000, 'y'))).toBe(false)
        expect(jsonDepthExceeds(nested(200_000), 199_999)).toBe(true)
        expect(jsonDepthExceeds(nested(200_000), 200_000)).toBe(false)
    })
})
