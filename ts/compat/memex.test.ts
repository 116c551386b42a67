import type StorageManager from '@worldbrain/storex'
import { setupSync } from '../setup'
import type { SyncSetup } from '../setup'
import { closeStorageManager } from '../integration/devices'
import { ManualClock } from '../integration/scenario-helpers'
import { COMPAT_SHARED_LOGS } from './shared-logs'
import type { CompatSharedLog } from './shared-logs'
import { createMemexStorageManager, makePage, memexDump, memexSynced, seededRandom, typedJson } from './memex'

/**
 * The Memex schema (as published with storex-sync 0.1.1) as a workload for two devices on Dexie,
 * over the memory, Storex and HTTP shared logs: string and compound primary keys, the full-text
 * index, `media` screenshots (bytes, synced exactly; a Blob is refused at write time) and
 * datetimes. (storex-backend-typeorm 0.2.1 has no `media` field type, so plain Storex cannot open
 * this schema on SQLite at all; see docs/compat.md.)
 */

const LOGS = ['memory', 'Storex on Dexie', 'HTTP on SQLite']

interface Device extends SyncSetup {
    storageManager: StorageManager
}

describe.each(LOGS)('Memex workload, two Dexie devices over the %s log', logName => {
    let shared: CompatSharedLog
    let devices: Device[]
    let clock: ManualClock

    beforeEach(async () => {
        shared = await COMPAT_SHARED_LOGS[logName].create()
        clock = new ManualClock()
        devices = []
        for (const name of ['laptop', 'phone']) {
            const storageManager = createMemexStorageManager('dexie')
            const setup = await setupSync({ storageManager, collections: memexSynced(), sharedLog: shared.forDevice(), now: clock.now, generateDeviceId: () => name })
            devices.push({ ...setup, storageManager })
        }
    })

    afterEach(async () => {
        for (const device of devices) {
            await closeStorageManager(device.storageManager)
        }
        await shared.cleanup()
    })

    async function syncBoth(): Promise<void> {
        for (let round = 0; round < 2; round++) {
            for (const device of devices) {
                await device.syncNow()
            }
        }
    }

    async function expectConverged(): Promise<Record<string, string[]>> {
        const [first, second] = await Promise.all(devices.map(device => memexDump(device.storageManager)))
        expect(second).toEqual(first)
        return first
    }

    it('a browsing session arrives exactly: page with screenshot bytes and full text, visits, tags, a list, annotations', async () => {
        const [laptop, phone] = devices
        const page = { ...makePage('example.com/article', seededRandom(1)), text: 'Notes on offline research: sync, research and more' }
        const db = laptop.storageManager
        await db.collection('pages').createObject(page)
        await db.collection('visits').createObject({ time: 1_700_000_000_000, url: page.url, duration: 3000, scrollMaxPerc: 87.5 })
        await db.collection('visits').createObject({ time: 1_700_000_100_000, url: page.url, duration: 120, scrollMaxPerc: 12.25 })
        await db.collection('bookmarks').createObject({ url: page.url, time: 1_700_000_000_500 })
        await db.collection('tags').createObject({ name: 'research', url: page.url })
        await db.collection('customLists').createObject({ id: 'list-1', name: 'Reading', isDeletable: true, isNestable: false, createdAt: new Date('2026-01-02T03:04:05.006Z') })
        await db.collection('pageListEntries').createObject({ listId: 'list-1', pageUrl: page.url, fullUrl: `https://${page.url}`, createdAt: new Date('2026-01-02T03:04:06.000Z') })
        await db.collection('annotations').createObject({
            url: `${page.url}#annotation-1`,
            pageTitle: 'An article',
            pageUrl: page.url,
            body: 'highlighted text',
            comment: 'worth rereading',
            selector: { quote: 'highlighted text', ranges: [{ start: 3, end: 19 }] },
            createdWhen: new Date('2026-01-02T03:05:00.000Z'),
            lastEdited: new Date('2026-01-02T03:06:00.000Z'),
        })
        await db.collection('favIcons').createObject({ hostname: 'example.com', favIcon: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 255]) })
        await syncBoth()

        const synced = await expectConverged()
        // `terms` is the receiving backend's own full-text index of the text.
        expect(synced.pages).toEqual([typedJson({ ...page, terms: ['notes', 'on', 'offline', 'research', 'sync', 'and', 'more'] })])
        const found = (await phone.storageManager.collection('pages').findObjects({ text: ['research'] })) as Array<Record<string, unknown>>
        expect(found.map(object => object.url)).toEqual([page.url])
        const [entry] = (await phone.storageManager.collection('pageListEntries').findObjects({ listId: 'list-1' })) as Array<Record<string, unknown>>
        expect(Object.prototype.toString.call(entry.createdAt)).toBe('[object Date]')
        const [icon] = (await phone.storageManager.collection('favIcons').findObjects({})) as Array<Record<string, unknown>>
        expect(Array.from(icon.favIcon as Uint8Array)).toEqual([0x89, 0x50, 0x4e, 0x47, 0, 255])
    })

    it('concurrent edits of compound-keyed and url-keyed objects converge (tags, list entries, visits, page fields)', async () => {
        const [laptop, phone] = devices
        const page = makePage('example.org/one', seededRandom(2))
        await laptop.storageManager.collection('pages').createObject(page)
        await laptop.storageManager.collection('customLists').createObject({ id: 'l', name: 'L', isDeletable: true, isNestable: true, createdAt: new Date('2026-03-01T00:00:00Z') })
        await syncBoth()

        clock.advance(1000)
        // Offline on both: the same tag added twice, different tags, the same page field edited.
        await laptop.storageManager.collection('tags').createObject({ name: 'a', url: page.url })
        await phone.storageManager.collection('tags').createObject({ name: 'b', url: page.url })
        await laptop.storageManager.collection('pages').updateObjects({ url: page.url }, { hostname: 'laptop.example.org' })
        clock.advance(1)
        await phone.storageManager.collection('pages').updateObjects({ url: page.url }, { hostname: 'phone.example.org', screenshot: new Uint8Array([9, 9, 9]) })
        await laptop.storageManager.collection('pageListEntries').createObject({ listId: 'l', pageUrl: page.url, fullUrl: 'https://example.org/one', createdAt: new Date('2026-03-02T00:00:00Z') })
        await phone.storageManager.collection('visits').createObject({ time: 1_700_000_000_000, url: page.url, duration: 1, scrollMaxPerc: 0 })
        await syncBoth()

        const synced = await expectConverged()
        expect(synced.tags).toEqual([typedJson({ name: 'a', url: page.url }), typedJson({ name: 'b', url: page.url })])
        const [merged] = (await laptop.storageManager.collection('pages').findObjects({ url: page.url })) as Array<Record<string, unknown>>
        // The later edit (phone) wins the field both changed; its screenshot bytes arrive exactly.
        expect(merged.hostname).toBe('phone.example.org')
        expect(Array.from(merged.screenshot as Uint8Array)).toEqual([9, 9, 9])

        // Removing a tag (compound key) and a list entry on one device, editing the entry on the other.
        clock.advance(1000)
        await laptop.storageManager.collection('tags').deleteObjects({ name: 'a', url: page.url })
        await phone.storageManager.collection('pageListEntries').updateObjects({ listId: 'l', pageUrl: page.url }, { fullUrl: 'https://example.org/one?edited' })
        clock.advance(1)
        await laptop.storageManager.collection('pageListEntries').deleteObjects({ listId: 'l', pageUrl: page.url })
        await syncBoth()
        const after = await expectConverged()
        expect(after.tags).toEqual([typedJson({ name: 'b', url: page.url })])
        expect(after.pageListEntries).toEqual([])
    })

    it('a deleted page stays deleted on both devices while its visits (their own collection) are kept', async () => {
        const [laptop, phone] = devices
        const page = makePage('example.net/gone', seededRandom(3))
        await laptop.storageManager.collection('pages').createObject(page)
        await syncBoth()
        clock.advance(10)
        await phone.storageManager.collection('visits').createObject({ time: 1_700_000_000_001, url: page.url, duration: 5, scrollMaxPerc: 50 })
        await laptop.storageManager.collection('pages').deleteObjects({ url: page.url })
        await syncBoth()
        const synced = await expectConverged()
        expect(synced.pages).toEqual([])
        expect(synced.visits).toHaveLength(1)
    })

    it('a Blob screenshot is refused at write time with a typed error, and nothing is stored or logged', async () => {
        const [laptop] = devices
        const before = await laptop.clientLog.countEntries()
        const page = { ...makePage('example.com/blob', seededRandom(4)), screenshot: new Blob([new Uint8Array([1, 2, 3])]) }
        await expect(laptop.storageManager.collection('pages').createObject(page)).rejects.toMatchObject({ code: 'UNSYNCABLE_VALUE' })
        expect(await laptop.storageManager.collection('pages').findObjects({})).toEqual([])
        expect(await laptop.clientLog.countEntries()).toBe(before)
    })
})
