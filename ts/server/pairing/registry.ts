import { randomBytes } from 'crypto'
import type { WebSocket } from 'ws'
import { HttpError } from '../errors'

/**
 * Pairing codes, tickets and relayed socket pairs, in this process's memory only: a code lives
 * for minutes, and the relay never stores what it forwards. (With several service processes
 * behind one address, both devices of a pairing must reach the same process.)
 */

/** 32 characters without 0/O and 1/I, which people misread. */
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'
export const CODE_LENGTH = 8
export const CODE_PATTERN = `^[${ALPHABET}]{${CODE_LENGTH}}$`

export interface PairingLimits {
    /** How long a code can be joined. Default: 5 minutes. */
    codeTtlMs: number
    /** How long a socket ticket can be used. Default: 60 s. */
    ticketTtlMs: number
    /** Failed joins allowed per user and address in `failureWindowMs` (then 429). Default: 10. */
    maxFailures: number
    /** Default: 1 minute. */
    failureWindowMs: number
    /** Largest relayed message. Default: 16 MiB. */
    maxMessageBytes: number
}

export const DEFAULT_PAIRING_LIMITS: PairingLimits = {
    codeTtlMs: 5 * 60_000,
    ticketTtlMs: 60_000,
    maxFailures: 10,
    failureWindowMs: 60_000,
    maxMessageBytes: 16 * 1024 * 1024,
}

export type PairingRole = 'host' | 'guest'

interface PairingSession {
    code: string
    userId: string
    expiresAt: number
    joined: boolean
    sockets: Partial<Record<PairingRole, WebSocket>>
    relaying: boolean
}

interface Ticket {
    session: PairingSession
    role: PairingRole
    expiresAt: number
}

export class PairingRegistry {
    private readonly sessions = new Map<string, PairingSession>()
    private readonly tickets = new Map<string, Ticket>()
    private readonly failures = new Map<string, number[]>()

    constructor(
        readonly limits: PairingLimits,
        private readonly now: () => number,
    ) {}

    create(userId: string): { code: string; expiresAt: string; ticket: string } {
        this.sweep()
        let code = newCode()
        while (this.sessions.has(code)) {
            code = newCode()
        }
        const session: PairingSession = { code, userId, expiresAt: this.now() + this.limits.codeTtlMs, joined: false, sockets: {}, relaying: false }
        this.sessions.set(code, session)
        return { code, expiresAt: new Date(session.expiresAt).toISOString(), ticket: this.issueTicket(session, 'host') }
    }

    /** Claims a code once, for the same user; every refusal counts towards the rate limit. */
    join(userId: string, code: string, requester: string): { ticket: string } {
        this.sweep()
        const key = `${userId}\n${requester}`
        const now = this.now()
        const recent = (this.failures.get(key) ?? []).filter(at => at > now - this.limits.failureWindowMs)
        if (recent.length >= this.limits.maxFailures) {
            throw new HttpError(429, 'RATE_LIMITED', 'Too many failed pairing attempts; wait a minute')
        }
        const session = this.sessions.get(code)
        const refuse = (error: HttpError): never => {
            recent.push(now)
            this.failures.set(key, recent)
            throw error
        }
        if (!session || session.userId !== userId) {
            // Another user's code is answered like a wrong one: it tells nothing about other users.
            return refuse(new HttpError(404, 'PAIRING_CODE_UNKNOWN', 'No such pairing code'))
        }
        if (session.joined) {
            return refuse(new HttpError(409, 'PAIRING_CODE_USED', 'This pairing code was already used'))
        }
        if (session.expiresAt <= now) {
            return refuse(new HttpError(410, 'PAIRING_CODE_EXPIRED', 'This pairing code has expired'))
        }
        session.joined = true
        return { ticket: this.issueTicket(session, 'guest') }
    }

    /** The session and role a socket ticket opens, once. */
    claimTicket(ticket: string): { session: PairingSession; role: PairingRole } | null {
        const found = this.tickets.get(ticket)
        this.tickets.delete(ticket)
        if (!found || found.expiresAt <= this.now() || found.session.sockets[found.role]) {
            return null
        }
        return { session: found.session, role: found.role }
    }

    /** Attaches a socket; once both are there, relays between exactly those two. */
    attach(session: PairingSession, role: PairingRole, socket: WebSocket, pairedFrame: string): void {
        session.sockets[role] = socket
        const other = (r: PairingRole) => session.sockets[r === 'host' ? 'guest' : 'host']
        socket.on('message', (data, isBinary) => {
            const peer = other(role)
            if (!session.relaying || !peer) {
                socket.close(4003, 'the other device has not joined yet')
                return
            }
            peer.send(data, { binary: isBinary })
        })
        socket.on('close', () => {
            delete session.sockets[role]
            if (session.joined) {
                this.sessions.delete(session.code)
            } else {
                // The asking device left before anyone joined: its code is over (answered as expired).
                session.expiresAt = Math.min(session.expiresAt, this.now())
            }
            const peer = other(role)
            if (peer) {
                peer.close(4001, 'the other device left')
            }
        })
        socket.on('error', () => socket.terminate())
        const host = session.sockets.host
        const guest = session.sockets.guest
        if (host && guest) {
            session.relaying = true
            host.send(pairedFrame)
            guest.send(pairedFrame)
        }
    }

    closeAll(): void {
        for (const session of this.sessions.values()) {
            for (const socket of Object.values(session.sockets)) {
                socket?.terminate()
            }
        }
        this.sessions.clear()
        this.tickets.clear()
    }

    private issueTicket(session: PairingSession, role: PairingRole): string {
        const ticket = randomBytes(24).toString('base64url')
        this.tickets.set(ticket, { session, role, expiresAt: this.now() + this.limits.ticketTtlMs })
        return ticket
    }

    /** Forgets codes long expired (kept a while to answer "expired" rather than "unknown") and unused tickets. */
    private sweep(): void {
        const now = this.now()
        for (const [code, session] of this.sessions) {
            if (!session.joined && session.expiresAt <= now && session.sockets.host) {
                // Nobody joined in time: the waiting device learns it instead of waiting forever.
                session.sockets.host.close(4004, 'the pairing code expired')
            }
            if (session.expiresAt + 10 * 60_000 < now && !session.sockets.host && !session.sockets.guest) {
                this.sessions.delete(code)
            }
        }
        for (const [ticket, entry] of this.tickets) {
            if (entry.expiresAt <= now) {
                this.tickets.delete(ticket)
            }
        }
        for (const [key, times] of this.failures) {
            if (!times.some(at => at > now - this.limits.failureWindowMs)) {
                this.failures.delete(key)
            }
        }
    }
}

function newCode(): string {
    const bytes = randomBytes(CODE_LENGTH)
    let code = ''
    for (const byte of bytes) {
        code += ALPHABET[byte & 31]
    }
    return code
}
