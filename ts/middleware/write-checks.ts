import { assertIdentifier, encodeValue, MAX_FIELD_VALUE_DEPTH } from '../entries/values'
import type { StoredObject } from '../backend/types'
import { SyncError } from '../errors'

/**
 * What the logging middleware checks before it writes anything: the shape of the operation (so a
 * malformed one fails with a typed error, not a TypeError from deep inside), and that every
 * identifier and value can be logged and pushed (so a device never holds an entry the service
 * would refuse, or one whose value would not arrive as it was written).
 */

/** An operation or batch step whose arguments do not have the shape Storex defines. */
export class InvalidOperationError extends SyncError {
    constructor(readonly operation: string, readonly collection: unknown, reason: string) {
        super('INVALID_OPERATION', `Refused '${operation}'${typeof collection === 'string' ? ` on '${collection}'` : ''}: ${reason}`)
    }
}

/** Objects of any realm; arrays, Dates and other class instances are not records. */
export function isRecord(value: unknown): value is Record<string, unknown> {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        return false
    }
    const prototype = Object.getPrototypeOf(value)
    return prototype === null || Object.getPrototypeOf(prototype) === null
}

const RECORD_ARGUMENTS: Record<string, string[]> = {
    createObject: ['object'],
    updateObject: ['object', 'updates'],
    updateObjects: ['where', 'updates'],
    deleteObject: ['object'],
    deleteObjects: ['where'],
}

/** `args`: the operation's arguments after the collection name. */
export function checkOperationShape(operation: string, collection: string, args: unknown[]): void {
    const names = RECORD_ARGUMENTS[operation] ?? []
    names.forEach((name, index) => {
        if (!isRecord(args[index])) {
            throw new InvalidOperationError(operation, collection, `its ${name} must be an object, got ${describe(args[index])}`)
        }
    })
}

const STEP_FIELDS: Record<string, string[]> = {
    createObject: ['args'],
    updateObjects: ['where', 'updates'],
    deleteObjects: ['where'],
}

/** Checks every step up front, so a bad step fails the batch before any step runs. */
export function checkBatchShape(batch: unknown[]): void {
    batch.forEach((step, index) => {
        const label = `executeBatch step ${index}`
        if (!isRecord(step)) {
            throw new InvalidOperationError('executeBatch', undefined, `${label} must be an object, got ${describe(step)}`)
        }
        if (typeof step.collection !== 'string' || !step.collection) {
            throw new InvalidOperationError('executeBatch', undefined, `${label} needs a collection name, got ${describe(step.collection)}`)
        }
        if (typeof step.operation !== 'string') {
            throw new InvalidOperationError('executeBatch', step.collection, `${label} needs an operation name, got ${describe(step.operation)}`)
        }
        for (const field of STEP_FIELDS[step.operation] ?? []) {
            if (!isRecord(step[field])) {
                throw new InvalidOperationError('executeBatch', step.collection, `${label} (${step.operation}) needs '${field}' to be an object, got ${describe(step[field])}`)
            }
        }
        if (step.placeholder !== undefined && typeof step.placeholder !== 'string') {
            throw new InvalidOperationError('executeBatch', step.collection, `${label} has a placeholder that is not a string`)
        }
        const replace = step.replace
        if (replace !== undefined && !(Array.isArray(replace) && replace.every(item => isRecord(item) && typeof item.path === 'string' && typeof item.placeholder === 'string'))) {
            throw new InvalidOperationError('executeBatch', step.collection, `${label} needs 'replace' to be a list of { path, placeholder }`)
        }
    })
}

function describe(value: unknown): string {
    if (value === null) {
        return 'null'
    }
    if (Array.isArray(value)) {
        return 'an array'
    }
    return typeof value === 'object' ? `a ${(value as object).constructor?.name ?? 'object'}` : typeof value === 'undefined' ? 'nothing' : `a ${typeof value}`
}

/** Every field of an object about to be created (primary key fields as a key, the rest as values). */
export function checkCreateValues(collection: string, object: StoredObject, pkFields: string[]): void {
    assertIdentifier('collection', collection)
    for (const field of Object.keys(object)) {
        const value = object[field]
        if (value === undefined || pkFields.includes(field)) {
            continue
        }
        checkFieldValue(collection, field, value)
    }
}

export function checkFieldValue(collection: string, field: string, value: unknown): void {
    assertIdentifier('field', field)
    // Measured as one field: a create nests it one level deeper, and MAX_FIELD_VALUE_DEPTH leaves that level.
    encodeValue(value, { maxDepth: MAX_FIELD_VALUE_DEPTH, label: `${collection}.${field}` })
}
