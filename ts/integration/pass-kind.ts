import type { SyncPassResult } from '../sync/sync-pass'
import type { SyncTrigger } from './continuous-sync-events'
import type { ContinuousSyncTarget } from './continuous-sync-options'

/**
 * What a pass does. While the live connection is open, a pass for local changes only pushes
 * (anything new on the service would have been announced) and a pass for a notification only
 * pulls (local writes bring their own pass), which halves the time a change waits behind a
 * running pass. Every other pass, and any pass without a live connection, does both.
 */
export type PassKind = 'full' | 'push' | 'pull'

export function passKindFor(trigger: SyncTrigger, liveOpen: boolean): PassKind {
    if (!liveOpen) {
        return 'full'
    }
    return trigger === 'change' ? 'push' : trigger === 'live' ? 'pull' : 'full'
}

/** The kind of one pass that does the work of both (the queued pass and a trigger coalescing into it). */
export function combinePassKinds(queued: PassKind | null, next: PassKind): PassKind {
    return queued === null || queued === next ? next : 'full'
}

/**
 * The one pass waiting behind the running one: every trigger that arrives during a pass coalesces
 * into it, keeping the first trigger (for the events) and the kind that does all they asked for.
 */
export class QueuedPass {
    private trigger: SyncTrigger | null = null
    private kind: PassKind | null = null

    add(trigger: SyncTrigger, kind: PassKind): void {
        this.trigger ??= trigger
        this.kind = combinePassKinds(this.kind, kind)
    }

    /** The queued pass, if any, and an empty queue. */
    take(): { trigger: SyncTrigger; kind: PassKind } | null {
        const taken = this.trigger === null ? null : { trigger: this.trigger, kind: this.kind ?? 'full' }
        this.clear()
        return taken
    }

    clear(): void {
        this.trigger = null
        this.kind = null
    }
}

export async function runPassOfKind(sync: ContinuousSyncTarget, kind: PassKind): Promise<SyncPassResult> {
    if (kind === 'push') {
        return { pushed: await sync.push(), pulled: 0, applied: 0 }
    }
    if (kind === 'pull') {
        return { pushed: 0, ...(await sync.pull()) }
    }
    return sync.syncNow()
}
