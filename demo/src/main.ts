import { ContinuousSync, HttpLiveSource, HttpSharedSyncLog, setupSync } from 'storex-synclog'
import { byTestId } from './dom'
import { createStorageManager, Notes } from './notes'
import { NotesView } from './notes-view'
import { OfflineSwitch } from './offline-switch'
import { PairingView } from './pairing-view'
import { StatusView } from './status-view'

/**
 * The notes demo: Storex on this browser's IndexedDB, synced with `setupSync` and
 * `ContinuousSync` through the service that served the page (same origin: no CORS needed).
 * Open it as `/#pair` on a new device to fill it by initial sync before it starts syncing.
 */
async function main(): Promise<void> {
    const url = location.origin
    const link = new OfflineSwitch()
    const status = new StatusView()
    const showError = (error: unknown) => status.showError(error instanceof Error ? `${(error as { code?: string }).code ?? error.name}: ${error.message}` : String(error))

    const storageManager = createStorageManager()
    // No retries in the transport: the loop does the retrying and knows when it is offline.
    const sharedLog = new HttpSharedSyncLog({ url, fetch: link.fetch, retry: { retries: 0 } })
    const sync = await setupSync({ storageManager, collections: ['note'], sharedLog })
    const loop = new ContinuousSync({
        sync,
        live: new HttpLiveSource({ url, fetch: link.fetch }),
        // A person watching the demo should not wait a minute for the service to come back.
        backoffMaxMs: 5000,
    })

    const notes = new Notes(storageManager)
    const view = new NotesView(notes, showError)
    // Another tab of this device wrote: its list changed too (same database).
    const tabs = new BroadcastChannel(`storex-synclog-demo:${sync.deviceId}`)
    tabs.onmessage = () => void view.refresh()
    view.changed = () => {
        void view.refresh()
        tabs.postMessage('changed')
    }
    status.attach(loop)
    loop.events.on('dataChanged', () => void view.refresh())

    const toggle = byTestId<HTMLInputElement>('offline-toggle')
    toggle.addEventListener('change', () => {
        link.setOffline(toggle.checked)
        // Either way, a pass now: it fails at once while offline (the loop goes offline and
        // closes the live stream), and back online it pushes what piled up and pulls the rest.
        loop.syncNow().catch(() => undefined)
    })

    let running = false
    const startLoop = async () => {
        if (!running) {
            running = true
            await loop.start()
        }
    }
    new PairingView({
        sync,
        url,
        fetch: link.fetch,
        beforeReceive: async () => {
            running = false
            await loop.stop()
            status.showState('pairing')
        },
        after: async () => {
            await view.refresh()
            await startLoop()
        },
    })

    const showView = (name: string) => {
        for (const button of document.querySelectorAll<HTMLButtonElement>('nav button')) {
            button.setAttribute('aria-pressed', String(button.dataset.view === name))
        }
        for (const panel of document.querySelectorAll<HTMLElement>('[data-view-panel]')) {
            panel.hidden = panel.dataset.viewPanel !== name
        }
    }
    for (const button of document.querySelectorAll<HTMLButtonElement>('nav button')) {
        button.addEventListener('click', () => {
            showView(button.dataset.view ?? 'notes')
            if (button.dataset.view === 'notes') {
                void startLoop()
            }
        })
    }

    await view.refresh()
    if (location.hash === '#pair') {
        // A new device: receive everything by initial sync first, then sync continuously.
        showView('pairing')
        status.showState('pairing')
    } else {
        await startLoop()
    }
    document.body.dataset.ready = 'true'
}

main().catch(error => {
    const target = document.querySelector('[data-testid="sync-error"]') as HTMLElement | null
    if (target) {
        target.hidden = false
        target.textContent = `The demo could not start: ${error instanceof Error ? error.message : String(error)}`
    }
    console.error(error)
})
