/**
 * Scale-out with real OS processes: two `synclog serve --postgres` processes on one fresh
 * PostgreSQL database, library devices on each writing concurrently, all converging.
 *
 * The CLI has no option for a PostgreSQL schema (it uses `public`), so the test creates its own
 * database and drops it at the end. Needs PostgreSQL (see `testPostgresUrl`), like every
 * PostgreSQL test here: no database means a failing test, not a skipped one.
 */
import { Pool } from 'pg'
import { testPostgresUrl } from '../server/store/store-suite'
import { HttpSharedSyncLog } from '../shared-log/http'
import { createDevice, dump, syncAll } from './devices'
import type { TestDevice } from './devices'
import { createTemporaryDatabase, startServiceProcess } from './service-process'
import type { ServiceProcess, TemporaryDatabase } from './service-process'

const processes: ServiceProcess[] = []
let database: TemporaryDatabase | undefined

beforeAll(async () => {
    database = await createTemporaryDatabase(testPostgresUrl(), 'synclog_scale')
})

afterAll(async () => {
    // Always: the processes first (they hold connections), then the database.
    await Promise.all(processes.map(child => child.stop()))
    await database?.drop()
})

const ROUNDS = 4
const NOTES_PER_ROUND = 5

it('two service processes on one PostgreSQL database serve devices that all converge', async () => {
    const { url } = database!
    // Started together, so both run the schema migration at once (it takes an advisory lock).
    const started = await Promise.allSettled([0, 1].map(() => startServiceProcess(['serve', '--postgres', url, '--port', '0'])))
    for (const result of started) {
        if (result.status === 'fulfilled') {
            processes.push(result.value)
        }
    }
    for (const result of started) {
        if (result.status === 'rejected') {
            throw result.reason
        }
    }
    const [first, second] = processes
    expect(first.pid).not.toBe(second.pid)
    expect(first.url).not.toBe(second.url)

    // Four devices, two on each process.
    const devices: TestDevice[] = []
    for (let index = 0; index < 4; index++) {
        const { url: serviceUrl } = processes[index % 2]
        devices.push(await createDevice({ sharedLog: new HttpSharedSyncLog({ url: serviceUrl, retry: { retries: 3, baseDelayMs: 20 } }) }))
    }
    const { object: shared } = await devices[0].storageManager.collection('note').createObject({ title: 'shared', rank: 0 })
    await syncAll(devices)

    // Every device writes its own notes and edits the shared note, all at once, each syncing after each round.
    await Promise.all(
        devices.map(async (device, index) => {
            for (let round = 0; round < ROUNDS; round++) {
                for (let n = 0; n < NOTES_PER_ROUND; n++) {
                    await device.storageManager.collection('note').createObject({ title: `d${index} r${round} n${n}` })
                }
                await device.storageManager.operation('updateObject', 'note', { id: shared.id }, { title: `shared by d${index} in round ${round}`, rank: round })
                await device.syncNow()
            }
        }),
    )
    await syncAll(devices)

    const reference = await dump(devices[0], 'note')
    expect(reference).toHaveLength(1 + devices.length * ROUNDS * NOTES_PER_ROUND)
    for (const device of devices.slice(1)) {
        expect(await dump(device, 'note')).toEqual(reference)
    }
    const sharedNote = (reference as Array<{ id: string; title: string; rank: number }>).find(note => note.id === shared.id)
    expect(sharedNote?.title).toMatch(/^shared by d[0-3] in round 3$/)
    expect(sharedNote?.rank).toBe(ROUNDS - 1)

    // The processes really shared one database: both saw all devices' documents.
    const check = new Pool({ connectionString: url, max: 1 })
    try {
        const { rows } = await check.query('SELECT count(DISTINCT client_id)::int AS writers FROM public.docs')
        expect(rows[0].writers).toBe(devices.length)
    } finally {
        await check.end()
    }
})
