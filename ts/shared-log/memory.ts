import { v4 as uuidv4 } from 'uuid'
import { compareEntryVersions, decodeEntry, encodeEntry, entryFieldKey, entryId, entryObjectKey } from '../entries'
import type { EncodedEntry } from '../entries'
import type { SyncLogEntry } from '../entries/types'
import {
    DEFAULT_READ_LIMIT,
    assertDeviceId,
    formatSequenceCursor,
    parseSequenceCursor,
    resolveReadLimit,
} from './arguments'
import type { SharedLogCursor, SharedLogReadResult, SharedLogSubscribeOptions, SharedLogSubscription, SharedSyncLog } from './types'

export interface MemorySharedSyncLogOptions {
    /**
     * Drop entries that last-write-wins never needs: an entry superseded by a newer one with the
     * same `entryFieldKey()`, and a modify older than a newer create/delete of its object.
     * Default: false (every entry is kept and delivered).
     */
    compact?: boolean
    /** Issues the id of a device registered without one. Default: a random UUID v4. */
    generateDeviceId?: () => string
    /** Page size of `readEntries` calls without a `limit`. Default: 1000. */
    defaultReadLimit?: number
}

interface StoredEntry {
    seq: number
    /** The device whose `writeEntries` call stored it; its reads skip the entry. */
    writer: string
    /**
     * Held encoded, as every other log holds entries: so a value the encoding cannot carry fails
     * here as it would elsewhere, and readers get fresh objects that share nothing with the writer.
     */
    entry: EncodedEntry
    /** Superseded under compaction; skipped by reads and swept out of `records` later. */
    dropped: boolean
}

/**
 * A shared log held in this process's memory, for tests, demos and benchmarks. Each stored
 * entry gets the next sequence number; a cursor is that number as a string.
 */
export class MemorySharedSyncLog implements SharedSyncLog {
    private readonly compact: boolean
    private readonly generateDeviceId: () => string
    private readonly defaultReadLimit: number
    /** Ascending by `seq`, so reads binary-search their start. */
    private records: StoredEntry[] = []
    private droppedCount = 0
    private lastSeq = 0
    /** Every stored entry by `entryId()`, dropped ones included, so a rewrite stays a no-op. */
    private readonly byId = new Map<string, StoredEntry>()
    /** Compaction only: the live entry per `entryFieldKey()`. */
    private readonly latest = new Map<string, StoredEntry>()
    /** Compaction only: `entryFieldKey()`s of live modifies, per object, for a newer create/delete to drop. */
    private readonly modifyKeys = new Map<string, Set<string>>()
    private readonly acknowledged = new Map<string, number | null>()
    /** Live subscribers (see `subscribe`). */
    private readonly subscribers = new Set<SharedLogSubscribeOptions>()

    constructor(options: MemorySharedSyncLogOptions = {}) {
        this.compact = options.compact ?? false
        this.generateDeviceId = options.generateDeviceId ?? uuidv4
        this.defaultReadLimit = resolveReadLimit(options.defaultReadLimit, DEFAULT_READ_LIMIT)
    }

    async registerDevice(options: { deviceId?: string } = {}): Promise<{ deviceId: string }> {
        const deviceId = options.deviceId ?? this.generateDeviceId()
        assertDeviceId(deviceId)
        if (!this.acknowledged.has(deviceId)) {
            this.acknowledged.set(deviceId, null)
        }
        return { deviceId }
    }

    async writeEntries(options: { deviceId: string; entries: SyncLogEntry[] }): Promise<void> {
        assertDeviceId(options.deviceId)
        const before = this.lastSeq
        for (const entry of options.entries) {
            this.store(entry, options.deviceId)
        }
        if (this.lastSeq !== before) {
            this.announce(options.deviceId)
        }
        if (this.droppedCount > 1000 && this.droppedCount * 2 > this.records.length) {
            this.records = this.records.filter((record) => !record.dropped)
            this.droppedCount = 0
        }
    }

    async readEntries(options: {
        deviceId: string
        cursor?: SharedLogCursor | null
        limit?: number
    }): Promise<SharedLogReadResult> {
        assertDeviceId(options.deviceId)
        const limit = resolveReadLimit(options.limit, this.defaultReadLimit)
        const acknowledged = this.acknowledged.get(options.deviceId) ?? null
        const startCursor =
            options.cursor === undefined
                ? acknowledged === null ? null : formatSequenceCursor(acknowledged)
                : options.cursor
        const after = parseSequenceCursor(startCursor, this.lastSeq)

        const found: StoredEntry[] = []
        // One more than asked for tells whether another call would return anything.
        for (let index = this.firstIndexAfter(after); index < this.records.length && found.length <= limit; index++) {
            const record = this.records[index]
            if (!record.dropped && record.writer !== options.deviceId) {
                found.push(record)
            }
        }
        const page = found.slice(0, limit)
        const hasMore = found.length > limit
        // Read to the end: the cursor passes the reader's own entries too, so the next read does
        // not walk them again (a device that is the only writer would otherwise re-read them all).
        const through = hasMore ? page[page.length - 1].seq : Math.max(after, this.lastSeq)
        return {
            entries: page.map((record) => decodeEntry(record.entry)),
            cursor: through > after ? formatSequenceCursor(through) : startCursor,
            hasMore,
        }
    }

    async acknowledge(options: { deviceId: string; cursor: SharedLogCursor }): Promise<void> {
        assertDeviceId(options.deviceId)
        this.acknowledged.set(options.deviceId, parseSequenceCursor(options.cursor, this.lastSeq))
    }

    /**
     * Live notifications within this process: every other device's `onChange` runs after a
     * write that stored something (a write that stored nothing new announces nothing). The
     * subscription is open at once (`onStatus('open')` runs before `subscribe` returns), so it
     * never misses anything and reports no reconnects.
     */
    subscribe(options: SharedLogSubscribeOptions): SharedLogSubscription {
        assertDeviceId(options.deviceId)
        const subscriber = { ...options }
        this.subscribers.add(subscriber)
        subscriber.onStatus?.('open')
        return { close: () => void this.subscribers.delete(subscriber) }
    }

    private announce(writer: string): void {
        for (const subscriber of [...this.subscribers]) {
            if (subscriber.deviceId !== writer && this.subscribers.has(subscriber)) {
                try {
                    subscriber.onChange()
                } catch {
                    // A subscriber's failure is its own; the write has succeeded.
                }
            }
        }
    }

    private store(input: SyncLogEntry, writer: string): void {
        const id = entryId(input)
        if (this.byId.has(id)) {
            return
        }
        if (this.compact && this.isSuperseded(input)) {
            return
        }
        // Encoded first: a value the encoding refuses must not use up a sequence number.
        const entry = encodeEntry(input)
        const record: StoredEntry = { seq: ++this.lastSeq, writer, entry, dropped: false }
        this.records.push(record)
        this.byId.set(id, record)
        if (this.compact) {
            this.dropSupersededBy(record)
        }
    }

    private isSuperseded(entry: SyncLogEntry): boolean {
        const same = this.latest.get(entryFieldKey(entry))
        if (same && compareEntryVersions(same.entry, entry) > 0) {
            return true
        }
        if (entry.operation !== 'modify') {
            return false
        }
        const lifecycle = this.latest.get(lifecycleKey(entry))
        return lifecycle !== undefined && compareEntryVersions(lifecycle.entry, entry) > 0
    }

    /** `record` is newer than everything live with its key (checked by `isSuperseded`). */
    private dropSupersededBy(record: StoredEntry): void {
        const entry = record.entry
        const key = entryFieldKey(entry)
        const previous = this.latest.get(key)
        if (previous) {
            this.drop(previous)
        }
        this.latest.set(key, record)
        const objectKey = entryObjectKey(entry)
        let modifies = this.modifyKeys.get(objectKey)
        if (entry.operation === 'modify') {
            if (!modifies) {
                modifies = new Set()
                this.modifyKeys.set(objectKey, modifies)
            }
            modifies.add(key)
            return
        }
        for (const modifyKey of modifies ?? []) {
            const modify = this.latest.get(modifyKey)
            // A modify of the same version belongs to the same write; only older ones are dead.
            if (modify && compareEntryVersions(modify.entry, entry) < 0) {
                this.drop(modify)
                this.latest.delete(modifyKey)
                modifies?.delete(modifyKey)
            }
        }
    }

    private drop(record: StoredEntry): void {
        record.dropped = true
        this.droppedCount++
    }

    private firstIndexAfter(seq: number): number {
        let low = 0
        let high = this.records.length
        while (low < high) {
            const middle = (low + high) >>> 1
            if (this.records[middle].seq <= seq) {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low
    }
}

function lifecycleKey(entry: SyncLogEntry): string {
    return entryFieldKey({ ...entry, operation: 'delete', field: null })
}
