import fc from 'fast-check'

/**
 * fast-check arbitraries for values of every Storex field type the backends store (issue 14),
 * shared by the reconciler and convergence property tests. Pools are small on purpose, so that
 * two writes often carry equal values (the reconciler must then write nothing) and often carry
 * values that differ only in type or sign (a Date and its ISO string, -0 and 0).
 */

/** Characters that break naive handling: a lone high and low surrogate, half of an emoji, NUL, an astral character, `$`. */
const TRICKY_UNITS = ['a', 'b', '$', '\u0000', '\ud800', '\udc00', '\ud83d', '😀', 'é']

export const trickyString = fc.string({ unit: fc.constantFrom(...TRICKY_UNITS), maxLength: 3 })

const FIXED_DATES = [new Date('2026-01-02T03:04:05.000Z'), new Date('2026-06-06T07:08:09.000Z'), new Date(0)]

export const dateValue = fc.oneof(
    fc.constantFrom(...FIXED_DATES).map(date => new Date(date.getTime())),
    fc.date({ min: new Date(Date.UTC(1000, 0, 1)), max: new Date(Date.UTC(9999, 11, 31)), noInvalidDate: true }),
)

export const timestampValue = fc.oneof(fc.constantFrom(0, 1767225600000, Number.MAX_SAFE_INTEGER), fc.maxSafeNat())

export const intValue = fc.oneof(fc.constantFrom(0, -0, 1, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER), fc.integer())

export const floatValue = fc.oneof(fc.constantFrom(0, -0, 0.1, 1.5, -2.25, 5e-324, 1.7976931348623157e308), fc.double({ noNaN: true, noDefaultInfinity: true }))

/** JSON with Dates and -0 inside, and keys that look like the encoding's tags. */
export const jsonValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown; array: unknown[]; object: Record<string, unknown> }>(tie => ({
    value: fc.oneof(
        { depthSize: 'small', maxDepth: 3 },
        trickyString,
        fc.constantFrom(0, -0, 1, 2.5, true, false, null),
        dateValue,
        tie('array'),
        tie('object'),
    ),
    array: fc.array(tie('value'), { maxLength: 3 }),
    object: fc.dictionary(fc.constantFrom('k', '$date', '$esc', '$num', '$', 'x\ud800'), tie('value'), { maxKeys: 2 }),
})).value

/** One arbitrary per field of the value-test schema (see `THING_FIELDS` in value-fixtures.ts). */
export const FIELD_VALUES = {
    s: trickyString,
    t: trickyString,
    j: jsonValue,
    d: dateValue,
    ts: timestampValue,
    b: fc.boolean(),
    i: intValue,
    f: floatValue,
    rank: fc.integer({ min: 0, max: 2 }),
    // null unsets the optional field
    opt: fc.option(trickyString, { nil: null }),
} as const

export type ValueField = keyof typeof FIELD_VALUES

export const VALUE_FIELDS = Object.keys(FIELD_VALUES) as ValueField[]

/** A field and a value of its type. */
export const fieldAndValue: fc.Arbitrary<[ValueField, unknown]> = fc
    .constantFrom(...VALUE_FIELDS)
    .chain(field => (FIELD_VALUES[field] as fc.Arbitrary<unknown>).map(value => [field, value] as [ValueField, unknown]))

/** Every required field with a value; the optional one sometimes. */
export const fullObject: fc.Arbitrary<Record<string, unknown>> = fc.record(
    Object.fromEntries(VALUE_FIELDS.map(field => [field, FIELD_VALUES[field] as fc.Arbitrary<unknown>])) as Record<ValueField, fc.Arbitrary<unknown>>,
    { requiredKeys: VALUE_FIELDS.filter(field => field !== 'opt') },
)
