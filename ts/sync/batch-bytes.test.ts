import fc from 'fast-check'
import type { SyncLogEntry } from '../entries/types'
import { UnsyncableValueError } from '../entries/values'
import { FIELD_VALUES, fieldAndValue, fullObject, jsonValue, trickyString } from '../integration/value-arbitraries'
import { entryBytes, entryBytesAtMost, takeWithinBytes } from './batch-bytes'

const text = fc.oneof(trickyString, fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 }))

/** Entries of every kind, with values of every Storex field type (and bytes) in every position. */
const entry: fc.Arbitrary<SyncLogEntry> = fc.record({
    collection: text,
    pk: fc.oneof(text, FIELD_VALUES.i, fc.array(fc.oneof(text, FIELD_VALUES.i), { maxLength: 3 })),
    operation: fc.constantFrom('create' as const, 'modify' as const, 'delete' as const),
    field: fc.option(text, { nil: null }),
    value: fc.oneof(fieldAndValue.map(([, value]) => value), fullObject, jsonValue, fc.uint8Array({ maxLength: 40 }), fc.constant(undefined)),
    version: fc.oneof(FIELD_VALUES.f, FIELD_VALUES.ts),
    deviceId: text,
    schemaVersion: FIELD_VALUES.i,
})

/** What `takeWithinBytes` must return: the most entries whose measured sizes add up to the limit, at least one. */
function reference(entries: SyncLogEntry[], byteLimit: number): SyncLogEntry[] {
    const totals = entries.map(item => entryBytes(item)).map((size, index, sizes) => sizes.slice(0, index + 1).reduce((sum, each) => sum + each, 0))
    const fitting = totals.filter(total => total <= byteLimit).length
    return entries.slice(0, Math.max(1, fitting))
}

describe('batch sizing', () => {
    it('never counts an entry smaller than its encoded JSON', () => {
        fc.assert(fc.property(entry, item => entryBytesAtMost(item) >= entryBytes(item)), { numRuns: 2000 })
    })

    it('takes the same prefix as measuring every entry, whether the batch fits or not', () => {
        fc.assert(
            fc.property(fc.array(entry, { maxLength: 12 }), fc.integer({ min: 0, max: 20_000 }), (entries, byteLimit) => {
                expect(takeWithinBytes(entries, byteLimit)).toEqual(reference(entries, byteLimit))
            }),
            { numRuns: 1000 },
        )
    })

    const note = (index: number, body: string): SyncLogEntry => ({
        collection: 'note', pk: `note-${index}`, operation: 'create', field: null,
        value: { id: `note-${index}`, body, at: new Date(index) }, version: 1767225600000 + index, deviceId: 'device-a', schemaVersion: 1,
    })

    it('returns a batch far below the limit whole, and splits one over it', () => {
        const small = Array.from({ length: 500 }, (_, index) => note(index, 'short'))
        expect(takeWithinBytes(small, 1024 * 1024)).toBe(small)
        const large = Array.from({ length: 10 }, (_, index) => note(index, 'é'.repeat(1000)))
        const taken = takeWithinBytes(large, 5000)
        expect(taken.length).toBe(2)
        expect(taken.reduce((sum, item) => sum + entryBytes(item), 0)).toBeLessThanOrEqual(5000)
    })

    it('takes one entry even when it alone is over the limit', () => {
        expect(takeWithinBytes([note(1, 'x'.repeat(100)), note(2, 'y')], 10)).toHaveLength(1)
    })

    it('raises the encoding’s own error for a value it cannot carry', () => {
        const bad = { ...note(1, 'x'), value: { when: new Map() } } as unknown as SyncLogEntry
        expect(() => takeWithinBytes([bad], 1024)).toThrow(UnsyncableValueError)
    })
})
