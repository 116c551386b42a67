import { compareEntryVersions, decodeValue, encodeEntry, entryFieldKey, InvalidEncodedValueError } from '../entries'
import type { EncodedEntry } from '../entries'
import type { SyncLogEntry } from '../entries/types'
import { InvalidSharedLogArgumentError } from './arguments'
import type { SharedLogCursor } from './types'

/** How `HttpSharedSyncLog` maps entries to service documents, and its cursors to positions. */

/** A position: after `seq` under `syncId`; with `batch`, at `offset` inside that reconciliation batch (which ends at `seq`). */
export interface Position {
    syncId: string
    seq: number
    batch?: string
    offset?: number
}

export function newBatchId(): string {
    // WebCrypto, not Node's crypto: this module runs in browsers and workers too.
    const bytes = globalThis.crypto.getRandomValues(new Uint8Array(6))
    return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')
}

/** A document as the service returns it. */
export interface ServiceDoc {
    id: string
    clientVersion: number
    data: unknown
    deleted: boolean
    seq: number
}

/** A document's `data` is the entry with its value encoded (docs/protocol.md, "How values travel in a document's data"). */
export function entryToDoc(entry: SyncLogEntry): { id: string; clientVersion: number; data: EncodedEntry; deleted: boolean } {
    const data = encodeEntry(entry)
    return { id: entryFieldKey(entry), clientVersion: entry.version, data, deleted: entry.operation === 'delete' }
}

/**
 * Documents that hold log entries, with their values decoded; others (e.g. written by a
 * non-library client, or a value that is not in the encoding) are skipped.
 */
export function docsToEntries(docs: ServiceDoc[]): SyncLogEntry[] {
    const entries: SyncLogEntry[] = []
    for (const doc of docs) {
        const data = doc.data
        if (!isEntry(data)) {
            continue
        }
        try {
            entries.push({ ...data, field: data.field ?? null, value: decodeValue(data.value) })
        } catch (error) {
            if (!(error instanceof InvalidEncodedValueError)) {
                throw error
            }
        }
    }
    return entries
}

function isEntry(data: unknown): data is SyncLogEntry {
    const entry = data as Partial<SyncLogEntry> | null
    return (
        typeof entry === 'object' && entry !== null && typeof entry.collection === 'string' && typeof entry.deviceId === 'string' &&
        Number.isSafeInteger(entry.version) && (entry.operation === 'create' || entry.operation === 'modify' || entry.operation === 'delete')
    )
}

export function newestPerFieldKey(entries: SyncLogEntry[]): SyncLogEntry[] {
    const newest = new Map<string, SyncLogEntry>()
    for (const entry of entries) {
        const key = entryFieldKey(entry)
        const current = newest.get(key)
        if (!current || compareEntryVersions(entry, current) > 0) {
            newest.set(key, entry)
        }
    }
    return [...newest.values()]
}

export function formatCursor(position: Position): SharedLogCursor {
    const inBatch = position.batch === undefined ? '' : `:${position.batch}.${position.offset ?? 0}`
    return `${position.syncId}:${position.seq}${inBatch}`
}

export function parseCursor(cursor: SharedLogCursor | null): Position | null {
    if (cursor === null) {
        return null
    }
    const match = typeof cursor === 'string' ? /^([^:]+):(0|[1-9][0-9]*)(?::([0-9a-f]{1,32})\.(0|[1-9][0-9]*))?$/.exec(cursor) : null
    const seq = match ? Number(match[2]) : NaN
    if (!match || !Number.isSafeInteger(seq)) {
        throw new InvalidSharedLogArgumentError('cursor', `'${String(cursor)}' was not issued by an HttpSharedSyncLog`)
    }
    return match[3] === undefined ? { syncId: match[1], seq } : { syncId: match[1], seq, batch: match[3], offset: Number(match[4]) }
}
