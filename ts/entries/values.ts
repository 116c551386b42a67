import { BASE64, base64ToBytes, bytesToBase64 } from './base64'
import { safeQuote } from './identifiers'
import { InvalidEncodedValueError, UnsyncableValueError, ValueTooDeepError } from './value-errors'
import type { ValuePath } from './value-errors'
import type { PrimaryKey, SyncLogEntry } from './types'

export { InvalidIdentifierError, assertIdentifier, assertPrimaryKey, findIdentifierProblem } from './identifiers'
export { InvalidEncodedValueError, UnsyncableValueError, ValueTooDeepError } from './value-errors'
export type { ValuePath } from './value-errors'

/**
 * The one value encoding of log entries (docs/protocol.md, "How values travel in a document's
 * data"). Entries hold values as the app wrote them (Dates, Uint8Arrays); everything that stores
 * or sends an entry (client log rows, every shared log, the HTTP transport) holds the JSON form
 * this module produces, and turns it back with `decodeValue`.
 *
 * Strings, booleans, null and finite numbers other than -0 travel as themselves, so the common
 * case costs a `typeof`. Everything else is a *tag*: an object with exactly one key that starts
 * with `$`. A plain object of that shape is escaped, so no value is ever mistaken for a tag.
 */

/** A value as JSON carries it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

/** An entry as it is stored and sent: its value in the encoded form. */
export interface EncodedEntry extends SyncLogEntry {
    value: JsonValue
}

/**
 * Most levels of nesting of an entry's encoded `value` (an object or array is one level, a tag
 * such as `{"$date": ...}` counts as the level it is). The service refuses deeper documents, so
 * the logging middleware refuses such values at write time.
 */
export const MAX_VALUE_DEPTH = 64

/**
 * Most levels of one field's encoded value: a create carries its fields inside one more object,
 * so a field value that fits here fits in a modify, in a create, and after folding one into the other.
 */
export const MAX_FIELD_VALUE_DEPTH = MAX_VALUE_DEPTH - 1

export const VALUE_TAGS = { date: '$date', bytes: '$bytes', number: '$num', escaped: '$esc' } as const

/** Thrown while walking a value; turned into a typed error with the full path at the top. */
class Refusal {
    readonly path: ValuePath = []
    constructor(readonly reason: string, readonly tooDeep = false) {}
}

const OBJECT_TAG = Object.prototype.toString
const DATE_GET_TIME = Date.prototype.getTime
const DATE_TO_ISO = Date.prototype.toISOString

/** A plain object from any realm (Dexie in Node hands back objects from Node's own realm). */
export function isPlainObject(value: object): value is Record<string, unknown> {
    const prototype = Object.getPrototypeOf(value)
    return prototype === null || Object.getPrototypeOf(prototype) === null
}

/** Defines `key` even when it is `__proto__`, which a plain assignment would turn into a prototype change. */
function setKey(target: Record<string, unknown>, key: string, value: unknown): void {
    if (key === '__proto__') {
        Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
    } else {
        target[key] = value
    }
}

/**
 * The JSON form of a value. Refuses (UnsyncableValueError) what it cannot carry exactly: NaN and
 * ±Infinity, invalid Dates, `undefined` or holes in arrays, Blobs, other binary views than
 * Uint8Array, bigints, functions, symbols and class instances; and (ValueTooDeepError) values
 * nested deeper than `maxDepth`. `undefined` object properties are left out, as JSON does.
 * `label` names the value in error messages (e.g. `note.tags`).
 */
export function encodeValue(value: unknown, options: { maxDepth?: number; label?: string } = {}): JsonValue {
    const maxDepth = options.maxDepth ?? MAX_VALUE_DEPTH
    try {
        return encodeAt(value, 0, maxDepth)
    } catch (error) {
        if (error instanceof Refusal) {
            throw error.tooDeep
                ? new ValueTooDeepError(maxDepth, error.path, options.label)
                : new UnsyncableValueError(error.reason, error.path, options.label)
        }
        throw error
    }
}

/** `depth`: encoded containers around `value`. */
function encodeAt(value: unknown, depth: number, maxDepth: number): JsonValue {
    switch (typeof value) {
        case 'string':
        case 'boolean':
            return value
        case 'number':
            if (value === 0 && 1 / value < 0) {
                return tagged(VALUE_TAGS.number, '-0', depth, maxDepth)
            }
            if (!Number.isFinite(value)) {
                throw new Refusal(`${value} is not a finite number (JSON cannot carry it, and SQLite stores NaN as NULL)`)
            }
            return value
        case 'object':
            break
        default:
            throw new Refusal(`a ${typeof value} is not a Storex value`)
    }
    if (value === null) {
        return null
    }
    if (depth >= maxDepth) {
        throw new Refusal('too deep', true)
    }
    if (Array.isArray(value)) {
        const result: JsonValue[] = new Array(value.length)
        for (let index = 0; index < value.length; index++) {
            const item: unknown = value[index]
            if (item === undefined) {
                throw withPath(new Refusal('an array cannot hold undefined or holes (JSON turns them into null)'), index)
            }
            result[index] = encodeChild(item, index, depth + 1, maxDepth)
        }
        return result
    }
    if (isPlainObject(value)) {
        return encodeObject(value, depth, maxDepth)
    }
    const kind = OBJECT_TAG.call(value)
    if (kind === '[object Date]') {
        // Date.prototype's own methods: a subclass or an odd object cannot change what travels.
        if (Number.isNaN(DATE_GET_TIME.call(value))) {
            throw new Refusal('an invalid Date has no time to carry')
        }
        return { [VALUE_TAGS.date]: DATE_TO_ISO.call(value) }
    }
    if (kind === '[object Uint8Array]') {
        return { [VALUE_TAGS.bytes]: bytesToBase64(value as Uint8Array) }
    }
    if (kind === '[object Blob]' || kind === '[object File]') {
        throw new Refusal('a Blob can only be read asynchronously; store its bytes as a Uint8Array')
    }
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name
    throw new Refusal(`${typeof name === 'string' && name ? `a ${name}` : 'this object'} is not a Storex value (plain objects, arrays, Dates and Uint8Arrays are)`)
}

function encodeObject(value: Record<string, unknown>, depth: number, maxDepth: number): JsonValue {
    const keys = Object.keys(value)
    let present = 0
    let onlyKey = ''
    for (const key of keys) {
        if (value[key] !== undefined) {
            present++
            onlyKey = key
        }
    }
    // An object that looks like a tag travels inside an escape, one level deeper.
    const escaped = present === 1 && onlyKey.charCodeAt(0) === 36 /* $ */
    const innerDepth = escaped ? depth + 1 : depth
    if (escaped && innerDepth >= maxDepth) {
        throw new Refusal('too deep', true)
    }
    const result: Record<string, JsonValue> = {}
    for (const key of keys) {
        const inner = value[key]
        if (inner !== undefined) {
            setKey(result, key, encodeChild(inner, key, innerDepth + 1, maxDepth))
        }
    }
    return escaped ? { [VALUE_TAGS.escaped]: result } : result
}

function encodeChild(value: unknown, key: string | number, depth: number, maxDepth: number): JsonValue {
    try {
        return encodeAt(value, depth, maxDepth)
    } catch (error) {
        throw error instanceof Refusal ? withPath(error, key) : error
    }
}

function tagged(tag: string, payload: string, depth: number, maxDepth: number): JsonValue {
    if (depth >= maxDepth) {
        throw new Refusal('too deep', true)
    }
    return { [tag]: payload }
}

function withPath<T extends { path: ValuePath }>(error: T, key: string | number): T {
    error.path.unshift(key)
    return error
}

/**
 * The value an encoded value stands for; always a fresh copy, so callers never share objects
 * with whatever holds the encoded form. Values that are not JSON (a Date or Uint8Array stored
 * by an older version of the library straight into IndexedDB) are accepted as they are.
 */
export function decodeValue(json: unknown): unknown {
    switch (typeof json) {
        case 'string':
        case 'boolean':
        case 'number':
            return json
        case 'undefined':
            return null
    }
    try {
        return decodeAt(json)
    } catch (error) {
        if (error instanceof InvalidEncodedValuePath) {
            throw new InvalidEncodedValueError(error.reason, error.path)
        }
        throw error
    }
}

class InvalidEncodedValuePath {
    readonly path: ValuePath = []
    constructor(readonly reason: string) {}
}

function decodeAt(json: unknown): unknown {
    if (typeof json !== 'object' || json === null) {
        if (json === undefined || typeof json === 'function' || typeof json === 'symbol' || typeof json === 'bigint') {
            throw new InvalidEncodedValuePath(`a ${typeof json} is not JSON`)
        }
        return json
    }
    if (Array.isArray(json)) {
        const result: unknown[] = new Array(json.length)
        for (let index = 0; index < json.length; index++) {
            result[index] = decodeChild(json[index], index)
        }
        return result
    }
    if (!isPlainObject(json)) {
        return decodeLegacy(json)
    }
    const keys = Object.keys(json)
    if (keys.length === 1 && keys[0].charCodeAt(0) === 36 /* $ */) {
        return decodeTag(keys[0], json[keys[0]])
    }
    return decodeObject(json, keys)
}

function decodeObject(json: Record<string, unknown>, keys: string[]): Record<string, unknown> {
    const result: Record<string, unknown> = {}
    for (const key of keys) {
        setKey(result, key, decodeChild(json[key], key))
    }
    return result
}

function decodeTag(tag: string, payload: unknown): unknown {
    switch (tag) {
        case VALUE_TAGS.date: {
            const time = typeof payload === 'string' && ISO_UTC.test(payload) ? Date.parse(payload) : NaN
            if (Number.isNaN(time)) {
                throw new InvalidEncodedValuePath(`'${tag}' needs an ISO 8601 UTC time, got ${safeQuote(payload)}`)
            }
            return new Date(time)
        }
        case VALUE_TAGS.bytes:
            if (typeof payload !== 'string' || !BASE64.test(payload)) {
                throw new InvalidEncodedValuePath(`'${tag}' needs base64 text`)
            }
            return base64ToBytes(payload)
        case VALUE_TAGS.number:
            if (payload !== '-0') {
                throw new InvalidEncodedValuePath(`'${tag}' carries only "-0", got ${safeQuote(payload)}`)
            }
            return -0
        case VALUE_TAGS.escaped: {
            const keys = payload !== null && typeof payload === 'object' && !Array.isArray(payload) ? Object.keys(payload) : []
            if (keys.length !== 1) {
                throw new InvalidEncodedValuePath(`'${tag}' must hold an object with exactly one key`)
            }
            return decodeObject(payload as Record<string, unknown>, keys)
        }
        default:
            throw new InvalidEncodedValuePath(`unknown tag '${tag}' (made by a newer version of the library?)`)
    }
}

function decodeChild(json: unknown, key: string | number): unknown {
    try {
        return decodeAt(json)
    } catch (error) {
        throw error instanceof InvalidEncodedValuePath ? withPath(error, key) : error
    }
}

function decodeLegacy(value: object): unknown {
    const kind = OBJECT_TAG.call(value)
    if (kind === '[object Date]') {
        return new Date(DATE_GET_TIME.call(value))
    }
    if (kind === '[object Uint8Array]') {
        return new Uint8Array(value as Uint8Array)
    }
    throw new InvalidEncodedValuePath(`a ${kind.slice(8, -1)} is not JSON`)
}

/** What `Date.prototype.toISOString` produces, extended years included. */
const ISO_UTC = /^(?:\d{4}|[+-]\d{6})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/


/**
 * An entry's own fields with its value encoded (and its primary key copied), for storing or
 * sending; anything else the object carries (e.g. a client-log row's flags) is left behind.
 */
export function encodeEntry(entry: SyncLogEntry): EncodedEntry {
    return {
        collection: entry.collection,
        pk: copyPk(entry.pk),
        operation: entry.operation,
        field: entry.field,
        value: encodeValue(entry.value === undefined ? null : entry.value),
        version: entry.version,
        deviceId: entry.deviceId,
        schemaVersion: entry.schemaVersion,
    }
}

/** An entry as the app's values: the inverse of `encodeEntry`. */
export function decodeEntry(entry: SyncLogEntry): SyncLogEntry {
    return { ...entry, pk: copyPk(entry.pk), value: decodeValue(entry.value) }
}

function copyPk(pk: PrimaryKey): PrimaryKey {
    return Array.isArray(pk) ? [...pk] : pk
}
