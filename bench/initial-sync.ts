/**
 * Initial sync: N notes (~300 bytes each, made before sync was switched on) from device A to a
 * fresh device B, over the memory channel and over the service's WebSocket relay on loopback.
 * The floor is writing the same objects into a fresh database with plain Storex (executeBatch
 * of creates, no sync). Dexie on fake-indexeddb on both devices.
 *
 *   npx ts-node --transpile-only bench/initial-sync.ts            (100,000 notes)
 *   INITIAL_SYNC_BENCH_NOTES=10000 npx ts-node --transpile-only bench/initial-sync.ts
 */
import { fork } from 'child_process'
import WebSocket from 'ws'
import type StorageManager from '@worldbrain/storex'
import { createDexieStorageManager } from '../ts/integration/devices'
import { createMemoryChannelPair } from '../ts/initial-sync/channel'
import { createPairing, joinPairing, openPairingChannel } from '../ts/initial-sync/pairing-client'
import type { WebSocketConstructorLike } from '../ts/initial-sync/pairing-client'
import { receiveInitialSync } from '../ts/initial-sync/receiver'
import { sendInitialSync } from '../ts/initial-sync/sender'
import { bulkAddDexie, createExistingDexieDatabase, createSyncDevice } from '../ts/initial-sync/test-devices'
import { createSyncService } from '../ts/server/service'
import { SqliteDocStore } from '../ts/server/store/sqlite'
import { MemorySharedSyncLog } from '../ts/shared-log/memory'
import type { BenchTable } from './table'

const NOTES = Number(process.env.INITIAL_SYNC_BENCH_NOTES ?? 100_000)
const BODY = 'lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in'

function note(index: number): { id: string; title: string; body: string; rank: number } {
    return { id: `note-${String(index).padStart(6, '0')}`, title: `note number ${index}`, body: BODY, rank: index % 100 }
}

/** Samples the heap while `task` runs; both devices share this process, so it is their sum. */
async function withPeakHeap<T>(task: () => Promise<T>): Promise<{ result: T; peakMiB: number; baseMiB: number }> {
    global.gc?.()
    const base = process.memoryUsage().heapUsed
    let peak = base
    const timer = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().heapUsed)
    }, 20)
    try {
        const result = await task()
        peak = Math.max(peak, process.memoryUsage().heapUsed)
        return { result, peakMiB: peak / 2 ** 20, baseMiB: base / 2 ** 20 }
    } finally {
        clearInterval(timer)
    }
}

async function floor(count = NOTES): Promise<number> {
    const storageManager: StorageManager = createDexieStorageManager()
    await storageManager.finishInitialization()
    const start = performance.now()
    for (let first = 0; first < count; first += 5000) {
        const batch = Array.from({ length: Math.min(5000, count - first) }, (_, offset) => ({ operation: 'createObject', collection: 'note', args: note(first + offset) }))
        await storageManager.operation('executeBatch', batch)
    }
    return performance.now() - start
}

async function devices(count = NOTES) {
    const existing = await createExistingDexieDatabase(async plain => {
        for (let first = 0; first < count; first += 10_000) {
            await bulkAddDexie(plain, 'note', Array.from({ length: Math.min(10_000, count - first) }, (_, offset) => note(first + offset)))
        }
    })
    const sharedLog = new MemorySharedSyncLog()
    const a = await createSyncDevice({ sharedLog, name: 'a', storageManager: existing.open() })
    const b = await createSyncDevice({ sharedLog, name: 'b' })
    return { a, b }
}

async function memoryTransfer(count = NOTES) {
    const { a, b } = await devices(count)
    const pair = createMemoryChannelPair()
    const start = performance.now()
    const measured = await withPeakHeap(() => Promise.all([sendInitialSync({ sync: a, channel: pair[0] }), receiveInitialSync({ sync: b, channel: pair[1] })]))
    const ms = performance.now() - start
    const [, received] = measured.result
    if (received.objects !== count) {
        throw new Error(`B received ${received.objects} notes, expected ${NOTES}`)
    }
    return { ms, bytes: received.bytes, batches: received.batches, peakMiB: measured.peakMiB, baseMiB: measured.baseMiB }
}

/**
 * The relay path with the receiver in its own process (this file, forked with a role), as two
 * devices are: the sender and the service stay here. Each side reports its own peak heap.
 */
async function relayTransfer() {
    const { a } = await devices()
    const service = await createSyncService({ store: new SqliteDocStore({ filename: ':memory:' }), port: 0, live: false })
    const { url } = await service.listen()
    const pairing = await createPairing({ url })
    const host = await openPairingChannel({ url, ticket: pairing.ticket, WebSocket: WebSocket as unknown as WebSocketConstructorLike })
    const child = fork(__filename, [], { execArgv: ['-r', 'ts-node/register/transpile-only'], env: { ...process.env, INITIAL_SYNC_BENCH_ROLE: 'receiver', INITIAL_SYNC_BENCH_URL: url, INITIAL_SYNC_BENCH_CODE: pairing.code } })
    const childResult = new Promise<{ objects: number; peakMiB: number; baseMiB: number }>((resolve, reject) => {
        child.once('message', message => resolve(message as { objects: number; peakMiB: number; baseMiB: number }))
        child.once('exit', code => reject(new Error(`receiver process exited with ${code}`)))
    })
    await host.peerJoined
    const start = performance.now()
    const measured = await withPeakHeap(() => sendInitialSync({ sync: a, channel: host, handOff: false }))
    const ms = performance.now() - start
    const received = await childResult
    await host.close()
    await service.close()
    if (received.objects !== NOTES) {
        throw new Error(`B received ${received.objects} notes, expected ${NOTES}`)
    }
    return { ms, bytes: measured.result.bytes, batches: measured.result.batches, sender: measured, receiver: received }
}

/** The forked receiver: a fresh device B that joins with the code and receives. */
async function receiverProcess(): Promise<void> {
    const url = process.env.INITIAL_SYNC_BENCH_URL as string
    const b = await createSyncDevice({ sharedLog: new MemorySharedSyncLog(), name: 'b' })
    const { ticket } = await joinPairing({ url, code: process.env.INITIAL_SYNC_BENCH_CODE as string })
    const channel = await openPairingChannel({ url, ticket, WebSocket: WebSocket as unknown as WebSocketConstructorLike })
    const measured = await withPeakHeap(() => receiveInitialSync({ sync: b, channel }))
    process.send?.({ objects: measured.result.objects, peakMiB: measured.peakMiB, baseMiB: measured.baseMiB })
    process.exit(0)
}

export async function run(): Promise<BenchTable[]> {
    // Warm-up (JIT) of both paths on a small database, so neither side of the ratio runs cold.
    await floor(2000)
    await memoryTransfer(2000)
    const floors = [await floor(), await floor(), await floor()].sort((x, y) => x - y)
    const floorMs = floors[1]
    const memory = await memoryTransfer()
    const relay = await relayTransfer()
    const heap = (side: { peakMiB: number; baseMiB: number }) => `+${Math.round(side.peakMiB - side.baseMiB)} (${Math.round(side.peakMiB)})`
    const row = (label: string, ms: number, sender: string, receiver: string) => [label, NOTES, Math.round(ms), Math.round((NOTES / ms) * 1000), ms / floorMs, sender, receiver]
    return [
        {
            title: `Initial sync: ${NOTES.toLocaleString('en-US')} notes (~300 bytes) from A to a fresh B (Dexie on fake-indexeddb)`,
            columns: ['path', 'objects', 'ms', 'objects/s', '× floor', 'sender heap MiB: growth (peak)', 'receiver heap MiB: growth (peak)'],
            rows: [
                row('floor: B writes the notes with plain Storex (executeBatch; median of 3)', floorMs, '', ''),
                row('memory channel (both devices in one process)', memory.ms, heap(memory), 'same process'),
                row('WebSocket relay (service on loopback; receiver in its own process)', relay.ms, heap(relay.sender), heap(relay.receiver)),
            ],
            notes: [
                `Batches of 500 objects / 1 MiB (${memory.batches} batches, ${(memory.bytes / 2 ** 20).toFixed(1)} MiB of entries), each acknowledged before the next; the notes were made before sync was switched on, so they travel as version-0 creates.`,
                'Heap growth includes the databases themselves: fake-indexeddb keeps every object and log entry in the heap (the receiver stores each object and its entry; the sender adds the version-0 creates to its log), so it grows with the object count even though each side holds at most two batches of the transfer at once.',
                `Targets: memory channel within 1.5× the floor (${memory.ms <= 1.5 * floorMs ? 'met' : 'missed'}: ${(memory.ms / floorMs).toFixed(2)}×), WebSocket within 2× (${relay.ms <= 2 * floorMs ? 'met' : 'missed'}: ${(relay.ms / floorMs).toFixed(2)}×).`,
            ],
        },
    ]
}

if (require.main === module && process.env.INITIAL_SYNC_BENCH_ROLE === 'receiver') {
    receiverProcess().catch(error => {
        console.error(error)
        process.exit(1)
    })
} else if (require.main === module) {
    run().then(
        tables => import('./table').then(({ formatTable }) => tables.forEach(table => console.log(formatTable(table) + '\n'))),
        error => {
            console.error(error)
            process.exit(1)
        },
    )
}
