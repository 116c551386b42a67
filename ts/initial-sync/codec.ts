import type { SyncLogEntry } from '../entries/types'
import { decodeValue, encodeValue } from '../entries/values'
import type { JsonValue } from '../entries/values'

/**
 * How entries travel in initial-sync messages, and the checksums over them. Entry values go
 * through the library's one value encoding (`ts/entries/values.ts`), so a Date stays a Date and
 * what cannot travel exactly is refused with a typed error instead of changed.
 */

export type WireEntry = Omit<SyncLogEntry, 'value'> & { value: JsonValue }

export function toWireEntry(entry: SyncLogEntry): WireEntry {
    return {
        collection: entry.collection,
        pk: entry.pk,
        operation: entry.operation,
        field: entry.field,
        value: encodeValue(entry.value, { label: `${entry.collection}${entry.field ? '.' + entry.field : ''}` }),
        version: entry.version,
        deviceId: entry.deviceId,
        schemaVersion: entry.schemaVersion,
    }
}

export function fromWireEntry(wire: WireEntry): SyncLogEntry {
    return { ...wire, value: decodeValue(wire.value) }
}

/** JSON with object keys sorted at every depth: equal values give equal text on every device. */
export function canonicalJson(value: unknown): string {
    return JSON.stringify(value, (_key, inner: unknown) => {
        if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) {
            return inner
        }
        const record = inner as Record<string, unknown>
        const sorted: Record<string, unknown> = {}
        for (const key of Object.keys(record).sort()) {
            sorted[key] = record[key]
        }
        return sorted
    })
}

const encoder = new TextEncoder()

export function utf8Bytes(text: string): number {
    return encoder.encode(text).byteLength
}

/** SHA-256 (WebCrypto: global in browsers and Node 20) as lowercase hex. */
export async function sha256Hex(text: string): Promise<string> {
    const subtle = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle
    if (!subtle) {
        throw new Error('WebCrypto (crypto.subtle) is not available: initial sync needs it for its checksums')
    }
    const digest = new Uint8Array(await subtle.digest('SHA-256', encoder.encode(text)))
    let hex = ''
    for (const byte of digest) {
        hex += byte.toString(16).padStart(2, '0')
    }
    return hex
}

/** Checksum of one batch: over the canonical JSON of its transfer id, number and entries. */
export function batchChecksum(transferId: string, seq: number, entries: WireEntry[]): Promise<string> {
    return sha256Hex(canonicalJson({ transferId, seq, entries }))
}

/** The whole-transfer checksum after one more batch: a hash chain over the batch checksums. */
export function chainChecksum(previous: string, batch: string): Promise<string> {
    return sha256Hex(`${previous}:${batch}`)
}

export const EMPTY_CHAIN = ''
