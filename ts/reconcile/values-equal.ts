import { isPlainObject } from '../entries/values'

/**
 * Equality of field values as the reconciler needs it: two values are equal when the value
 * encoding (ts/entries/values.ts) would carry them as the same thing. Dates compare by time,
 * numbers by `Object.is` (so -0 differs from 0, as it travels), Uint8Arrays byte by byte, arrays
 * by position, objects by their defined keys in any order (SQL backends sort a JSON column's keys).
 * A Date never equals its ISO string: a value that changed type has changed.
 */
export function valuesEqual(a: unknown, b: unknown): boolean {
    if (Object.is(a, b)) {
        return true
    }
    if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') {
        return false
    }
    if (Array.isArray(a) || Array.isArray(b)) {
        return Array.isArray(a) && Array.isArray(b) && arraysEqual(a, b)
    }
    const aPlain = isPlainObject(a)
    const bPlain = isPlainObject(b)
    if (aPlain || bPlain) {
        return aPlain && bPlain && recordsEqual(a as Record<string, unknown>, b as Record<string, unknown>)
    }
    if (a instanceof Date && b instanceof Date) {
        return Object.is(a.getTime(), b.getTime())
    }
    // Tags, not instanceof, from here: Dexie in Node hands back Dates from another realm.
    const kind = Object.prototype.toString.call(a)
    if (kind !== Object.prototype.toString.call(b)) {
        return false
    }
    if (kind === '[object Date]') {
        return Object.is(Date.prototype.getTime.call(a), Date.prototype.getTime.call(b))
    }
    if (kind === '[object Uint8Array]') {
        return arraysEqual(a as Uint8Array, b as Uint8Array)
    }
    // Other class instances are not values the encoding carries; only the same instance is equal.
    return false
}

function arraysEqual(a: ArrayLike<unknown>, b: ArrayLike<unknown>): boolean {
    if (a.length !== b.length) {
        return false
    }
    for (let index = 0; index < a.length; index++) {
        if (!valuesEqual(a[index], b[index])) {
            return false
        }
    }
    return true
}

/** An `undefined` property is no property: the encoding leaves it out. */
function recordsEqual(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
    let aCount = 0
    for (const key of Object.keys(a)) {
        const value = a[key]
        if (value === undefined) {
            continue
        }
        aCount++
        if (!Object.prototype.hasOwnProperty.call(b, key) || !valuesEqual(value, b[key])) {
            return false
        }
    }
    let bCount = 0
    for (const key of Object.keys(b)) {
        if (b[key] !== undefined) {
            bCount++
        }
    }
    return aCount === bCount
}
