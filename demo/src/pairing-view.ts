import { createPairing, joinPairing, openPairingChannel, receiveInitialSync, sendInitialSync } from 'storex-synclog'
import type { SyncSetup } from 'storex-synclog'
import { byTestId } from './dom'

export interface PairingHooks {
    /** This device's sync. */
    sync: SyncSetup
    /** Base URL of the service. */
    url: string
    /** The fetch the rest of the app uses (so the offline switch applies here too). */
    fetch: typeof fetch
    /** Called before the receiving side starts (the app pauses its sync loop). */
    beforeReceive(): Promise<void>
    /** Called when a transfer ended, `received` on the receiving side. */
    after(received: boolean): Promise<void>
}

/**
 * The pairing screen: the device with the notes shows a code, the new device types it; the
 * service relays an initial sync between them, with a progress bar on both ends.
 */
export class PairingView {
    private readonly code = byTestId('pairing-code')
    private readonly input = byTestId<HTMLInputElement>('pairing-input')
    private readonly progress = byTestId<HTMLProgressElement>('pairing-progress')
    private readonly status = byTestId('pairing-status')
    private busy = false

    constructor(private readonly hooks: PairingHooks) {
        byTestId('pairing-create').addEventListener('click', () => void this.share())
        byTestId<HTMLFormElement>('pairing-form').addEventListener('submit', event => {
            event.preventDefault()
            void this.join(this.input.value.trim())
        })
    }

    /** Sending side: a code to read off, then the transfer once the other device joined. */
    private async share(): Promise<void> {
        if (!this.begin()) {
            return
        }
        const { sync, url } = this.hooks
        try {
            const pairing = await createPairing({ url, fetch: this.hooks.fetch })
            this.code.textContent = pairing.code
            this.show('waiting', `Type ${pairing.code} on the other device (valid until ${new Date(pairing.expiresAt).toLocaleTimeString()}).`)
            const channel = await openPairingChannel({ url, ticket: pairing.ticket })
            const stats = await sendInitialSync({
                sync,
                channel,
                onSummary: summary => this.show('transferring', `Sending ${summary.objectsTotal} notes…`),
                onProgress: progress => this.setProgress(progress.objectsDone, progress.objectsTotal),
            })
            await channel.close()
            this.finish(`Sent ${stats.objects} notes; both devices sync continuously now.`)
            await this.hooks.after(false)
        } catch (error) {
            this.fail(error)
            await this.hooks.after(false)
        }
    }

    /** Receiving side: everything by initial sync, then continuous sync from where it ended. */
    async join(code: string): Promise<void> {
        if (!code || !this.begin()) {
            return
        }
        const { sync, url } = this.hooks
        let received = false
        try {
            await this.hooks.beforeReceive()
            const { ticket } = await joinPairing({ url, code, fetch: this.hooks.fetch })
            this.show('transferring', 'Paired; receiving…')
            const channel = await openPairingChannel({ url, ticket })
            const stats = await receiveInitialSync({
                sync,
                channel,
                onSummary: summary => {
                    this.show('transferring', `Receiving ${summary.objectsTotal} notes…`)
                    this.setProgress(summary.objectsDone, summary.objectsTotal)
                },
                onProgress: progress => this.setProgress(progress.objectsDone, progress.objectsTotal),
            })
            await channel.close()
            received = true
            this.finish(`Received ${stats.objects} notes; syncing continuously now.`)
        } catch (error) {
            this.fail(error)
        }
        await this.hooks.after(received)
    }

    private begin(): boolean {
        if (this.busy) {
            return false
        }
        this.busy = true
        this.code.textContent = ''
        this.progress.value = 0
        return true
    }

    private setProgress(done: number, total: number): void {
        this.progress.value = total > 0 ? Math.round((done / total) * 100) : 100
    }

    private finish(message: string): void {
        this.progress.value = 100
        this.code.textContent = ''
        this.show('done', message)
        this.busy = false
    }

    private fail(error: unknown): void {
        const { code, message } = error as { code?: string; message?: string }
        this.show('failed', `Pairing failed: ${code ? `${code}: ` : ''}${message ?? String(error)}`)
        this.busy = false
    }

    private show(status: string, text: string): void {
        this.status.dataset.status = status
        this.status.textContent = text
    }
}
