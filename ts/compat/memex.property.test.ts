import fc from 'fast-check'
import type StorageManager from '@worldbrain/storex'
import { setupSync } from '../setup'
import type { SyncSetup } from '../setup'
import { MemorySharedSyncLog } from '../shared-log/memory'
import { ManualClock } from '../integration/scenario-helpers'
import { createMemexStorageManager, memexDump, memexSynced } from './memex'

/**
 * Convergence on the Memex schema: three Dexie devices make random writes to url-keyed pages
 * (with `media` screenshots), compound-keyed tags, visits and list entries (with datetimes), and
 * sync partially in random interleavings; after everyone syncs fully, every device holds the
 * same data, with screenshots still bytes and datetimes still Dates.
 * `PROPERTY_RUNS` sets the run count; `PROPERTY_SEED` replays a printed seed.
 */

const RUNS = process.env.PROPERTY_RUNS === undefined ? 12 : Number(process.env.PROPERTY_RUNS)
const SEED = process.env.PROPERTY_SEED === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.PROPERTY_SEED)

const URLS = ['a.example/1', 'a.example/2', 'b.example/1']
const TAGS = ['work', 'read']
const device = fc.integer({ min: 0, max: 2 })
const url = fc.constantFrom(...URLS)
const bytes = fc.uint8Array({ minLength: 0, maxLength: 12 })
const date = fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }).map(ms => new Date(ms))

type Command =
    | { kind: 'createPage'; device: number; url: string; text: string; screenshot: Uint8Array }
    | { kind: 'updatePage'; device: number; url: string; updates: Record<string, unknown> }
    | { kind: 'deletePage'; device: number; url: string }
    | { kind: 'tag'; device: number; url: string; name: string }
    | { kind: 'untag'; device: number; url: string; name: string }
    | { kind: 'visit'; device: number; url: string; time: number; duration: number }
    | { kind: 'listEntry'; device: number; url: string; createdAt: Date }
    | { kind: 'unlist'; device: number; url: string }
    | { kind: 'sync'; device: number; mode: 'push' | 'pull' | 'full' }

const sync = fc.record({ kind: fc.constant('sync' as const), device, mode: fc.constantFrom('push' as const, 'pull' as const, 'full' as const) })
const commands: fc.Arbitrary<Array<Command & { tick: number }>> = fc.array(
    fc
        .oneof(
            fc.record({ kind: fc.constant('createPage' as const), device, url, text: fc.constantFrom('offline sync', 'memex pages', 'research notes'), screenshot: bytes }),
            fc.record({
                kind: fc.constant('updatePage' as const),
                device,
                url,
                updates: fc.oneof(
                    fc.record({ screenshot: bytes }),
                    fc.record({ hostname: fc.constantFrom('h1', 'h2', 'h3') }),
                    fc.record({ text: fc.constantFrom('edited text', 'other words') }),
                ),
            }),
            fc.record({ kind: fc.constant('deletePage' as const), device, url }),
            fc.record({ kind: fc.constant('tag' as const), device, url, name: fc.constantFrom(...TAGS) }),
            fc.record({ kind: fc.constant('untag' as const), device, url, name: fc.constantFrom(...TAGS) }),
            fc.record({ kind: fc.constant('visit' as const), device, url, time: fc.integer({ min: 1, max: 4 }), duration: fc.integer({ min: 0, max: 100 }) }),
            fc.record({ kind: fc.constant('listEntry' as const), device, url, createdAt: date }),
            fc.record({ kind: fc.constant('unlist' as const), device, url }),
            sync,
            sync,
        )
        // Small clock steps (often 0), so equal versions on different devices are common.
        .chain(command => fc.integer({ min: 0, max: 2 }).map(tick => ({ ...command, tick }))),
    { minLength: 5, maxLength: 30 },
)

interface Device extends SyncSetup {
    storageManager: StorageManager
}

async function ignoringDuplicateKey(write: () => Promise<unknown>): Promise<void> {
    try {
        await write()
    } catch (error) {
        // Creating a key that exists on this device is refused; the property is about what syncs.
        if ((error as { code?: string }).code !== 'DUPLICATE_PK') {
            throw error
        }
    }
}

async function run(command: Command, devices: Device[]): Promise<void> {
    const target = devices[command.device]
    const db = target.storageManager
    switch (command.kind) {
        case 'createPage':
            return ignoringDuplicateKey(() => db.collection('pages').createObject({ url: command.url, text: command.text, domain: 'example', hostname: 'example', screenshot: command.screenshot }))
        case 'updatePage':
            await db.collection('pages').updateObjects({ url: command.url }, command.updates)
            return
        case 'deletePage':
            await db.collection('pages').deleteObjects({ url: command.url })
            return
        case 'tag':
            return ignoringDuplicateKey(() => db.collection('tags').createObject({ name: command.name, url: command.url }))
        case 'untag':
            await db.collection('tags').deleteObjects({ name: command.name, url: command.url })
            return
        case 'visit':
            return ignoringDuplicateKey(() => db.collection('visits').createObject({ time: command.time, url: command.url, duration: command.duration, scrollMaxPerc: command.duration / 2 }))
        case 'listEntry':
            return ignoringDuplicateKey(() => db.collection('pageListEntries').createObject({ listId: 'inbox', pageUrl: command.url, fullUrl: `https://${command.url}`, createdAt: command.createdAt }))
        case 'unlist':
            await db.collection('pageListEntries').deleteObjects({ listId: 'inbox', pageUrl: command.url })
            return
        case 'sync':
            await (command.mode === 'push' ? target.push() : command.mode === 'pull' ? target.pull() : target.syncNow())
    }
}

it(`Memex schema: three devices converge after random writes and partial syncs (seed ${SEED}, ${RUNS} runs)`, async () => {
    try {
        await fc.assert(
            fc.asyncProperty(commands, async script => {
                const clock = new ManualClock()
                const sharedLog = new MemorySharedSyncLog()
                const devices: Device[] = []
                for (const name of ['device-a', 'device-b', 'device-c']) {
                    const storageManager = createMemexStorageManager('dexie')
                    devices.push({ ...(await setupSync({ storageManager, collections: memexSynced(), sharedLog, now: clock.now, generateDeviceId: () => name })), storageManager })
                }
                for (const command of script) {
                    clock.advance(command.tick)
                    await run(command, devices)
                }
                for (let round = 0; round < 2; round++) {
                    for (const device of devices) {
                        await device.syncNow()
                    }
                }
                const dumps = await Promise.all(devices.map(device => memexDump(device.storageManager)))
                expect(dumps[1]).toEqual(dumps[0])
                expect(dumps[2]).toEqual(dumps[0])
                for (const page of (await devices[0].storageManager.collection('pages').findObjects({})) as Array<Record<string, unknown>>) {
                    expect(Object.prototype.toString.call(page.screenshot)).toBe('[object Uint8Array]')
                }
                for (const entry of (await devices[0].storageManager.collection('pageListEntries').findObjects({})) as Array<Record<string, unknown>>) {
                    expect(Object.prototype.toString.call(entry.createdAt)).toBe('[object Date]')
                }
            }),
            { numRuns: RUNS, seed: SEED },
        )
    } catch (error) {
        throw new Error(`Memex convergence property failed; replay with PROPERTY_SEED=${SEED}\n${(error as Error).message}`)
    }
}, 120_000)
