/**
 * Live notifications across service processes on one PostgreSQL database, with PostgreSQL's own
 * LISTEN/NOTIFY: no broker to run. Each process keeps one dedicated connection (not a pool
 * connection: LISTEN belongs to a session) that listens on the store's channel and also sends
 * this process's notifications with `pg_notify`. PostgreSQL delivers a notification to every
 * listening session, the sender's included, so each carries the sending process's id and a
 * process skips its own (it has told its local devices already).
 *
 * When the connection drops (database restart) it is re-opened with backoff; notifications sent
 * meanwhile are lost, which costs the devices on other processes latency (their interval pass
 * or the next notification picks the change up), never data.
 */
import { randomUUID } from 'crypto'
import type { Client } from 'pg'
import type { LiveBridge, LiveNotification } from './hub'

export interface PostgresLiveBridgeOptions {
    connectionString: string
    /** The store's schema: processes of one store share a channel, other stores on the database do not. Default: 'public'. */
    schema?: string
    /** Reconnect delays: full jitter up to min(max, base * 2^n). Defaults: 200 ms, 10000 ms. */
    reconnectBaseMs?: number
    reconnectMaxMs?: number
    /** Reports connection trouble (default: ignored; the service logs it when given its logger). */
    onError?: (error: unknown) => void
}

interface Payload {
    /** sending process */
    p: string
    u: string
    s: number
    w: string
}

export class PostgresLiveBridge implements LiveBridge {
    /** A channel name is an identifier: at most 63 bytes. */
    readonly channel: string
    private readonly processId = randomUUID()
    private client: Client | null = null
    private deliver: ((notification: LiveNotification) => void) | null = null
    private closed = false
    private attempt = 0
    private reconnectTimer: ReturnType<typeof setTimeout> | null = null

    constructor(private readonly options: PostgresLiveBridgeOptions) {
        this.channel = `synclog_live:${options.schema ?? 'public'}`.slice(0, 63)
    }

    async start(deliver: (notification: LiveNotification) => void): Promise<void> {
        this.deliver = deliver
        await this.connect()
    }

    publish(notification: LiveNotification): void {
        const client = this.client
        if (!client) {
            return
        }
        const payload: Payload = { p: this.processId, u: notification.userId, s: notification.seq, w: notification.writer }
        client.query('SELECT pg_notify($1, $2)', [this.channel, JSON.stringify(payload)]).catch(error => this.options.onError?.(error))
    }

    async close(): Promise<void> {
        this.closed = true
        if (this.reconnectTimer) {
            clearTimeout(this.reconnectTimer)
        }
        const client = this.client
        this.client = null
        await client?.end().catch(() => undefined)
    }

    private async connect(): Promise<void> {
        // Named, so an operator sees in pg_stat_activity what the extra connection per process is.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { Client: PgClient } = require('pg') as typeof import('pg')
        const client = new PgClient({ connectionString: this.options.connectionString, application_name: 'synclog-live' })
        client.on('notification', message => this.onNotification(message.channel, message.payload))
        client.on('error', error => {
            this.options.onError?.(error)
            this.dropped(client)
        })
        client.on('end', () => this.dropped(client))
        await client.connect()
        await client.query(`LISTEN ${quoteIdentifier(this.channel)}`)
        if (this.closed) {
            await client.end()
            return
        }
        this.client = client
        this.attempt = 0
    }

    private dropped(client: Client): void {
        if (this.client !== client || this.closed) {
            return
        }
        this.client = null
        client.end().catch(() => undefined)
        this.scheduleReconnect()
    }

    private scheduleReconnect(): void {
        const ceiling = Math.min(this.options.reconnectMaxMs ?? 10_000, (this.options.reconnectBaseMs ?? 200) * 2 ** Math.min(this.attempt++, 20))
        this.reconnectTimer = setTimeout(() => {
            this.reconnectTimer = null
            if (!this.closed) {
                this.connect().catch(error => {
                    this.options.onError?.(error)
                    this.scheduleReconnect()
                })
            }
        }, Math.random() * ceiling)
    }

    private onNotification(channel: string, payload: string | undefined): void {
        if (channel !== this.channel || !payload || !this.deliver) {
            return
        }
        let parsed: Partial<Payload>
        try {
            parsed = JSON.parse(payload) as Partial<Payload>
        } catch {
            return
        }
        if (parsed.p === this.processId || typeof parsed.u !== 'string' || typeof parsed.s !== 'number' || typeof parsed.w !== 'string') {
            return
        }
        this.deliver({ userId: parsed.u, seq: parsed.s, writer: parsed.w })
    }
}

function quoteIdentifier(name: string): string {
    return `"${name.replace(/"/g, '""')}"`
}
