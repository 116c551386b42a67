import type { ContinuousSync, ContinuousSyncState } from 'storex-synclog'
import { byTestId } from './dom'

/** The header: sync state, last synced time, pending local changes, the last sync error. */
export class StatusView {
    private readonly state = byTestId('sync-state')
    private readonly lastSynced = byTestId<HTMLTimeElement>('last-synced')
    private readonly pending = byTestId('pending-changes')
    private readonly error = byTestId('sync-error')

    attach(loop: ContinuousSync): void {
        loop.events.on('stateChanged', ({ state }) => this.showState(state))
        loop.events.on('pendingChanges', ({ count }) => (this.pending.textContent = String(count)))
        loop.events.on('syncFinished', () => {
            this.showLastSynced(loop.lastSyncedAt)
            this.showError(null)
        })
        loop.events.on('dataChanged', () => this.showLastSynced(loop.lastSyncedAt))
        loop.events.on('syncError', ({ code, error, kind }) => this.showError(kind === 'offline' ? null : `${code}: ${error.message}`))
        this.showState(loop.state)
        void loop.getPendingChanges().then(count => (this.pending.textContent = String(count)))
        void loop.getLastSyncedAt().then(at => this.showLastSynced(at))
    }

    showState(state: ContinuousSyncState | 'pairing'): void {
        this.state.textContent = state
        this.state.dataset.state = state
    }

    showError(message: string | null): void {
        this.error.hidden = message === null
        this.error.textContent = message ?? ''
    }

    private showLastSynced(at: number | null): void {
        if (at === null) {
            return
        }
        const date = new Date(at)
        this.lastSynced.dateTime = date.toISOString()
        this.lastSynced.textContent = date.toLocaleTimeString()
    }
}
