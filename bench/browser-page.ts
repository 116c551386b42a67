/**
 * The page side of `npm run bench:browser`: bundled for the browser (esbuild, as an app bundles
 * the library) and run in headless Chromium on its real IndexedDB. Every run opens a database of
 * its own and deletes it afterwards. Timings are `performance.now()` in the page.
 */
import StorageManager from '@worldbrain/storex'
import { DexieStorageBackend } from '@worldbrain/storex-backend-dexie'
import Dexie from 'dexie'
import { HttpSharedSyncLog, MemorySharedSyncLog, setupSync } from '../ts/index'
import type { SyncSetup } from '../ts/index'
import { applyWrites } from './write-workload'
import type { Write } from './write-workload'

/**
 * Dexie turns on its debug mode (long async stack traces, an Error per promise) for pages of
 * localhost and 127.0.0.1, where this page is; a deployed app never runs in it. The bench turns it
 * off unless SYNCLOG_BENCH_DEXIE_DEBUG=1.
 */
export function setDexieDebug(on: boolean): void {
    ;(Dexie as unknown as { debug: boolean }).debug = on
}

export type { Write } from './write-workload'

export interface BenchNote {
    id: string
    title: string
    rank: number
    body: string
}

function storageManagerFor(dbName: string): StorageManager {
    const storageManager = new StorageManager({ backend: new DexieStorageBackend({ dbName }) })
    storageManager.registry.registerCollections({
        note: {
            version: new Date('2026-01-01'),
            fields: { title: { type: 'string' }, rank: { type: 'int', optional: true }, body: { type: 'text', optional: true } },
        },
    })
    return storageManager
}

/** The floor's notes carry the string keys they have under sync (auto-PK makes `id` a string). */
function plainStorageManagerFor(dbName: string): StorageManager {
    const storageManager = storageManagerFor(dbName)
    storageManager.registry.collections.note.fields.id.type = 'string'
    return storageManager
}

const devices = new Map<string, { storageManager: StorageManager; sync: SyncSetup | null }>()

async function close(dbName: string): Promise<void> {
    const device = devices.get(dbName)
    devices.delete(dbName)
    ;(device?.storageManager.backend as unknown as { dexieInstance?: { close(): void } } | undefined)?.dexieInstance?.close()
    await new Promise<void>((resolve, reject) => {
        const request = indexedDB.deleteDatabase(dbName)
        request.onsuccess = () => resolve()
        request.onerror = () => reject(request.error)
        request.onblocked = () => resolve()
    })
}

/** Runs the write workload on a fresh database, plain Storex or through setupSync; returns ms. */
export async function writePath(dbName: string, mode: 'plain' | 'sync', writes: Write[]): Promise<{ ms: number; entries: number }> {
    const storageManager = storageManagerFor(dbName)
    let sync: SyncSetup | null = null
    if (mode === 'plain') {
        await storageManager.finishInitialization()
    } else {
        sync = await setupSync({ storageManager, collections: ['note'], sharedLog: new MemorySharedSyncLog() })
    }
    devices.set(dbName, { storageManager, sync })
    const start = performance.now()
    await applyWrites(storageManager, writes)
    const ms = performance.now() - start
    const entries = sync ? await sync.clientLog.countEntries() : 0
    await close(dbName)
    return { ms, entries }
}

/** A device on the service that served the page. */
export async function openSyncDevice(dbName: string): Promise<string> {
    const storageManager = storageManagerFor(dbName)
    const sync = await setupSync({ storageManager, collections: ['note'], sharedLog: new HttpSharedSyncLog({ url: location.origin }) })
    devices.set(dbName, { storageManager, sync })
    return sync.deviceId
}

/** Writes the notes on a device (not timed: the changes to sync). */
export async function createNotes(dbName: string, notes: BenchNote[]): Promise<void> {
    const device = devices.get(dbName)
    if (!device) {
        throw new Error(`no device ${dbName}`)
    }
    for (let start = 0; start < notes.length; start += 1000) {
        await device.storageManager.operation(
            'executeBatch',
            notes.slice(start, start + 1000).map(note => ({ operation: 'createObject', collection: 'note', args: note })),
        )
    }
}

export async function push(dbName: string): Promise<{ ms: number; pushed: number }> {
    const sync = devices.get(dbName)?.sync as SyncSetup
    const start = performance.now()
    const pushed = await sync.push()
    return { ms: performance.now() - start, pushed }
}

/** `count`: also read every note afterwards to check them (not timed); off where only the pull may be measured. */
export async function pull(dbName: string, count = true): Promise<{ ms: number; pulled: number; applied: number; notes: number }> {
    const device = devices.get(dbName)
    const sync = device?.sync as SyncSetup
    const start = performance.now()
    const { pulled, applied } = await sync.pull()
    const ms = performance.now() - start
    const notes = count ? (await sync.storageManager.collection('note').findObjects({})).length : -1
    return { ms, pulled, applied, notes }
}

export async function countNotes(dbName: string): Promise<number> {
    const sync = devices.get(dbName)?.sync as SyncSetup
    return (await sync.storageManager.collection('note').findObjects({})).length
}

/** The floor: the same notes written into a fresh plain database in one transaction. */
export async function bulkFloor(dbName: string, notes: BenchNote[]): Promise<{ ms: number; notes: number }> {
    const storageManager = plainStorageManagerFor(dbName)
    await storageManager.finishInitialization()
    devices.set(dbName, { storageManager, sync: null })
    const start = performance.now()
    await storageManager.operation(
        'executeBatch',
        notes.map(note => ({ operation: 'createObject', collection: 'note', args: note })),
    )
    const ms = performance.now() - start
    const count = (await storageManager.collection('note').findObjects({})).length
    await close(dbName)
    return { ms, notes: count }
}

/**
 * Two devices in this page sharing one in-memory shared log, each with `stored` notes already
 * synced (seeded on A in batches of 1,000, pushed, pulled by B; not timed).
 */
export async function openStoredPair(nameA: string, nameB: string, stored: number): Promise<{ seedMs: number }> {
    const sharedLog = new MemorySharedSyncLog()
    const start = performance.now()
    for (const dbName of [nameA, nameB]) {
        const storageManager = storageManagerFor(dbName)
        const sync = await setupSync({ storageManager, collections: ['note'], sharedLog })
        devices.set(dbName, { storageManager, sync })
    }
    const a = devices.get(nameA)!
    for (let first = 0; first < stored; first += 1000) {
        const batch = []
        for (let index = first; index < Math.min(stored, first + 1000); index++) {
            batch.push({ operation: 'createObject', collection: 'note', args: { id: `note-${index}`, title: `note ${index}`, rank: index % 7, body: 'a body of some length for every note' } })
        }
        await a.storageManager.operation('executeBatch', batch)
        if ((first / 1000) % 10 === 9) {
            // Pushed as it goes, so A's pending store never holds the whole seed.
            await a.sync!.push()
        }
    }
    await a.sync!.push()
    await devices.get(nameB)!.sync!.pull()
    return { seedMs: performance.now() - start }
}

/** `changes` title updates on A spread over its `stored` notes (not timed), then A pushes and B pulls (timed). */
export async function syncChanges(nameA: string, nameB: string, stored: number, changes: number, round: number): Promise<{ ms: number; pushMs: number; pullMs: number; applied: number }> {
    const a = devices.get(nameA)!
    const b = devices.get(nameB)!
    for (let change = 0; change < changes; change++) {
        const index = (change * 7919 + round) % stored
        await a.storageManager.operation('updateObject', 'note', { id: `note-${index}` }, { title: `changed ${round}.${change}` })
    }
    const start = performance.now()
    await a.sync!.push()
    const pulled = performance.now()
    const { applied } = await b.sync!.pull()
    const end = performance.now()
    return { ms: end - start, pushMs: pulled - start, pullMs: end - pulled, applied }
}

export { close as closeDevice }
