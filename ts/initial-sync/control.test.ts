import { MemorySharedSyncLog } from '../shared-log/memory'
import { createMemoryChannelPair } from './channel'
import type { SyncChannel } from './channel'
import type { InitialSyncSummary } from './options'
import { receiveInitialSync } from './receiver'
import { sendInitialSync } from './sender'
import { InitialSyncControl } from './session'
import { bulkAddDexie, createExistingDexieDatabase, createSyncDevice, dumpDevice, tapChannel } from './test-devices'

const COUNT = 1000
const BATCH = 100

async function seeded() {
    const existing = await createExistingDexieDatabase(async plain => {
        await bulkAddDexie(plain, 'note', Array.from({ length: COUNT }, (_, index) => ({ id: `n${String(index).padStart(4, '0')}`, title: `note ${index}` })))
    })
    const sharedLog = new MemorySharedSyncLog()
    const a = await createSyncDevice({ sharedLog, name: 'a', storageManager: existing.open() })
    const b = await createSyncDevice({ sharedLog, name: 'b' })
    return { a, b }
}

const settle = () => new Promise(resolve => setTimeout(resolve, 600))
const noteCount = async (device: { storageManager: { collection(name: string): { findObjects(where: object): Promise<unknown[]> } } }) =>
    (await device.storageManager.collection('note').findObjects({})).length

async function failure(promise: Promise<unknown>): Promise<{ code?: string; by?: string }> {
    return promise.then(
        () => ({ code: 'NO_ERROR' }),
        (error: { code?: string; by?: string }) => error,
    )
}

describe('flow control', () => {
    it.each(['receiver', 'sender'])('pauses and resumes from the %s side; a paused transfer does not stall', async side => {
        const { a, b } = await seeded()
        const control = new InitialSyncControl()
        const [ca, cb] = createMemoryChannelPair()
        const done: number[] = []
        const sending = sendInitialSync({ sync: a, channel: ca, batchObjects: BATCH, stallTimeoutMs: 1000, ...(side === 'sender' ? { control } : {}) })
        const receiving = receiveInitialSync({
            sync: b,
            channel: cb,
            stallTimeoutMs: 1000,
            ...(side === 'receiver' ? { control } : {}),
            onProgress: progress => {
                done.push(progress.objectsDone)
                if (done.length === 2) {
                    control.pause()
                }
            },
        })
        await settle()
        await settle()
        // At most the batch in flight when the pause arrived is still applied, then nothing.
        const whilePaused = done.length
        expect(whilePaused).toBeLessThanOrEqual(3)
        await settle()
        expect(done.length).toBe(whilePaused)
        expect(await noteCount(b)).toBe(whilePaused * BATCH)
        control.resume()
        const [sent, received] = await Promise.all([sending, receiving])
        expect(received.objects).toBe(COUNT)
        expect(sent.batches).toBe(COUNT / BATCH)
        expect(await dumpDevice(b)).toEqual(await dumpDevice(a))
    })

    it.each(['receiver', 'sender'])('aborts from the %s side: both sides end, only whole batches stay, the next transfer starts anew', async side => {
        const { a, b } = await seeded()
        const control = new InitialSyncControl()
        const [ca, cb] = createMemoryChannelPair()
        let batches = 0
        const results = await Promise.all([
            failure(sendInitialSync({ sync: a, channel: ca, batchObjects: BATCH, ...(side === 'sender' ? { control } : {}) })),
            failure(
                receiveInitialSync({
                    sync: b,
                    channel: cb,
                    ...(side === 'receiver' ? { control } : {}),
                    onProgress: () => {
                        if (++batches === 3) {
                            control.abort('the user cancelled')
                        }
                    },
                }),
            ),
        ])
        const [senderError, receiverError] = results
        expect(senderError).toMatchObject({ code: 'INITIAL_SYNC_ABORTED', by: side === 'sender' ? 'local' : 'remote' })
        expect(receiverError).toMatchObject({ code: 'INITIAL_SYNC_ABORTED', by: side === 'receiver' ? 'local' : 'remote' })
        expect((await noteCount(b)) % BATCH).toBe(0)

        const summaries: InitialSyncSummary[] = []
        const [again1, again2] = createMemoryChannelPair()
        await Promise.all([sendInitialSync({ sync: a, channel: again1 }), receiveInitialSync({ sync: b, channel: again2, onSummary: s => summaries.push(s) })])
        expect(summaries[0]).toMatchObject({ resumed: false, objectsDone: 0 })
        expect(await dumpDevice(b)).toEqual(await dumpDevice(a))
    })

    it('aborts through an AbortSignal', async () => {
        const { a, b } = await seeded()
        const controller = new AbortController()
        const [ca, cb] = createMemoryChannelPair()
        const [senderError, receiverError] = await Promise.all([
            failure(sendInitialSync({ sync: a, channel: ca, batchObjects: BATCH, signal: controller.signal, onProgress: () => controller.abort() })),
            failure(receiveInitialSync({ sync: b, channel: cb })),
        ])
        expect(senderError).toMatchObject({ code: 'INITIAL_SYNC_ABORTED', by: 'local' })
        expect(receiverError).toMatchObject({ code: 'INITIAL_SYNC_ABORTED', by: 'remote' })
    })

    it('resumes a cut channel on a new one from the last acknowledged batch: no object twice, none missing', async () => {
        const { a, b } = await seeded()
        const carried: string[] = []
        const record = (channel: SyncChannel, cutAfter: number | null) => {
            let batches = 0
            return tapChannel(channel, message => {
                if (message.type === 'batch') {
                    if (cutAfter !== null && ++batches > cutAfter) {
                        return 'cut'
                    }
                    for (const entry of message.entries as Array<{ pk: string }>) {
                        carried.push(entry.pk)
                    }
                }
                return message
            })
        }
        const [first1, first2] = createMemoryChannelPair()
        const firstTry = await Promise.all([failure(sendInitialSync({ sync: a, channel: record(first1, 4), batchObjects: BATCH })), failure(receiveInitialSync({ sync: b, channel: first2 }))])
        expect(firstTry.map(error => error.code)).toEqual(['INITIAL_SYNC_INTERRUPTED', 'INITIAL_SYNC_INTERRUPTED'])
        expect(await noteCount(b)).toBe(4 * BATCH)

        const summaries: InitialSyncSummary[] = []
        const [second1, second2] = createMemoryChannelPair()
        const [sent, received] = await Promise.all([
            sendInitialSync({ sync: a, channel: record(second1, null), batchObjects: BATCH }),
            receiveInitialSync({ sync: b, channel: second2, onSummary: s => summaries.push(s) }),
        ])
        expect(summaries[0]).toMatchObject({ resumed: true, objectsDone: 4 * BATCH, objectsTotal: COUNT })
        expect(received).toMatchObject({ objects: COUNT, batches: COUNT / BATCH })
        expect(sent.batches).toBe(COUNT / BATCH)
        expect(carried).toHaveLength(COUNT)
        expect(new Set(carried).size).toBe(COUNT)
        expect(await dumpDevice(b)).toEqual(await dumpDevice(a))
    })

    it('times out a stalled channel with a typed error, and the transfer resumes later', async () => {
        const { a, b } = await seeded()
        const [ca, cb] = createMemoryChannelPair()
        let acks = 0
        // The receiver's acknowledgements stop arriving after the second one (the link went silent).
        const silent = tapChannel(cb, message => (message.type === 'ack' && ++acks > 2 ? null : message))
        const [senderError] = await Promise.all([
            failure(sendInitialSync({ sync: a, channel: ca, batchObjects: BATCH, stallTimeoutMs: 200 })),
            failure(receiveInitialSync({ sync: b, channel: silent, stallTimeoutMs: 5000 })),
        ])
        expect(senderError.code).toBe('INITIAL_SYNC_STALLED')
        const [again1, again2] = createMemoryChannelPair()
        const [, received] = await Promise.all([sendInitialSync({ sync: a, channel: again1, batchObjects: BATCH }), receiveInitialSync({ sync: b, channel: again2 })])
        expect(received.objects).toBe(COUNT)
        expect(await dumpDevice(b)).toEqual(await dumpDevice(a))
    })
})

describe('integrity', () => {
    const cases: Array<[string, string, (message: Record<string, unknown>, index: number) => Record<string, unknown> | null]> = [
        ['a changed value in a batch', 'INITIAL_SYNC_CHECKSUM_MISMATCH', (message, index) => {
            if (message.type === 'batch' && index === 2) {
                const entries = message.entries as Array<{ value: { title: string } }>
                entries[0].value.title = 'tampered'
            }
            return message
        }],
        ['a wrong whole-transfer checksum', 'INITIAL_SYNC_CHECKSUM_MISMATCH', message => (message.type === 'done' ? { ...message, checksum: '0'.repeat(64) } : message)],
        ['a batch out of order', 'INITIAL_SYNC_OUT_OF_ORDER', (message, index) => (message.type === 'batch' && index === 2 ? { ...message, seq: (message.seq as number) + 1 } : message)],
        ['a message of an unknown type', 'INITIAL_SYNC_UNKNOWN_MESSAGE', (message, index) => (message.type === 'batch' && index === 2 ? { ...message, type: 'surprise' } : message)],
        ['a malformed batch', 'INITIAL_SYNC_UNKNOWN_MESSAGE', (message, index) => (message.type === 'batch' && index === 2 ? { ...message, entries: 'nope' } : message)],
    ]
    it.each(cases)('rejects %s', async (_name, code, transform) => {
        const { a, b } = await seeded()
        const [ca, cb] = createMemoryChannelPair()
        let index = 0
        const tampered = tapChannel(ca, message => transform(message, message.type === 'batch' ? ++index : index))
        const [senderError, receiverError] = await Promise.all([
            failure(sendInitialSync({ sync: a, channel: tampered, batchObjects: BATCH })),
            failure(receiveInitialSync({ sync: b, channel: cb })),
        ])
        expect(receiverError.code).toBe(code)
        expect(senderError.code).toBe('INITIAL_SYNC_REMOTE_ERROR')
        expect((await noteCount(b)) % BATCH).toBe(0)
    })

    it('rejects a batch for a collection the receiver does not sync', async () => {
        const sharedLog = new MemorySharedSyncLog()
        const a = await createSyncDevice({ sharedLog, name: 'a', collections: ['note', 'localCache'] })
        const b = await createSyncDevice({ sharedLog, name: 'b', collections: ['note'] })
        await a.storageManager.collection('localCache').createObject({ text: 'private' })
        const [ca, cb] = createMemoryChannelPair()
        const [, receiverError] = await Promise.all([failure(sendInitialSync({ sync: a, channel: ca })), failure(receiveInitialSync({ sync: b, channel: cb }))])
        expect(receiverError.code).toBe('INITIAL_SYNC_UNSYNCED_COLLECTION')
        expect(await b.storageManager.collection('localCache').findObjects({})).toEqual([])
    })

    it('refuses two senders and bad options with typed errors', async () => {
        const { a, b } = await seeded()
        const [ca, cb] = createMemoryChannelPair()
        const errors = await Promise.all([failure(sendInitialSync({ sync: a, channel: ca })), failure(sendInitialSync({ sync: b, channel: cb }))])
        expect(errors.map(error => error.code)).toEqual(['INITIAL_SYNC_PROTOCOL', 'INITIAL_SYNC_PROTOCOL'])
        await expect(sendInitialSync({ sync: a, channel: ca, batchObjects: 0 })).rejects.toMatchObject({ code: 'SYNC_CONFIGURATION', option: 'batchObjects' })
    })
})
