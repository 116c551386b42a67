import type { StoredObject } from './types'
import { UnsafeWhereError } from '../errors'

const OPERATOR_KEYS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists'])

/**
 * Dexie's where matching (dexie-mongoify) treats any non-primitive value as an operator object:
 * an array, a Date or a plain object without a known operator matches every row, and `null`
 * throws. On a synced collection that would turn an intended one-row update into a
 * whole-collection one, so such clauses are refused before they run.
 */
export function assertPrimitiveWhere(collection: string, where: StoredObject): void {
    for (const [field, value] of Object.entries(where)) {
        if (field === '$and' || field === '$or') {
            throw new UnsafeWhereError(collection, `logical operator '${field}' is not supported on synced collections`)
        }
        if (isPrimitive(value)) {
            continue
        }
        if (value === null || value === undefined) {
            throw new UnsafeWhereError(collection, `field '${field}' compared with ${value}`)
        }
        if (value instanceof Date || Array.isArray(value)) {
            throw new UnsafeWhereError(collection, `field '${field}' compared with ${value instanceof Date ? 'a Date' : 'an array'} (would match every row)`)
        }
        const operators = Object.keys(value as object)
        if (!operators.length || operators.some(op => !OPERATOR_KEYS.has(op))) {
            throw new UnsafeWhereError(collection, `field '${field}' compared with an object that is not a known operator (${operators.join(', ') || 'empty'})`)
        }
        for (const op of operators) {
            const operand = (value as Record<string, unknown>)[op]
            const operands = op === '$in' || op === '$nin' ? (Array.isArray(operand) ? operand : [undefined]) : [operand]
            if (op !== '$exists' && operands.some(item => !isPrimitive(item))) {
                throw new UnsafeWhereError(collection, `field '${field}' uses '${op}' with a non-primitive operand`)
            }
        }
    }
}

function isPrimitive(value: unknown): value is string | number | boolean {
    return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
}
