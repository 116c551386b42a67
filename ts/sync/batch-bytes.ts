import type { SyncLogEntry } from '../entries/types'
import { encodeEntry, isPlainObject } from '../entries/values'
import { utf8Length } from './utf8-length'

/**
 * The longest prefix of `entries` whose JSON (in the value encoding) fits in `byteLimit` bytes of
 * UTF-8, and at least one entry so progress is always made. Measuring an entry exactly means
 * encoding and stringifying it, which cost a push of small entries a tenth of its time although
 * the batch is far below the limit; so a cheap upper bound of the whole batch comes first, and
 * only a batch that might not fit is measured entry by entry.
 */
export function takeWithinBytes(entries: SyncLogEntry[], byteLimit: number): SyncLogEntry[] {
    let bound = 0
    for (const entry of entries) {
        bound += entryBytesAtMost(entry)
        if (bound > byteLimit) {
            return exactPrefix(entries, byteLimit)
        }
    }
    return entries
}

/** Bytes of `JSON.stringify(encodeEntry(entry))` as UTF-8, exactly. */
export function entryBytes(entry: SyncLogEntry): number {
    return utf8Length(JSON.stringify(encodeEntry(entry)))
}

function exactPrefix(entries: SyncLogEntry[], byteLimit: number): SyncLogEntry[] {
    let bytes = 0
    for (let index = 0; index < entries.length; index++) {
        bytes += entryBytes(entries[index])
        if (bytes > byteLimit) {
            return entries.slice(0, Math.max(1, index))
        }
    }
    return entries
}

/** The keys `encodeEntry` writes, with their quotes, colons and commas: `{"collection":…}`. */
const ENTRY_FRAME_BYTES = '{"collection":,"pk":,"operation":,"field":,"value":,"version":,"deviceId":,"schemaVersion":}'.length

/**
 * At least `entryBytes(entry)`, without encoding anything: what `encodeEntry` produces for each
 * field, counted generously (every string character as the six bytes of a `\uXXXX` escape).
 */
export function entryBytesAtMost(entry: SyncLogEntry): number {
    return (
        ENTRY_FRAME_BYTES +
        valueBytesAtMost(entry.collection) +
        valueBytesAtMost(entry.pk) +
        valueBytesAtMost(entry.operation) +
        valueBytesAtMost(entry.field ?? null) +
        valueBytesAtMost(entry.value === undefined ? null : entry.value) +
        valueBytesAtMost(entry.version) +
        valueBytesAtMost(entry.deviceId) +
        valueBytesAtMost(entry.schemaVersion)
    )
}

/** The longest a number is as JSON text (`-2.2250738585072014e-308` is 24), or as the `{"$num":"-0"}` tag. */
const NUMBER_BYTES = 32
/** `{"$date":"+275760-09-13T00:00:00.000Z"}` is 39. */
const DATE_BYTES = 48
/** `{"$bytes":""}` around the base64 text. */
const BYTES_TAG_BYTES = 16
/** `{"$esc":}` around an object whose keys look like a tag. */
const ESCAPE_BYTES = 10

const OBJECT_TAG = Object.prototype.toString

/**
 * At least the UTF-8 bytes of the value's encoded JSON. A string is at most 6 bytes per UTF-16
 * unit (an escape; a surrogate pair is 4 bytes for two units). A value the encoding refuses is
 * Infinity, so the exact path measures it and raises the encoding's own error.
 */
function valueBytesAtMost(value: unknown): number {
    switch (typeof value) {
        case 'string':
            return 2 + 6 * value.length
        case 'number':
            return NUMBER_BYTES
        case 'boolean':
            return 5
        case 'object':
            break
        default:
            return Infinity
    }
    if (value === null) {
        return 4
    }
    if (Array.isArray(value)) {
        let bytes = 2
        for (const item of value) {
            bytes += valueBytesAtMost(item) + 1
        }
        return bytes
    }
    if (isPlainObject(value)) {
        let bytes = 2 + ESCAPE_BYTES
        for (const key of Object.keys(value)) {
            if (value[key] !== undefined) {
                bytes += 2 + 6 * key.length + 1 + valueBytesAtMost(value[key]) + 1
            }
        }
        return bytes
    }
    const kind = OBJECT_TAG.call(value)
    if (kind === '[object Date]') {
        return DATE_BYTES
    }
    if (kind === '[object Uint8Array]') {
        return BYTES_TAG_BYTES + 4 * Math.ceil((value as Uint8Array).length / 3)
    }
    return Infinity
}
