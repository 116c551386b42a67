/**
 * `GET /Live` on a real service (multi-user mode), read by the library's client
 * (`subscribeHttpLive`) and by a raw fetch: authentication, who is told (the user's other
 * devices only), the event format, keep-alives, and streams ended by closing the service.
 */
import { makeEntries } from '../../shared-log/entry-factory'
import { HttpSharedSyncLog } from '../../shared-log/http'
import { subscribeHttpLive } from '../../shared-log/http-live'
import type { SharedLogLiveStatus, SharedLogSubscription } from '../../shared-log/types'
import { waitFor } from '../../integration/continuous-sync-fakes'
import { createToken } from '../auth'
import { createSyncService } from '../service'
import type { SyncService } from '../service'
import { SqliteDocStore } from '../store/sqlite'

const services: SyncService[] = []
const subscriptions: SharedLogSubscription[] = []

afterEach(async () => {
    subscriptions.splice(0).forEach(subscription => subscription.close())
    for (const service of services.splice(0)) {
        await service.close()
    }
})

async function start(options: { keepAliveMs?: number; port?: number; store?: SqliteDocStore } = {}) {
    const store = options.store ?? new SqliteDocStore({ filename: ':memory:' })
    const service = await createSyncService({ store, port: options.port ?? 0, auth: true, live: { keepAliveMs: options.keepAliveMs } })
    services.push(service)
    const { url } = await service.listen()
    return { service, store, url }
}

interface Listener {
    changes: number
    statuses: Array<{ status: SharedLogLiveStatus; error?: unknown }>
}

function listen(url: string, deviceId: string, token?: string, extra: { reconnectBaseMs?: number } = {}): Listener {
    const listener: Listener = { changes: 0, statuses: [] }
    subscriptions.push(
        subscribeHttpLive({
            url,
            token,
            deviceId,
            reconnectBaseMs: extra.reconnectBaseMs,
            onChange: () => listener.changes++,
            onStatus: (status, error) => listener.statuses.push({ status, error }),
        }),
    )
    return listener
}

const opened = (listener: Listener) => listener.statuses.some(entry => entry.status === 'open')

it('tells the writer s other devices of the same user, never the writer or another user', async () => {
    const { store, url } = await start()
    const alice = await createToken({ store, userId: 'alice' })
    const bob = await createToken({ store, userId: 'bob' })
    const writer = listen(url, 'alice-laptop', alice)
    const phone = listen(url, 'alice-phone', alice)
    const other = listen(url, 'alice-laptop', bob) // same device id, another user
    await waitFor(() => [writer, phone, other].every(opened), 'three open streams')
    // Each got the one onChange of opening (something may have been written before).
    expect([writer.changes, phone.changes, other.changes]).toEqual([1, 1, 1])

    const log = new HttpSharedSyncLog({ url, token: alice, retry: { retries: 0 } })
    const entries = makeEntries(3, { deviceId: 'alice-laptop' })
    await log.writeEntries({ deviceId: 'alice-laptop', entries })
    await waitFor(() => phone.changes === 2, 'the phone to hear of it')
    // The same entries again are discarded by the service: nothing new, nothing announced.
    await log.writeEntries({ deviceId: 'alice-laptop', entries })
    await log.writeEntries({ deviceId: 'alice-laptop', entries: makeEntries(1, { deviceId: 'alice-laptop' }) })
    await waitFor(() => phone.changes === 3, 'the phone to hear of the second new write')
    expect(writer.changes).toBe(1)
    expect(other.changes).toBe(1)
})

it('needs the bearer token like every route, and a clientId', async () => {
    const { store, url } = await start()
    const refused = listen(url, 'd1')
    const wrong = listen(url, 'd1', 'not-a-token')
    await waitFor(() => refused.statuses.length === 2 && wrong.statuses.length === 2, 'both to give up')
    for (const listener of [refused, wrong]) {
        expect(listener.statuses.map(entry => entry.status)).toEqual(['connecting', 'failed'])
        expect(listener.statuses[1].error).toMatchObject({ code: 'UNAUTHORIZED', status: 401 })
        expect(listener.changes).toBe(0)
    }
    const token = await createToken({ store, userId: 'alice' })
    const response = await fetch(`${url}/Live`, { headers: { authorization: `Bearer ${token}` } })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ error: { code: 'VALIDATION' } })
})

it('streams `ready`, `change` with the seq, and keep-alive comments', async () => {
    const { store, url } = await start({ keepAliveMs: 20 })
    const token = await createToken({ store, userId: 'alice' })
    const controller = new AbortController()
    const response = await fetch(`${url}/Live?clientId=reader`, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const reader = response.body!.getReader()
    const decoder = new TextDecoder()
    let text = ''
    const readUntil = async (pattern: RegExp) => {
        while (!pattern.test(text)) {
            const { value, done } = await reader.read()
            if (done) {
                throw new Error(`stream ended before ${pattern}: ${text}`)
            }
            text += decoder.decode(value, { stream: true })
        }
    }
    await readUntil(/event: ready\ndata: \{"keepAliveMs":20\}\n\n/)
    const log = new HttpSharedSyncLog({ url, token, retry: { retries: 0 } })
    await log.writeEntries({ deviceId: 'writer', entries: makeEntries(2, { deviceId: 'writer' }) })
    await readUntil(/event: change\ndata: \{"seq":2\}\n\n/)
    await readUntil(/: keep-alive\n\n/)
    // The stream carries nothing but these: no documents, no ids.
    expect(text.replace(/event: ready\ndata: \{"keepAliveMs":20\}\n\n|event: change\ndata: \{"seq":\d+\}\n\n|: keep-alive\n\n/g, '')).toBe('')
    controller.abort()
})

it('closing the service ends the streams; the client re-opens when the service is back', async () => {
    const file = require('path').join(require('os').tmpdir(), `synclog-live-${process.pid}-${Date.now()}.sqlite`)
    const first = await start({ store: new SqliteDocStore({ filename: file }) })
    const token = await createToken({ store: first.store, userId: 'alice' })
    const listener = listen(first.url, 'd1', token, { reconnectBaseMs: 20 })
    await waitFor(() => opened(listener), 'open')
    await first.service.close()
    services.splice(services.indexOf(first.service), 1)
    await waitFor(() => listener.statuses.some(entry => entry.status === 'closed'), 'the stream to close')
    await start({ store: new SqliteDocStore({ filename: file }), port: Number(new URL(first.url).port) })
    await waitFor(() => listener.statuses.filter(entry => entry.status === 'open').length === 2, 're-opened')
    // Re-opening counts as a change: writes made meanwhile were not announced.
    expect(listener.changes).toBe(2)
    require('fs').rmSync(file, { force: true })
})
