import type { SyncLogEntry } from '../entries/types'

/** Events of a sync pass, each with counts an app can show or log. */
export interface SyncEventMap {
    /** A local write to a synced collection committed together with these new log entries. */
    logged: { entries: SyncLogEntry[] }
    /** Entries are about to be written to the shared log. */
    sending: { entries: SyncLogEntry[] }
    /** Entries arrived from the shared log (after `postReceive`). */
    received: { entries: SyncLogEntry[] }
    /** Received entries were applied: how many were new and how many writes that took. */
    reconciled: { entries: SyncLogEntry[]; operations: number }
    /** Entries were held back instead of applied (unknown collection/field, newer schema, rejected...). */
    quarantined: { entries: Array<{ entry: SyncLogEntry; code: string; reason: string }> }
    /** A sync pass failed; nothing was lost and the next pass continues. */
    error: { error: unknown }
}

type Listener<T> = (event: T) => void

/** A small typed event emitter (listeners run synchronously; one throwing does not stop others). */
export class SyncEvents {
    private readonly listeners = new Map<keyof SyncEventMap, Set<Listener<never>>>()

    on<K extends keyof SyncEventMap>(name: K, listener: Listener<SyncEventMap[K]>): () => void {
        const set = this.listeners.get(name) ?? new Set()
        set.add(listener as Listener<never>)
        this.listeners.set(name, set)
        return () => this.off(name, listener)
    }

    off<K extends keyof SyncEventMap>(name: K, listener: Listener<SyncEventMap[K]>): void {
        this.listeners.get(name)?.delete(listener as Listener<never>)
    }

    emit<K extends keyof SyncEventMap>(name: K, event: SyncEventMap[K]): void {
        for (const listener of this.listeners.get(name) ?? []) {
            try {
                ;(listener as Listener<SyncEventMap[K]>)(event)
            } catch {
                // A failing listener must not break the sync pass that notified it.
            }
        }
    }
}
