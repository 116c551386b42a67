import { SyncError } from '../errors'

/**
 * An ordered, message-based link between two devices. Messages are JSON-serialisable values;
 * a channel delivers them in the order they were sent, each once, or closes. `messages()` ends
 * when either side closes the channel or the link is lost.
 */
export interface SyncChannel<TMessage = unknown> {
    /** Sends one message; rejects with `ChannelClosedError` once the channel is closed. */
    send(message: TMessage): Promise<void>
    /** The messages from the other side, in order. Iterate it once. */
    messages(): AsyncIterable<TMessage>
    /** Closes both directions; the other side's `messages()` ends. Idempotent. */
    close(reason?: string): Promise<void>
}

/** Sending on a closed channel. */
export class ChannelClosedError extends SyncError {
    constructor(reason = 'the channel is closed') {
        super('CHANNEL_CLOSED', `Cannot send: ${reason}`)
    }
}

/**
 * A queue of received messages that an async iterator drains: what both channel kinds deliver
 * into. Ends (after the queued messages) once `end()` is called.
 */
export class MessageQueue<TMessage> {
    private readonly items: TMessage[] = []
    private waiting: ((result: IteratorResult<TMessage>) => void) | null = null
    private ended = false

    push(message: TMessage): void {
        if (this.ended) {
            return
        }
        if (this.waiting) {
            const resolve = this.waiting
            this.waiting = null
            resolve({ value: message, done: false })
        } else {
            this.items.push(message)
        }
    }

    end(): void {
        this.ended = true
        if (this.waiting && !this.items.length) {
            const resolve = this.waiting
            this.waiting = null
            resolve({ value: undefined, done: true })
        }
    }

    get isEnded(): boolean {
        return this.ended
    }

    iterate(): AsyncIterable<TMessage> {
        return {
            [Symbol.asyncIterator]: () => ({
                next: () => {
                    if (this.items.length) {
                        return Promise.resolve({ value: this.items.shift() as TMessage, done: false })
                    }
                    if (this.ended) {
                        return Promise.resolve({ value: undefined, done: true })
                    }
                    return new Promise<IteratorResult<TMessage>>(resolve => {
                        this.waiting = resolve
                    })
                },
                return: () => {
                    this.end()
                    this.items.length = 0
                    return Promise.resolve({ value: undefined, done: true })
                },
            }),
        }
    }
}

/**
 * Two connected channels in one process (tests, demos). Each message is copied through JSON on
 * the way, so what works here is what a network channel can carry, and neither side can change
 * the other's objects.
 */
export function createMemoryChannelPair<TMessage = unknown>(): [SyncChannel<TMessage>, SyncChannel<TMessage>] {
    const queues = [new MessageQueue<TMessage>(), new MessageQueue<TMessage>()]
    let closed: string | null = null
    const close = async (reason?: string) => {
        if (closed === null) {
            closed = reason ?? 'closed'
            queues[0].end()
            queues[1].end()
        }
    }
    const side = (index: 0 | 1): SyncChannel<TMessage> => ({
        async send(message) {
            if (closed !== null) {
                throw new ChannelClosedError(closed)
            }
            const copy = JSON.parse(JSON.stringify(message)) as TMessage
            queues[1 - index].push(copy)
        },
        messages: () => queues[index].iterate(),
        close,
    })
    return [side(0), side(1)]
}
