import { SyncConfigurationError, SyncError } from '../errors'
import { ChannelClosedError, MessageQueue } from './channel'
import type { SyncChannel } from './channel'

/**
 * The client side of the service's pairing relay (browser-safe: `fetch` and the platform
 * `WebSocket`, or an injected one such as the `ws` package's on Node 20). One device asks for a
 * short code and shows it; the other joins with it. Each then opens its socket with a
 * single-use ticket (never the long-lived token, which a browser could only put in the URL),
 * and the service relays messages between exactly those two sockets.
 */

/** The service refused a pairing request (wrong, expired, used or another user's code; rate limit). */
export class PairingError extends SyncError {
    constructor(code: string, message: string, readonly status: number) {
        super(code, message)
    }
}

export interface PairingServiceOptions {
    /** Base URL of the sync service, e.g. http://127.0.0.1:8787. */
    url: string
    /** Bearer token, when the service runs with `--auth`. Default: none. */
    token?: string
    /** fetch implementation. Default: the global fetch. */
    fetch?: typeof fetch
}

export interface Pairing {
    /** What the user reads off this device and types on the other (6–8 characters). */
    code: string
    /** ISO time after which the code is refused. */
    expiresAt: string
    /** Single-use ticket for this device's socket (`openPairingChannel`). */
    ticket: string
}

/** `POST /Pairing`: a new code for this user, and this device's ticket. */
export function createPairing(options: PairingServiceOptions): Promise<Pairing> {
    return post<Pairing>(options, '/Pairing', {})
}

/** `POST /Pairing/Join`: claims the other device's code (once) and returns this device's ticket. */
export function joinPairing(options: PairingServiceOptions & { code: string }): Promise<{ ticket: string }> {
    return post<{ ticket: string }>(options, '/Pairing/Join', { code: options.code })
}

async function post<T>(options: PairingServiceOptions, path: string, body: object): Promise<T> {
    const doFetch = options.fetch ?? (globalThis as { fetch?: typeof fetch }).fetch
    if (typeof doFetch !== 'function') {
        throw new SyncConfigurationError("pairing: option 'fetch' is required where no global fetch exists", { option: 'fetch' })
    }
    const response = await doFetch(options.url.replace(/\/+$/, '') + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
        body: JSON.stringify(body),
    })
    const text = await response.text()
    let parsed: unknown = null
    try {
        parsed = text ? JSON.parse(text) : null
    } catch {
        parsed = null
    }
    if (!response.ok) {
        const error = (parsed as { error?: { code?: string; message?: string } } | null)?.error
        throw new PairingError(error?.code ?? 'PAIRING_FAILED', error?.message ?? `HTTP ${response.status}`, response.status)
    }
    return parsed as T
}

/** The part of the WebSocket API the channel uses (the browser's, Node ≥ 22's and `ws`'s). */
export interface WebSocketLike {
    readonly readyState: number
    send(data: string): void
    close(code?: number, reason?: string): void
    addEventListener(type: 'open' | 'close' | 'error', listener: () => void): void
    addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void
}

export type WebSocketConstructorLike = new (url: string) => WebSocketLike

export interface OpenPairingChannelOptions {
    /** Base URL of the sync service (http or https; the socket uses ws or wss). */
    url: string
    /** The ticket from `createPairing` or `joinPairing`. */
    ticket: string
    /** WebSocket class. Default: the global `WebSocket` (browsers, Node ≥ 22); pass `ws`'s on Node 20. */
    WebSocket?: WebSocketConstructorLike
    /** Fails if the socket is not open after this long. Default: 10000 ms. */
    connectTimeoutMs?: number
}

/** A relayed channel; `peerJoined` resolves once the other device's socket is connected too. */
export interface PairingChannel<TMessage = unknown> extends SyncChannel<TMessage> {
    readonly peerJoined: Promise<void>
}

/** The frame the relay sends each socket once both are connected; every frame after it is the peer's. */
export const PAIRED_FRAME = '{"relay":"paired"}'

/**
 * Opens this device's socket to the relay. Messages sent before the other device joined wait on
 * this side (the service holds no payload); `messages()` ends when either side leaves.
 */
export async function openPairingChannel<TMessage = unknown>(options: OpenPairingChannelOptions): Promise<PairingChannel<TMessage>> {
    const Socket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructorLike }).WebSocket
    if (typeof Socket !== 'function') {
        throw new SyncConfigurationError("openPairingChannel: option 'WebSocket' is required where no global WebSocket exists (Node 20: pass the ws package's)", { option: 'WebSocket' })
    }
    if (typeof options.ticket !== 'string' || !options.ticket) {
        throw new SyncConfigurationError("openPairingChannel: option 'ticket' must be the ticket from createPairing or joinPairing", { option: 'ticket' })
    }
    const base = options.url.replace(/\/+$/, '').replace(/^http/, 'ws')
    const socket = new Socket(`${base}/Pairing/Socket?ticket=${encodeURIComponent(options.ticket)}`)
    const queue = new MessageQueue<TMessage>()
    const outbox: string[] = []
    let paired = false
    let closed: string | null = null
    let markPaired: () => void = () => {}
    let failPairing: (error: Error) => void = () => {}
    const peerJoined = new Promise<void>((resolve, reject) => {
        markPaired = resolve
        failPairing = reject
    })
    peerJoined.catch(() => undefined)

    const end = (reason: string) => {
        if (closed === null) {
            closed = reason
            queue.end()
            failPairing(new ChannelClosedError(reason))
        }
    }
    socket.addEventListener('close', () => end('the relay closed the socket'))
    socket.addEventListener('error', () => end('the relay socket failed'))
    socket.addEventListener('message', event => {
        const text = typeof event.data === 'string' ? event.data : String(event.data)
        if (!paired) {
            if (text === PAIRED_FRAME) {
                paired = true
                markPaired()
                for (const frame of outbox.splice(0)) {
                    socket.send(frame)
                }
            }
            return
        }
        try {
            queue.push(JSON.parse(text) as TMessage)
        } catch {
            // A frame that is not JSON: end the channel rather than deliver something else.
            socket.close(4002, 'not JSON')
            end('the peer sent a frame that is not JSON')
        }
    })
    // Awaited only now that every listener is in place: the relay's first frame can arrive in
    // the same tick as the open event.
    await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new PairingError('PAIRING_CONNECT_TIMEOUT', 'The relay socket did not open in time', 0)), options.connectTimeoutMs ?? 10_000)
        socket.addEventListener('open', () => {
            clearTimeout(timer)
            resolve()
        })
        socket.addEventListener('error', () => {
            clearTimeout(timer)
            reject(new PairingError('PAIRING_REFUSED', 'The relay refused the socket (unknown, used or expired ticket)', 0))
        })
    })
    return {
        peerJoined,
        async send(message) {
            if (closed !== null) {
                throw new ChannelClosedError(closed)
            }
            const frame = JSON.stringify(message)
            if (paired) {
                socket.send(frame)
            } else {
                outbox.push(frame)
            }
        },
        messages: () => queue.iterate(),
        async close(reason) {
            end(reason ?? 'closed')
            socket.close(1000, (reason ?? 'closed').slice(0, 100))
        },
    }
}
