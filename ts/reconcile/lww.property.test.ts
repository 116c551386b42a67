import fc from 'fast-check'
import type { OperationBatch } from '@worldbrain/storex'
import type { PrimaryKey, SyncLogEntry } from '../entries/types'
import { entryFieldKey, entryId, entryObjectKey } from '../entries/keys'
import { compareEntryVersions } from '../entries/order'
import { FIELD_VALUES, fieldAndValue } from '../integration/value-arbitraries'
import { objectStateFromEntries, reconcileLww, pkFieldsObject } from './index'

/** `PROPERTY_RUNS` raises the run count; `PROPERTY_SEED` replays the seed a failure printed. */
const RUNS = Number(process.env.PROPERTY_RUNS ?? 200)
const SEED = process.env.PROPERTY_SEED === undefined ? undefined : Number(process.env.PROPERTY_SEED)
const PARAMETERS: fc.Parameters<unknown> = { numRuns: RUNS, verbose: 1, ...(SEED === undefined ? {} : { seed: SEED }) }

const OBJECTS: Array<{ collection: string; pk: PrimaryKey }> = [
    { collection: 'note', pk: 'n1' },
    { collection: 'note', pk: 'n2' },
    { collection: 'tag', pk: ['n1', 'work'] },
]
const pkFields = (collection: string) => (collection === 'tag' ? ['noteId', 'name'] : ['id'])

const entryArb: fc.Arbitrary<SyncLogEntry> = fc
    .record({
        object: fc.constantFrom(...OBJECTS),
        operation: fc.constantFrom<SyncLogEntry['operation']>('create', 'modify', 'modify', 'delete'),
        modified: fieldAndValue,
        created: fc.record(FIELD_VALUES as unknown as Record<string, fc.Arbitrary<unknown>>, { requiredKeys: [] }),
        // Few versions and devices so that ties and same-version conflicts are common.
        version: fc.integer({ min: 1, max: 6 }),
        deviceId: fc.constantFrom('a', 'b', 'c'),
    })
    .map(({ object, operation, modified: [field, value], created, version, deviceId }) => ({
        collection: object.collection,
        pk: object.pk,
        operation,
        field: operation === 'modify' ? field : null,
        value: operation === 'modify' ? value : operation === 'create' ? created : null,
        version,
        deviceId,
        schemaVersion: 1,
    }))

/** Entry sets: an entry id names one entry, so distinct entries never share an id. */
const entrySetArb = fc.uniqueArray(entryArb, { selector: (entry) => entryId(entry), maxLength: 25 })

/** Present objects only, each as its row would look in the database. */
function expectedRows(entries: SyncLogEntry[]): Record<string, Record<string, unknown>> {
    const byObject = new Map<string, SyncLogEntry[]>()
    for (const entry of entries) {
        byObject.set(entryObjectKey(entry), [...(byObject.get(entryObjectKey(entry)) ?? []), entry])
    }
    const rows: Record<string, Record<string, unknown>> = {}
    for (const [key, objectEntries] of byObject) {
        const state = objectStateFromEntries(objectEntries)
        if (state.exists) {
            const { collection, pk } = objectEntries[0]
            rows[key] = withoutNulls({ ...pkFieldsObject({ collection, pk, pkFields: pkFields(collection) }), ...state.fields })
        }
    }
    return rows
}

/** A field nulled by an update and a field never set read the same to an app. */
function withoutNulls(row: Record<string, unknown>): Record<string, unknown> {
    return Object.fromEntries(Object.entries(row).filter(([, value]) => value !== null))
}

/** A tiny Storex batch interpreter over a Map, strict about creating twice or touching missing rows. */
function applyBatch(db: Map<string, Record<string, unknown>>, batch: OperationBatch): void {
    const keyOf = (collection: string, where: Record<string, unknown>) =>
        `${collection}/${JSON.stringify(pkFields(collection).length === 1 ? where[pkFields(collection)[0]] : pkFields(collection).map((f) => where[f]))}`
    for (const operation of batch) {
        if (operation.operation === 'createObject') {
            const key = keyOf(operation.collection, operation.args)
            if (db.has(key)) throw new Error(`createObject on existing ${key}`)
            db.set(key, { ...operation.args })
        } else if (operation.operation === 'updateObjects') {
            const key = keyOf(operation.collection, operation.where)
            const row = db.get(key)
            if (row === undefined) throw new Error(`updateObjects on missing ${key}`)
            db.set(key, { ...row, ...operation.updates })
        } else {
            const key = keyOf(operation.collection, operation.where)
            if (!db.delete(key)) throw new Error(`deleteObjects on missing ${key}`)
        }
    }
}

function dbRows(db: Map<string, Record<string, unknown>>): Record<string, Record<string, unknown>> {
    return Object.fromEntries([...db].map(([key, row]) => [key, withoutNulls(row)]))
}

/** Entries that last-write-wins never needs: superseded on their field key, or a modify older than a lifecycle entry. */
function isCompactable(entry: SyncLogEntry, all: SyncLogEntry[]): boolean {
    return all.some(
        (other) =>
            compareEntryVersions(other, entry) > 0 &&
            (entryFieldKey(other) === entryFieldKey(entry) ||
                (entry.operation === 'modify' && other.operation !== 'modify' && entryObjectKey(other) === entryObjectKey(entry))),
    )
}

describe('reconcileLww properties', () => {
    it('Jest tells the value types apart that these properties rely on', () => {
        expect({ f: 0 }).not.toEqual({ f: -0 })
        expect({ d: new Date(0) }).not.toEqual({ d: new Date(0).toISOString() })
        expect({ d: new Date(0) }).not.toEqual({ d: new Date(1) })
    })

    it('state depends only on the entry set, not on order or duplicates', () => {
        const arb = entrySetArb.chain((entries) =>
            fc.tuple(
                fc.constant(entries),
                fc.shuffledSubarray(entries, { minLength: entries.length, maxLength: entries.length }),
                fc.subarray(entries),
            ),
        )
        fc.assert(
            fc.property(arb, ([entries, permuted, duplicates]) => {
                expect(expectedRows([...permuted, ...duplicates])).toEqual(expectedRows(entries))
            }),
            PARAMETERS,
        )
    })

    it('compaction never changes the state', () => {
        const arb = entrySetArb.chain((entries) => {
            const compactable = entries.filter((entry) => isCompactable(entry, entries))
            return fc.tuple(fc.constant(entries), fc.subarray(compactable))
        })
        fc.assert(
            fc.property(arb, ([entries, dropped]) => {
                const droppedIds = new Set(dropped.map((entry) => entryId(entry)))
                const compacted = entries.filter((entry) => !droppedIds.has(entryId(entry)))
                expect(expectedRows(compacted)).toEqual(expectedRows(entries))
            }),
            PARAMETERS,
        )
    })

    it('applying reconcile batches over any split of the entries ends at the state of all of them', () => {
        const arb = entrySetArb.chain((entries) =>
            fc
                .tuple(
                    fc.shuffledSubarray(entries, { minLength: entries.length, maxLength: entries.length }),
                    fc.subarray(entries),
                )
                .chain(([permuted, duplicates]) => {
                    const stream = [...permuted, ...duplicates]
                    return fc.tuple(fc.constant(entries), fc.constant(stream), fc.uniqueArray(fc.nat({ max: stream.length }), { maxLength: 6 }))
                }),
        )
        fc.assert(
            fc.property(arb, ([entries, stream, cuts]) => {
                const bounds = [0, ...[...cuts].sort((a, b) => a - b), stream.length]
                const db = new Map<string, Record<string, unknown>>()
                const known: SyncLogEntry[] = []
                for (let i = 0; i + 1 < bounds.length; i++) {
                    const incoming = stream.slice(bounds[i], bounds[i + 1])
                    // Only the affected objects' entries, as the sync layer would read them.
                    const affected = new Set(incoming.map((entry) => entryObjectKey(entry)))
                    const result = reconcileLww({ known: known.filter((entry) => affected.has(entryObjectKey(entry))), incoming, pkFields })
                    applyBatch(db, result.batch)
                    known.push(...result.newEntries)
                    expect(reconcileLww({ known, incoming, pkFields })).toEqual({ batch: [], newEntries: [] })
                }
                expect(known).toHaveLength(entries.length)
                expect(dbRows(db)).toEqual(expectedRows(entries))
            }),
            PARAMETERS,
        )
    })
})
