import type { StoredObject } from '../backend/types'
import { UnloggableOperationError } from '../errors'

/** Updates split into the fields they write; operators are resolved against the current object. */
export interface ParsedUpdates {
    /** True when every update is a plain value, so one write can serve every matched object. */
    plain: boolean
    /** field -> how to compute its new value from the current object */
    fields: Map<string, (current: StoredObject) => unknown>
}

/**
 * Update operators are logged as the values they produce, never verbatim: a `$inc` replayed on
 * another device would apply the increment twice. Missing or null numbers count as 0, as in
 * MongoDB (Dexie itself would write NaN).
 */
export function parseUpdates(collection: string, updates: StoredObject): ParsedUpdates {
    const fields = new Map<string, (current: StoredObject) => unknown>()
    let plain = true
    const operand = (op: string, value: unknown): Record<string, unknown> => {
        if (!value || typeof value !== 'object' || Array.isArray(value)) {
            throw new UnloggableOperationError('updateObjects', collection, `'${op}' needs an object of fields`)
        }
        return value as Record<string, unknown>
    }
    const numeric = (op: string, field: string, value: unknown): number => {
        if (typeof value !== 'number' || !Number.isFinite(value)) {
            throw new UnloggableOperationError('updateObjects', collection, `'${op}' on '${field}' needs a finite number`)
        }
        return value
    }
    for (const [key, value] of Object.entries(updates)) {
        if (!key.startsWith('$')) {
            fields.set(key, () => (value === undefined ? null : value))
            continue
        }
        plain = false
        const args = operand(key, value)
        for (const [field, arg] of Object.entries(args)) {
            if (key === '$set') {
                fields.set(field, () => arg)
            } else if (key === '$unset') {
                fields.set(field, () => null)
            } else if (key === '$inc') {
                const by = numeric(key, field, arg)
                fields.set(field, current => currentNumber(collection, field, current) + by)
            } else if (key === '$mul') {
                const by = numeric(key, field, arg)
                fields.set(field, current => currentNumber(collection, field, current) * by)
            } else {
                throw new UnloggableOperationError('updateObjects', collection, `update operator '${key}' is not supported`)
            }
        }
    }
    return { plain, fields }
}

function currentNumber(collection: string, field: string, current: StoredObject): number {
    const value = current[field]
    if (value === null || value === undefined) {
        return 0
    }
    if (typeof value !== 'number') {
        throw new UnloggableOperationError('updateObjects', collection, `cannot apply a numeric operator to non-number field '${field}'`)
    }
    return value
}

export function computeUpdates(parsed: ParsedUpdates, current: StoredObject): StoredObject {
    const result: StoredObject = {}
    for (const [field, compute] of parsed.fields) {
        result[field] = compute(current)
    }
    return result
}
