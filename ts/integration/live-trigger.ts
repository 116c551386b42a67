import type { SharedLogLiveStatus, SharedLogSubscription } from '../shared-log/types'
import type { LiveSource } from './continuous-sync-options'

/** The loop's live connection: open while the loop leads and the service is reachable. */
export class LiveTrigger {
    private subscription: SharedLogSubscription | null = null
    private open = false

    constructor(
        private readonly source: LiveSource | null,
        private readonly options: { deviceId: string; onChange(): void; onStatus(status: SharedLogLiveStatus, error?: unknown): void },
    ) {}

    /** Whether announcements arrive right now (then local and remote changes can take half passes). */
    get isOpen(): boolean {
        return this.open
    }

    start(): void {
        if (this.subscription || !this.source) {
            return
        }
        this.options.onStatus('connecting')
        try {
            this.subscription = this.source.subscribe({
                deviceId: this.options.deviceId,
                onChange: () => this.options.onChange(),
                onStatus: (status, error) => {
                    this.open = status === 'open'
                    this.options.onStatus(status, error)
                },
            })
        } catch (error) {
            this.options.onStatus('failed', error)
        }
    }

    stop(): void {
        const subscription = this.subscription
        this.subscription = null
        this.open = false
        if (subscription) {
            subscription.close()
            this.options.onStatus('closed')
        }
    }
}
