/**
 * The live client's own rules, with its fetch and timers injected: event parsing across chunk
 * boundaries, reconnect backoff, giving up on final answers, and the silence watchdog. (Against
 * the real service: ts/server/live/live.test.ts.)
 */
import { FakeClock, waitFor } from '../integration/continuous-sync-fakes'
import { subscribeHttpLive } from './http-live'
import type { SharedLogLiveStatus, SharedLogSubscription } from './types'

interface Stream {
    push(text: string): void
    end(): void
}

/** A fetch whose answers the test scripts: a status, or a stream the test writes to. */
function scriptedFetch(answers: Array<number | 'stream'>) {
    const streams: Stream[] = []
    const requests: Array<{ url: string; headers: Record<string, string> }> = []
    const fetch: typeof globalThis.fetch = (async (input: string, init: RequestInit) => {
        requests.push({ url: String(input), headers: init.headers as Record<string, string> })
        const answer = answers.shift() ?? 503
        if (answer !== 'stream') {
            return new Response(JSON.stringify({ error: { code: answer === 401 ? 'UNAUTHORIZED' : `HTTP_${answer}`, message: 'scripted' } }), { status: answer })
        }
        const encoder = new TextEncoder()
        let controller!: ReadableStreamDefaultController<Uint8Array>
        const body = new ReadableStream<Uint8Array>({ start: c => void (controller = c) })
        init.signal?.addEventListener('abort', () => controller.error(new Error('aborted')))
        streams.push({ push: text => controller.enqueue(encoder.encode(text)), end: () => controller.close() })
        return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } })
    }) as unknown as typeof globalThis.fetch
    return { fetch, streams, requests }
}

const subscriptions: SharedLogSubscription[] = []
afterEach(() => subscriptions.splice(0).forEach(subscription => subscription.close()))

function subscribe(fetch: typeof globalThis.fetch, clock: FakeClock, random = () => 0.5) {
    const seen = { changes: 0, statuses: [] as SharedLogLiveStatus[] }
    subscriptions.push(
        subscribeHttpLive({
            url: 'http://sync.test/',
            token: 'tok',
            fetch,
            timers: clock,
            random,
            deviceId: 'device/1',
            onChange: () => seen.changes++,
            onStatus: status => seen.statuses.push(status),
        }),
    )
    return seen
}

it('sends the token as a header, never in the URL, and parses events split across chunks', async () => {
    const clock = new FakeClock()
    const { fetch, streams, requests } = scriptedFetch(['stream'])
    const seen = subscribe(fetch, clock)
    await waitFor(() => streams.length === 1 && seen.statuses.includes('open'), 'the stream to open')
    expect(requests[0].url).toBe('http://sync.test/Live?clientId=device%2F1')
    expect(requests[0].headers.authorization).toBe('Bearer tok')
    expect(seen.changes).toBe(1) // opening counts as a change
    streams[0].push('event: ready\ndata: {"keepAliveMs":1000}\n\nevent: cha')
    streams[0].push('nge\ndata: {"seq":7}\n\n: keep-alive\n\nevent: change\r\ndata: {"seq":8}\r\n\r\n')
    await waitFor(() => seen.changes === 3, 'two changes')
})

it('re-opens a dropped stream with full-jitter backoff that resets once open', async () => {
    const clock = new FakeClock()
    const { fetch, streams, requests } = scriptedFetch(['stream', 503, 502, 'stream'])
    const seen = subscribe(fetch, clock)
    await waitFor(() => streams.length === 1, 'the first stream')
    streams[0].end()
    await waitFor(() => clock.delays().length === 1, 'a reconnect timer')
    expect(clock.delays()).toEqual([250]) // 0.5 * 500
    await clock.advance(250)
    await waitFor(() => requests.length === 2 && clock.delays().length === 1, 'the 503 and the next timer')
    expect(clock.delays()).toEqual([500])
    await clock.advance(500)
    await waitFor(() => requests.length === 3 && clock.delays().length === 1, 'the 502 and the next timer')
    expect(clock.delays()).toEqual([1000])
    await clock.advance(1000)
    await waitFor(() => streams.length === 2, 'the stream to re-open')
    expect(seen.statuses).toEqual(['connecting', 'open', 'closed', 'connecting', 'closed', 'connecting', 'closed', 'connecting', 'open'])
    expect(seen.changes).toBe(2)
    streams[1].end()
    await waitFor(() => clock.delays().length === 1, 'a reconnect timer')
    expect(clock.delays()).toEqual([250])
})

it('gives up on answers that retrying cannot fix', async () => {
    const clock = new FakeClock()
    const { fetch, requests } = scriptedFetch([401])
    const seen = subscribe(fetch, clock)
    await waitFor(() => seen.statuses.includes('failed'), 'failed')
    await clock.advance(60_000)
    expect(requests).toHaveLength(1)
    expect(seen.statuses).toEqual(['connecting', 'failed'])
})

it('a stream silent for twice the keep-alive period plus 5 s is re-opened', async () => {
    const clock = new FakeClock()
    const { fetch, streams } = scriptedFetch(['stream', 'stream'])
    const seen = subscribe(fetch, clock)
    await waitFor(() => streams.length === 1, 'the stream')
    streams[0].push('event: ready\ndata: {"keepAliveMs":1000}\n\n')
    await waitFor(() => clock.delays().includes(7000), 'the watchdog')
    await clock.advance(6000)
    streams[0].push(': keep-alive\n\n') // resets the watchdog
    await waitFor(() => clock.delays().includes(7000), 'the watchdog re-armed')
    await clock.advance(6999)
    expect(seen.statuses).toEqual(['connecting', 'open'])
    await clock.advance(1)
    await waitFor(() => seen.statuses.includes('closed'), 'the silent stream to be dropped')
    await clock.advance(250)
    await waitFor(() => streams.length === 2, 'a new stream')
})
