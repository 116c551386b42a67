import { v4 as uuidv4 } from 'uuid'
import type { SyncLogEntry } from '../entries/types'
import type { SharedLogCursor, SharedSyncLog } from '../shared-log/types'

/**
 * storex-sync 0.1.1's shared-log API (`createDeviceId`, `writeEntries`, `getUnsyncedEntries`,
 * `updateSharedUntil`) on top of one of our shared logs, so its published `runTests` can run
 * against every log we ship. Each storex-sync entry (an opaque `data` string with its
 * timestamps) travels as one of our entries in a collection of its own; its `sharedUntil`
 * cursor maps onto our read cursor and `acknowledge`.
 */

export interface StorexSyncSharedEntry {
    id?: number
    userId: string | number
    deviceId: string | number
    createdOn: number
    sharedOn: number
    data: string
}

/** The collection name carried by façade entries (never an app collection). */
export const STOREX_SYNC_ENVELOPE = 'storexSyncSharedEntry'

interface DeviceState {
    sharedUntil: number
    /** Our log's cursor up to which every entry has `sharedOn <= sharedUntil`. */
    cursor: SharedLogCursor | null
}

export class StorexSyncSharedLogFacade {
    private readonly devices = new Map<string, DeviceState>()
    /** Storex-sync's shared entries have an auto-increment id; the façade numbers them as they are written. */
    private nextId = 1
    private written = 0

    constructor(private readonly log: SharedSyncLog) {}

    async createDeviceId(options: { userId: string | number; sharedUntil: number }): Promise<string> {
        const proposed = uuidv4()
        const { deviceId } = this.log.registerDevice ? await this.log.registerDevice({ deviceId: proposed }) : { deviceId: proposed }
        this.devices.set(deviceId, { sharedUntil: options.sharedUntil, cursor: null })
        return deviceId
    }

    async writeEntries(entries: StorexSyncSharedEntry[], options: { userId: string | number; deviceId: string }): Promise<void> {
        const ours: SyncLogEntry[] = entries.map(entry => {
            const stored = { ...entry, userId: options.userId, deviceId: options.deviceId, id: this.nextId++ }
            return {
                collection: STOREX_SYNC_ENVELOPE,
                pk: `${options.deviceId}:${++this.written}`,
                operation: 'create',
                field: null,
                value: stored,
                // The façade's write order: our logs order entries by where they were stored, not by version.
                version: Math.max(1, Math.trunc(entry.createdOn)),
                deviceId: options.deviceId,
                schemaVersion: 0,
            }
        })
        await this.log.writeEntries({ deviceId: options.deviceId, entries: ours })
    }

    async getUnsyncedEntries(options: { deviceId: string }): Promise<StorexSyncSharedEntry[]> {
        const state = this.state(options.deviceId)
        return (await this.readFrom(options.deviceId, state.cursor)).entries.filter(entry => entry.sharedOn > state.sharedUntil)
    }

    async updateSharedUntil(options: { until: number; deviceId: string }): Promise<void> {
        const state = this.state(options.deviceId)
        state.sharedUntil = options.until
        // Move our cursor past the leading run of entries the device has now seen.
        const { pages } = await this.readFrom(options.deviceId, state.cursor)
        for (const page of pages) {
            if (page.entries.some(entry => entry.sharedOn > options.until)) {
                break
            }
            if (page.cursor !== null && page.cursor !== state.cursor) {
                state.cursor = page.cursor
                await this.log.acknowledge({ deviceId: options.deviceId, cursor: page.cursor })
            }
        }
    }

    private state(deviceId: string): DeviceState {
        const state = this.devices.get(deviceId)
        if (!state) {
            throw new Error(`StorexSyncSharedLogFacade: unknown device '${deviceId}' (call createDeviceId first)`)
        }
        return state
    }

    /** Every façade entry after `cursor`, one page per entry so a cursor can stop between any two. */
    private async readFrom(deviceId: string, cursor: SharedLogCursor | null): Promise<{ entries: StorexSyncSharedEntry[]; pages: Array<{ entries: StorexSyncSharedEntry[]; cursor: SharedLogCursor | null }> }> {
        const entries: StorexSyncSharedEntry[] = []
        const pages: Array<{ entries: StorexSyncSharedEntry[]; cursor: SharedLogCursor | null }> = []
        let position = cursor
        for (;;) {
            const page = await this.log.readEntries({ deviceId, cursor: position, limit: 1 })
            const own = page.entries.filter(entry => entry.collection === STOREX_SYNC_ENVELOPE).map(entry => entry.value as StorexSyncSharedEntry)
            entries.push(...own)
            pages.push({ entries: own, cursor: page.cursor })
            if (!page.hasMore || page.cursor === position) {
                return { entries, pages }
            }
            position = page.cursor
        }
    }
}
