import { ChannelClosedError } from './channel'
import type { SyncChannel } from './channel'
import { InitialSyncAbortedError, InitialSyncError, InitialSyncInterruptedError, InitialSyncRemoteError, InitialSyncStalledError } from './errors'
import { parseMessage } from './messages'
import type { InitialSyncMessage } from './messages'

/**
 * Pause, resume and abort for a running transfer, from the app. Either side can pause: the
 * sender sends no further batch while either side has paused. Abort ends both sides.
 */
export class InitialSyncControl {
    private pausedHere = false
    private abortReason: string | null = null
    private readonly listeners = new Set<() => void>()

    /** Stops after the batch in flight, until `resume()`. */
    pause(): void {
        if (!this.pausedHere) {
            this.pausedHere = true
            this.notify()
        }
    }

    resume(): void {
        if (this.pausedHere) {
            this.pausedHere = false
            this.notify()
        }
    }

    /** Cancels the transfer on both sides; the next transfer between them starts anew. */
    abort(reason = 'cancelled'): void {
        if (this.abortReason === null) {
            this.abortReason = reason
            this.notify()
        }
    }

    get paused(): boolean {
        return this.pausedHere
    }

    get aborted(): string | null {
        return this.abortReason
    }

    /** @internal */
    subscribe(listener: () => void): () => void {
        this.listeners.add(listener)
        return () => this.listeners.delete(listener)
    }

    private notify(): void {
        for (const listener of [...this.listeners]) {
            listener()
        }
    }
}

const CONTROL_TYPES = new Set(['pause', 'resume', 'abort', 'error'])

/**
 * One side's view of a running transfer: reads and checks messages, applies the other side's
 * pause/resume/abort, forwards the local control's, and turns silence into a stall error.
 */
export class Session {
    private iterator: AsyncIterator<unknown> | null = null
    private pending: Promise<IteratorResult<unknown>> | null = null
    private stash: InitialSyncMessage | null = null
    private remotePaused = false
    private sentPause = false
    private failure: InitialSyncError | null = null
    private wake: (() => void) | null = null
    private readonly unsubscribe: () => void

    constructor(
        private readonly channel: SyncChannel,
        private readonly control: InitialSyncControl,
        private readonly stallTimeoutMs: number,
    ) {
        this.unsubscribe = control.subscribe(() => this.onControl())
    }

    get paused(): boolean {
        return this.control.paused || this.remotePaused
    }

    async start(): Promise<void> {
        this.iterator = this.channel.messages()[Symbol.asyncIterator]()
        this.onControl()
        if (this.failure) {
            throw this.failure
        }
    }

    async send(message: InitialSyncMessage): Promise<void> {
        try {
            await this.channel.send(message)
        } catch (error) {
            if (!(error instanceof ChannelClosedError)) {
                throw error
            }
            // The other side may have said why before it closed (abort, error): that is the failure.
            for (;;) {
                await this.nextEvent(null)
            }
        }
    }

    /** The next protocol message (control messages are handled here, never returned). */
    async receive(waitingFor: string): Promise<InitialSyncMessage> {
        if (this.stash) {
            const message = this.stash
            this.stash = null
            return message
        }
        for (;;) {
            const event = await this.nextEvent(this.paused ? null : this.stallTimeoutMs)
            if (event.kind === 'timeout') {
                throw new InitialSyncStalledError(this.stallTimeoutMs, waitingFor)
            }
            if (event.kind === 'message') {
                return event.message
            }
        }
    }

    /** Returns once neither side has the transfer paused, reading the other side's messages meanwhile. */
    async waitWhilePaused(): Promise<void> {
        while (this.paused) {
            const event = await this.nextEvent(null)
            if (event.kind === 'message') {
                this.stash = event.message
                return
            }
        }
        if (this.failure) {
            throw this.failure
        }
    }

    /** Ends the session: reports `error` to the other side (unless it came from there) and closes the channel. */
    async fail(error: unknown): Promise<void> {
        this.unsubscribe()
        const remote = error instanceof InitialSyncRemoteError || (error instanceof InitialSyncAbortedError && error.by === 'remote')
        if (!remote && !(error instanceof InitialSyncInterruptedError)) {
            const message: InitialSyncMessage =
                error instanceof InitialSyncAbortedError
                    ? { type: 'abort', reason: error.reason }
                    : { type: 'error', code: (error as { code?: string }).code ?? 'INTERNAL', message: (error as Error).message ?? String(error) }
            await this.channel.send(message).catch(() => undefined)
        }
        await this.channel.close(error instanceof Error ? error.message : 'failed').catch(() => undefined)
    }

    finish(): void {
        this.unsubscribe()
    }

    private onControl(): void {
        const reason = this.control.aborted
        if (reason !== null && !this.failure) {
            this.failure = new InitialSyncAbortedError('local', reason)
        } else if (this.iterator && this.control.paused !== this.sentPause) {
            this.sentPause = this.control.paused
            this.channel.send({ type: this.sentPause ? 'pause' : 'resume' }).catch(() => undefined)
        }
        this.wake?.()
    }

    /** A message, a timeout, or a change of the pause state (then the caller re-evaluates). */
    private async nextEvent(timeoutMs: number | null): Promise<{ kind: 'message'; message: InitialSyncMessage } | { kind: 'timeout' } | { kind: 'state' }> {
        if (this.failure) {
            throw this.failure
        }
        if (!this.pending) {
            this.pending = this.iterator!.next()
        }
        let timer: ReturnType<typeof setTimeout> | undefined
        const woken = new Promise<{ kind: 'state' }>(resolve => {
            this.wake = () => resolve({ kind: 'state' })
        })
        const timeout =
            timeoutMs === null
                ? null
                : new Promise<{ kind: 'timeout' }>(resolve => {
                      timer = setTimeout(() => resolve({ kind: 'timeout' }), timeoutMs)
                  })
        const arrived = this.pending.then(result => ({ kind: 'result' as const, result }))
        const event = await Promise.race([arrived, woken, ...(timeout ? [timeout] : [])])
        clearTimeout(timer)
        this.wake = null
        if (this.failure) {
            throw this.failure
        }
        if (event.kind !== 'result') {
            return event
        }
        this.pending = null
        if (event.result.done) {
            throw new InitialSyncInterruptedError()
        }
        const message = parseMessage(event.result.value)
        if (!CONTROL_TYPES.has(message.type)) {
            return { kind: 'message', message }
        }
        if (message.type === 'pause' || message.type === 'resume') {
            this.remotePaused = message.type === 'pause'
            return { kind: 'state' }
        }
        if (message.type === 'abort') {
            throw new InitialSyncAbortedError('remote', message.reason)
        }
        const remote = message as { code: string; message: string }
        throw new InitialSyncRemoteError(remote.code, remote.message)
    }
}
