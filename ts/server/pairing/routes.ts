import type { IncomingMessage } from 'http'
import type { Duplex } from 'stream'
import type { FastifyInstance } from 'fastify'
import { PAIRED_FRAME } from '../../initial-sync/pairing-client'
import { HttpError } from '../errors'
import { CODE_PATTERN, DEFAULT_PAIRING_LIMITS, PairingRegistry } from './registry'
import type { PairingLimits } from './registry'

export const PAIRING_SOCKET_PATH = '/Pairing/Socket'

export interface PairingRouteOptions {
    /** Server clock. Default: Date.now. */
    now?: () => number
    /** Missing fields take `DEFAULT_PAIRING_LIMITS`. */
    limits?: Partial<PairingLimits>
}

/**
 * `POST /Pairing`, `POST /Pairing/Join` and the relay socket `GET /Pairing/Socket?ticket=…`
 * (a WebSocket upgrade). The socket is opened with a single-use ticket from one of the two
 * POSTs, which carry the user's bearer token, since a browser cannot set headers on a socket.
 */
export function registerPairingRoutes(app: FastifyInstance, options: PairingRouteOptions = {}): PairingRegistry {
    const registry = new PairingRegistry({ ...DEFAULT_PAIRING_LIMITS, ...options.limits }, options.now ?? Date.now)
    const ws = loadWs()
    if (!ws) {
        // `ws` is an optional peer dependency: the service runs without it, and says why pairing does not.
        const unavailable = async () => {
            throw new HttpError(501, 'PAIRING_UNAVAILABLE', 'The pairing relay needs the ws package on the service: npm install ws')
        }
        app.post('/Pairing', unavailable)
        app.post('/Pairing/Join', unavailable)
        return registry
    }
    const sockets = new ws.WebSocketServer({ noServer: true, maxPayload: registry.limits.maxMessageBytes })

    app.post('/Pairing', { schema: { body: { type: 'object', additionalProperties: false, properties: {} } } }, async request => registry.create(request.userId))
    app.post<{ Body: { code: string } }>(
        '/Pairing/Join',
        {
            schema: {
                body: { type: 'object', additionalProperties: false, required: ['code'], properties: { code: { type: 'string', pattern: CODE_PATTERN } } },
            },
        },
        async request => registry.join(request.userId, request.body.code, request.ip),
    )

    const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
        const url = new URL(request.url ?? '/', 'http://localhost')
        if (url.pathname !== PAIRING_SOCKET_PATH) {
            // Another part of the service may take upgrades on other paths; alone, refuse them.
            if (app.server.listenerCount('upgrade') === 1) {
                refuse(socket, 404, 'NOT_FOUND', `No WebSocket endpoint at ${url.pathname}`)
            }
            return
        }
        const claimed = registry.claimTicket(url.searchParams.get('ticket') ?? '')
        if (!claimed) {
            refuse(socket, 401, 'PAIRING_TICKET_INVALID', 'Unknown, used or expired pairing ticket')
            return
        }
        sockets.handleUpgrade(request, socket, head, ws => registry.attach(claimed.session, claimed.role, ws, PAIRED_FRAME))
    }
    app.server.on('upgrade', onUpgrade)
    app.addHook('preClose', async () => {
        app.server.off('upgrade', onUpgrade)
        registry.closeAll()
        await new Promise<void>(resolve => sockets.close(() => resolve()))
    })
    return registry
}

function refuse(socket: Duplex, status: number, code: string, message: string): void {
    const body = JSON.stringify({ error: { code, message } })
    const reason = status === 401 ? 'Unauthorized' : 'Not Found'
    socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
}

function loadWs(): typeof import('ws') | null {
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        return require('ws') as typeof import('ws')
    } catch (error) {
        if ((error as { code?: string }).code === 'MODULE_NOT_FOUND') {
            return null
        }
        throw error
    }
}
