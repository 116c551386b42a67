/**
 * Final errors are final (issue 10): refusals of large bodies reach `fetch` as answers, not
 * connection resets, and the client reports them typed without retrying; slow bodies time out;
 * an Ack beyond the user's last seq is refused; content types get the documented status; the
 * heavy-request cap answers 429 with Retry-After.
 */
import { connect } from 'net'
import { HttpSharedSyncLog, HttpSyncServiceError } from '../shared-log/http'
import { createSyncService } from '../server/service'
import type { SyncService } from '../server/service'
import { SqliteDocStore } from '../server/store/sqlite'
import { countingFetch } from './helpers'

async function start(limits: Parameters<typeof createSyncService>[0]['limits'] = {}): Promise<{ service: SyncService; url: string }> {
    const service = await createSyncService({ store: new SqliteDocStore({ filename: ':memory:' }), port: 0, limits })
    const { url } = await service.listen()
    return { service, url }
}

describe('final errors', () => {
    let service: SyncService
    let url: string
    beforeAll(async () => {
        // Generous timeouts here: a 4 MiB chunked upload on a loaded machine must not turn into a 408.
        // The slow-body test starts its own service with short ones.
        ;({ service, url } = await start({ bodyBytes: 64 * 1024, reconcileBodyBytes: 128 * 1024 }))
    })
    afterAll(() => service.close())

    it('answers a body far over the limit with 413 that fetch sees, with Content-Length or chunked', async () => {
        const big = Buffer.alloc(8 * 1024 * 1024, 0x20)
        const sized = await fetch(url + '/Docs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: big })
        expect(sized.status).toBe(413)
        expect((await sized.json()).error.code).toBe('BODY_TOO_LARGE')
        const stream = new ReadableStream<Uint8Array>({
            start(controller) {
                for (let index = 0; index < 64; index++) {
                    controller.enqueue(new Uint8Array(64 * 1024).fill(0x20))
                }
                controller.close()
            },
        })
        const chunked = await fetch(url + '/Reconcile', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: stream,
            duplex: 'half',
        } as RequestInit)
        expect(chunked.status).toBe(413)
        expect((await chunked.json()).error.code).toBe('BODY_TOO_LARGE')
        console.log('final errors: 413 reached fetch for an 8 MiB sized body and a 4 MiB chunked body (limits 64/128 KiB)')
    })

    it('HttpSharedSyncLog reports a 413 typed and does not retry it; an oversize body is refused unsent', async () => {
        const counting = countingFetch()
        const log = new HttpSharedSyncLog({ url, fetch: counting.fetch, retry: { retries: 5, baseDelayMs: 1 }, maxBodyBytes: 10 * 1024 * 1024 })
        const entries = [{ collection: 'note', pk: 'n1', field: null, operation: 'create' as const, value: { text: 'x'.repeat(100 * 1024) }, version: 1, deviceId: 'd1' }]
        await log.registerDevice({ deviceId: 'd1' })
        const before = counting.count()
        const failure = await log.writeEntries({ deviceId: 'd1', entries: entries as never }).catch((error: unknown) => error)
        expect(failure).toBeInstanceOf(HttpSyncServiceError)
        expect((failure as HttpSyncServiceError).status).toBe(413)
        expect((failure as HttpSyncServiceError).transient).toBe(false)
        // The SyncId's first contact (reconcile) and the one push: no retry of the 413.
        const posts = counting.paths().slice(before).filter((path) => path.startsWith('POST /Docs'))
        expect(posts).toHaveLength(1)

        const strict = new HttpSharedSyncLog({ url, fetch: counting.fetch, maxBodyBytes: 64 * 1024 })
        const sent = counting.count()
        const refused = await strict.writeEntries({ deviceId: 'd1', entries: entries as never }).catch((error: unknown) => error)
        expect((refused as HttpSyncServiceError).code).toBe('BODY_TOO_LARGE')
        expect(counting.paths().slice(sent).filter((path) => path.startsWith('POST /Docs'))).toHaveLength(0)
    })

    it('closes a connection whose body arrives too slowly, like one whose headers do', async () => {
        const slow = await start({ requestTimeoutMs: 600, headersTimeoutMs: 600 })
        const closedAfter = await new Promise<{ ms: number; answer: string }>((resolve, reject) => {
            const address = new URL(slow.url)
            const socket = connect(Number(address.port), address.hostname)
            const started = Date.now()
            let answer = ''
            let timer: NodeJS.Timeout | undefined
            socket.on('connect', () => {
                socket.write(`POST /Docs HTTP/1.1\r\nHost: ${address.host}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`)
                // A byte every 100 ms: never idle, never done.
                timer = setInterval(() => socket.write(' '), 100)
            })
            socket.on('data', (chunk) => (answer += chunk.toString('utf8')))
            socket.on('close', () => {
                clearInterval(timer)
                resolve({ ms: Date.now() - started, answer })
            })
            socket.on('error', () => undefined)
            setTimeout(() => reject(new Error('the slow body was not timed out within 10 s')), 10_000).unref()
        })
        await slow.service.close()
        expect(closedAfter.answer).toMatch(/^HTTP\/1\.1 408/)
        console.log(`final errors: slow body closed after ${closedAfter.ms} ms (requestTimeoutMs 600)`)
    })

    it('refuses text/plain with 415 and an Ack beyond the last seq with 400, answering the stored cursor', async () => {
        const plain = await fetch(url + '/Docs', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' })
        expect(plain.status).toBe(415)
        expect((await plain.json()).error.code).toBe('UNSUPPORTED_MEDIA_TYPE')
        const post = (path: string, body: unknown) =>
            fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
        await post('/Docs', { clientId: 'c', docs: [1, 2, 3, 4, 5].map((n) => ({ id: `d${n}`, clientVersion: n, data: {} })) })
        const ahead = await post('/Devices/phone/Ack', { cursor: 6 })
        expect(ahead.status).toBe(400)
        expect((await ahead.json()).error.code).toBe('CURSOR_AHEAD')
        expect((await (await post('/Devices/phone/Ack', { cursor: 5 })).json()).cursor).toBe(5)
        expect((await (await post('/Devices/phone/Ack', { cursor: 3 })).json()).cursor).toBe(5)
    })
})

describe('heavy-request cap', () => {
    it('answers 429 BUSY with Retry-After past maxHeavyRequests, before reading the body', async () => {
        const { service, url } = await start({ maxHeavyRequests: 1, heavyBodyBytes: 64 })
        try {
            // A reconcile whose body is still arriving holds the one slot.
            const address = new URL(url)
            const socket = connect(Number(address.port), address.hostname)
            await new Promise<void>((resolve) => socket.on('connect', () => resolve()))
            socket.write(`POST /Reconcile HTTP/1.1\r\nHost: ${address.host}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`)
            await new Promise((resolve) => setTimeout(resolve, 100))
            const state = JSON.stringify({ clientId: 'c', docs: [1, 2, 3].map((n) => ({ id: `d${n}`, clientVersion: n, data: { n } })) })
            const busy = await fetch(url + '/Reconcile', { method: 'POST', headers: { 'content-type': 'application/json' }, body: state })
            expect(busy.status).toBe(429)
            expect(busy.headers.get('retry-after')).toBe('1')
            expect((await busy.json()).error.code).toBe('BUSY')
            // Small requests are not heavy.
            expect((await fetch(url + '/health')).status).toBe(200)
            const small = await fetch(url + '/Reconcile', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ clientId: 'c', docs: [] }) })
            expect(small.status).toBe(200)
            socket.destroy()
            await new Promise((resolve) => setTimeout(resolve, 100))
            const free = await fetch(url + '/Reconcile', { method: 'POST', headers: { 'content-type': 'application/json' }, body: state })
            expect(free.status).toBe(200)
        } finally {
            // fetch's keep-alive connections from this sequence are not all idle to Node at close: end them.
            service.app.server.closeAllConnections()
            await service.close()
        }
    })
})
