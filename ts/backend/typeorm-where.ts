import type { CollectionDefinition } from '@worldbrain/storex'
import type { StoredObject } from './types'
import { assertPrimitiveWhere } from './where'
import { UnsafeWhereError } from '../errors'

const SUPPORTED_OPERATORS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in'])
const TEXT_TYPES = new Set(['string', 'text'])
const NUMBER_TYPES = new Set(['int', 'float', 'timestamp', 'auto-pk'])

/**
 * Where clauses that SQL would evaluate differently from their plain (and IndexedDB's) meaning
 * are refused: everything `assertPrimitiveWhere` refuses, plus comparisons across types (SQLite
 * converts `'5'` to 5 for an integer column and 5 to '5' for a text column, so they would match),
 * and operators storex-backend-typeorm does not translate.
 */
export function assertTypeormWhere(collection: string, where: StoredObject, definition: CollectionDefinition | undefined): void {
    assertPrimitiveWhere(collection, where)
    for (const [field, predicate] of Object.entries(where)) {
        const fieldDefinition = definition?.fields[field] as { type?: string } | undefined
        const conditions = isOperatorObject(predicate) ? Object.entries(predicate) : [['$eq', predicate] as [string, unknown]]
        if (conditions.length > 1) {
            throw new UnsafeWhereError(collection, `field '${field}' has ${conditions.length} operators; storex-backend-typeorm takes one per field`)
        }
        const [operator, operand] = conditions[0]
        if (!SUPPORTED_OPERATORS.has(operator)) {
            throw new UnsafeWhereError(collection, `operator '${operator}' on field '${field}' is not supported by storex-backend-typeorm`)
        }
        if (!fieldDefinition?.type) {
            // A relationship alias: its column takes the parent's key, whatever its type.
            continue
        }
        if (fieldDefinition.type === 'json' && operator !== '$eq') {
            throw new UnsafeWhereError(collection, `json field '${field}' can only be compared for equality`)
        }
        const operands = operator === '$in' ? (operand as unknown[]) : [operand]
        for (const value of operands) {
            const mismatch = typeMismatch(fieldDefinition.type, value)
            if (mismatch) {
                throw new UnsafeWhereError(collection, `field '${field}' (${fieldDefinition.type}) compared with ${mismatch}; SQLite would convert it`)
            }
        }
    }
}

function isOperatorObject(value: unknown): value is Record<string, unknown> {
    return !!value && typeof value === 'object' && !Array.isArray(value)
}

function typeMismatch(type: string, value: unknown): string | null {
    if (TEXT_TYPES.has(type) && typeof value !== 'string') {
        return `a ${typeof value}`
    }
    if (NUMBER_TYPES.has(type) && typeof value !== 'number') {
        return `a ${typeof value}`
    }
    if (type === 'boolean' && typeof value !== 'boolean') {
        return `a ${typeof value}`
    }
    return null
}
