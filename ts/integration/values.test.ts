/**
 * Issue 14, client side: every value of every Storex field type reaches the other device as it
 * was written (type included), over every shared log and between every pair of backends.
 * Regression for "an edited datetime never reaches the other device" and "Dates come back as
 * strings through HTTP and Storex-on-SQLite".
 */
import { MAX_FIELD_VALUE_DEPTH } from '../entries/values'
import { closeStorageManager, createDevice } from './devices'
import type { TestDevice } from './devices'
import { idGenerator } from './scenario-helpers'
import { SHARED_LOGS, THING, asStoredBy, createThingStorage, isDate, postgresReachable, typedDump, typedText, withoutNulls } from './value-fixtures'
import type { BackendName, SharedLogSubject } from './value-fixtures'

const PAIRS: Array<[BackendName, BackendName]> = [
    ['dexie', 'dexie'],
    ['sqlite', 'sqlite'],
    ['dexie', 'sqlite'],
]

let open: Array<{ devices: TestDevice[]; subject: SharedLogSubject }> = []

afterEach(async () => {
    for (const { devices, subject } of open.splice(0)) {
        for (const device of devices) {
            await closeStorageManager(device.storageManager)
        }
        await subject.cleanup()
    }
})

async function setup(logName: string, pair: [BackendName, BackendName]): Promise<{ a: TestDevice; b: TestDevice } | null> {
    const spec = SHARED_LOGS[logName]
    if (spec.needsPostgres && !(await postgresReachable())) {
        console.log(`skipped '${logName}': PostgreSQL is not reachable at 127.0.0.1:5432 (CI runs it)`)
        return null
    }
    const subject = await spec.create()
    const devices: TestDevice[] = []
    for (const [index, backend] of pair.entries()) {
        devices.push(await createDevice({ sharedLog: subject.logForDevice(), storageManager: createThingStorage(backend), collections: [THING], generateId: idGenerator(`obj${index}`) }))
    }
    open.push({ devices, subject })
    return { a: devices[0], b: devices[1] }
}

async function syncBoth(a: TestDevice, b: TestDevice): Promise<void> {
    for (const device of [a, b, a, b]) {
        await device.syncNow()
    }
}

const T1 = new Date('2026-01-02T03:04:05.000Z')
const T2 = new Date('2026-06-06T07:08:09.000Z')

/** One value of each type, with the hard cases: lone surrogates, NUL, astral, -0, tag look-alikes, Dates inside json. */
function sample(): Record<string, unknown> {
    return {
        id: 'thing-1',
        s: 'cut emoji \ud83d | lone low \udc00 | nul \u0000 | astral 😀',
        t: 'text with \u0000 and 👩‍💻 and \ud800',
        j: { when: new Date('2025-12-31T23:59:59.999Z'), list: [1, -0, 'x\ud800', { $date: 'not a date' }, null, [true]], $esc: 'plain key' },
        d: T1,
        ts: Number.MAX_SAFE_INTEGER,
        b: false,
        i: -Number.MAX_SAFE_INTEGER,
        f: -0,
        rank: 0,
    }
}

function expected(backend: BackendName, object: Record<string, unknown>): string {
    return typedText(withoutNulls(Object.fromEntries(Object.entries(object).map(([field, value]) => [field, asStoredBy(backend, field, value)]))))
}

async function thingOf(device: TestDevice): Promise<Record<string, unknown>> {
    const found = await device.storageManager.collection(THING).findObject<Record<string, unknown>>({ id: 'thing-1' })
    if (!found) {
        throw new Error('thing-1 missing')
    }
    return found
}

describe.each(Object.keys(SHARED_LOGS))('values over %s', logName => {
    describe.each(PAIRS)('devices on %s and %s', (...pair) => {
        it('an edited datetime reaches the other device, as a Date', async () => {
            const devices = await setup(logName, pair)
            if (!devices) {
                return
            }
            const { a, b } = devices
            await a.storageManager.collection(THING).createObject({ ...sample(), d: T1 })
            await syncBoth(a, b)
            expect(isDate((await thingOf(b)).d)).toBe(true)
            expect(((await thingOf(b)).d as Date).getTime()).toBe(T1.getTime())

            await a.storageManager.collection(THING).updateOneObject({ id: 'thing-1' }, { d: T2 })
            await syncBoth(a, b)
            const onB = await thingOf(b)
            expect(isDate(onB.d)).toBe(true)
            if (pair[1] === 'sqlite') {
                // Same realm there (fake-indexeddb hands out Dates of Node's own realm, so Dexie reads are checked by tag).
                expect(onB.d).toBeInstanceOf(Date)
            }
            expect((onB.d as Date).getTime()).toBe(T2.getTime())
            // And back the other way.
            await b.storageManager.collection(THING).updateOneObject({ id: 'thing-1' }, { d: T1 })
            await syncBoth(a, b)
            expect(((await thingOf(a)).d as Date).getTime()).toBe(T1.getTime())
        })

        it('every field type arrives as it was written: created, edited and unset', async () => {
            const devices = await setup(logName, pair)
            if (!devices) {
                return
            }
            const { a, b } = devices
            const object = sample()
            await a.storageManager.collection(THING).createObject({ ...object })
            await syncBoth(a, b)
            expect(await typedDump(b.storageManager)).toEqual([expected(pair[1], object)])
            expect(await typedDump(a.storageManager)).toEqual([expected(pair[0], object)])

            const edits = { j: { nested: { at: T2, n: -0 } }, f: 0, i: 0, ts: 0, b: true, opt: 'set \ud800', s: '', t: '\u0000' }
            await b.storageManager.collection(THING).updateOneObject({ id: 'thing-1' }, edits)
            await syncBoth(a, b)
            const edited = { ...object, ...edits }
            expect(await typedDump(a.storageManager)).toEqual([expected(pair[0], edited)])
            expect(await typedDump(b.storageManager)).toEqual([expected(pair[1], edited)])

            await a.storageManager.collection(THING).updateOneObject({ id: 'thing-1' }, { opt: null, f: -0, j: [new Date(0)] })
            await syncBoth(a, b)
            const unset = { ...edited, opt: null, f: -0, j: [new Date(0)] }
            expect(await typedDump(b.storageManager)).toEqual([expected(pair[1], unset)])
        })

        it('the entries a device received hold Dates, not strings, after a round trip through its client log', async () => {
            const devices = await setup(logName, pair)
            if (!devices) {
                return
            }
            const { a, b } = devices
            await a.storageManager.collection(THING).createObject({ ...sample() })
            await a.storageManager.collection(THING).updateOneObject({ id: 'thing-1' }, { d: T2 })
            await syncBoth(a, b)
            const received = await b.clientLog.getAllEntries()
            const create = received.find(entry => entry.operation === 'create')
            const modify = received.find(entry => entry.operation === 'modify' && entry.field === 'd')
            const value = create?.value as Record<string, unknown>
            expect(value.d).toBeInstanceOf(Date)
            expect((value.j as { when: unknown }).when).toBeInstanceOf(Date)
            expect(Object.is(value.f, -0)).toBe(true)
            expect(modify?.value).toEqual(T2)
            expect(modify?.value).toBeInstanceOf(Date)
        })
    })

    it(`a json value at the deepest nesting the client accepts (${MAX_FIELD_VALUE_DEPTH} levels) is pushed and arrives`, async () => {
        const devices = await setup(logName, ['dexie', 'dexie'])
        if (!devices) {
            return
        }
        const { a, b } = devices
        let deep: unknown = { at: new Date(1) } // the Date tag is the deepest level
        for (let level = 2; level < MAX_FIELD_VALUE_DEPTH; level++) {
            deep = [deep]
        }
        const object = { ...sample(), j: deep }
        await a.storageManager.collection(THING).createObject(object)
        await syncBoth(a, b)
        expect(await typedDump(b.storageManager)).toEqual([expected('dexie', object)])
        // One level more is refused at write time, so the device never holds an entry it cannot push.
        await expect(a.storageManager.collection(THING).updateOneObject({ id: 'thing-1' }, { j: [deep] })).rejects.toMatchObject({ code: 'VALUE_TOO_DEEP' })
        expect((await a.syncNow()).pushed).toBe(0)
        expect(await typedDump(a.storageManager)).toEqual([expected('dexie', object)])
    })
})

describe('values on particular paths', () => {
    it('a datetime that arrives as an ISO string or epoch ms (an entry from before the encoding) is written as a Date', async () => {
        const devices = await setup('memory', ['dexie', 'sqlite'])
        const { a, b } = devices!
        const log = a.sharedLog
        const legacy = { collection: THING, pk: 'old-1', operation: 'create' as const, field: null, version: Date.UTC(2026, 0, 1), deviceId: 'legacy-device', schemaVersion: 0 }
        const { id: _id, ...fields } = sample()
        await log.writeEntries({ deviceId: 'legacy-device', entries: [{ ...legacy, value: { ...fields, d: '2026-01-02T03:04:05.000Z' } }] })
        await log.writeEntries({ deviceId: 'legacy-device', entries: [{ ...legacy, pk: 'old-2', value: { ...fields, d: T2.getTime() } }] })
        await syncBoth(a, b)
        for (const device of [a, b]) {
            const [first, second] = await Promise.all(['old-1', 'old-2'].map(id => device.storageManager.collection(THING).findObject<{ d: unknown }>({ id })))
            expect(isDate(first?.d)).toBe(true)
            expect((first?.d as Date).getTime()).toBe(T1.getTime())
            expect(isDate(second?.d)).toBe(true)
            expect((second?.d as Date).getTime()).toBe(T2.getTime())
        }
    })

    describe.each(['memory', 'HTTP on SQLite'])('binary fields on Dexie over %s', logName => {
        async function blobDevices(): Promise<{ a: TestDevice; b: TestDevice }> {
            const subject = await SHARED_LOGS[logName].create()
            const devices: TestDevice[] = []
            for (const index of [0, 1]) {
                const storageManager = createThingStorage('dexie')
                storageManager.registry.registerCollections({
                    file: { version: new Date('2026-01-01'), fields: { id: { type: 'string' }, bytes: { type: 'binary' }, media: { type: 'media', optional: true } }, indices: [{ field: 'id', pk: true }] },
                })
                devices.push(await createDevice({ sharedLog: subject.logForDevice(), storageManager, collections: ['file'], generateId: idGenerator(`file${index}`) }))
            }
            open.push({ devices, subject })
            return { a: devices[0], b: devices[1] }
        }

        it('a Uint8Array arrives as the same bytes, as a Uint8Array; a Blob is refused at write time', async () => {
            const { a, b } = await blobDevices()
            const bytes = new Uint8Array([0, 1, 2, 250, 255])
            await a.storageManager.collection('file').createObject({ id: 'f1', bytes })
            await syncBoth(a, b)
            const received = await b.storageManager.collection('file').findObject<{ bytes: Uint8Array }>({ id: 'f1' })
            expect(Object.prototype.toString.call(received?.bytes)).toBe('[object Uint8Array]')
            expect(Array.from(received!.bytes)).toEqual(Array.from(bytes))
            await b.storageManager.collection('file').updateOneObject({ id: 'f1' }, { bytes: new Uint8Array([7]) })
            await syncBoth(a, b)
            expect(Array.from((await a.storageManager.collection('file').findObject<{ bytes: Uint8Array }>({ id: 'f1' }))!.bytes)).toEqual([7])
            await expect(a.storageManager.collection('file').updateOneObject({ id: 'f1' }, { media: new Blob(['x']) })).rejects.toMatchObject({ code: 'UNSYNCABLE_VALUE' })
            expect(await a.storageManager.collection('file').findObject({ id: 'f1' })).not.toHaveProperty('media', expect.anything())
        })
    })
})
