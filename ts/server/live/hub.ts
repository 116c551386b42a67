/**
 * Live notifications: which devices of which user are listening in this process, and who to
 * tell after a write committed. A notification says only "something new after seq N"; the
 * device then reads through the usual routes. The writing device is never told about its own
 * write, and a user's notifications never reach another user's devices.
 *
 * A `LiveBridge` carries notifications to the hubs of other service processes on the same
 * database (PostgreSQL LISTEN/NOTIFY, see `postgres-bridge.ts`).
 */

export interface LiveNotification {
    userId: string
    /** The highest seq the write stored. */
    seq: number
    /** The clientId (device) that wrote it; its own subscriptions are skipped. */
    writer: string
}

/** Carries notifications between service processes. */
export interface LiveBridge {
    /** Starts delivering other processes' notifications to `deliver`. */
    start(deliver: (notification: LiveNotification) => void): Promise<void>
    /** Tells the other processes (best effort: a lost hint costs latency, never data). */
    publish(notification: LiveNotification): void
    close(): Promise<void>
}

export interface LiveSubscriber {
    userId: string
    deviceId: string
    notify(seq: number): void
}

export class LiveHub {
    private readonly byUser = new Map<string, Set<LiveSubscriber>>()

    constructor(private readonly bridge: LiveBridge | null = null) {}

    async start(): Promise<void> {
        await this.bridge?.start(notification => this.deliver(notification))
    }

    /** Registers a listening device; the returned function removes it. */
    subscribe(subscriber: LiveSubscriber): () => void {
        let set = this.byUser.get(subscriber.userId)
        if (!set) {
            set = new Set()
            this.byUser.set(subscriber.userId, set)
        }
        set.add(subscriber)
        return () => {
            const current = this.byUser.get(subscriber.userId)
            current?.delete(subscriber)
            if (current?.size === 0) {
                this.byUser.delete(subscriber.userId)
            }
        }
    }

    /** A write committed in this process: tell local devices now, and the other processes. */
    published(notification: LiveNotification): void {
        this.deliver(notification)
        this.bridge?.publish(notification)
    }

    /** Tells this process's devices of the user, except the writer. */
    deliver(notification: LiveNotification): void {
        for (const subscriber of this.byUser.get(notification.userId) ?? []) {
            if (subscriber.deviceId !== notification.writer) {
                subscriber.notify(notification.seq)
            }
        }
    }

    /** How many devices listen in this process (all users). */
    get size(): number {
        let size = 0
        for (const set of this.byUser.values()) {
            size += set.size
        }
        return size
    }

    async close(): Promise<void> {
        this.byUser.clear()
        await this.bridge?.close()
    }
}
