import { SyncError } from '../errors'

/** Errors of the value encoding (ts/entries/values.ts). */

/** Where inside a value a problem is: object keys and array indices from the top. */
export type ValuePath = Array<string | number>

/** A value that this encoding cannot carry exactly; refused at write time, before anything is stored. */
export class UnsyncableValueError extends SyncError {
    constructor(readonly reason: string, readonly path: ValuePath, readonly label?: string, code = 'UNSYNCABLE_VALUE') {
        super(code, `${describeLocation(label, path)} cannot be synced: ${reason}`)
    }
}

/** A value nested deeper than the limit (MAX_VALUE_DEPTH for an entry's value). */
export class ValueTooDeepError extends UnsyncableValueError {
    constructor(readonly maxDepth: number, path: ValuePath, label?: string) {
        super(`it nests more than ${maxDepth} levels`, path, label, 'VALUE_TOO_DEEP')
    }
}

/** Stored or received data that is not in this encoding (e.g. a tag this version does not know). */
export class InvalidEncodedValueError extends SyncError {
    constructor(readonly reason: string, readonly path: ValuePath) {
        super('INVALID_ENCODED_VALUE', `${describeLocation(undefined, path)} is not a valid encoded value: ${reason}`)
    }
}

function describeLocation(label: string | undefined, path: ValuePath): string {
    const suffix = path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${part}`)).join('')
    return label === undefined ? (suffix ? `The value at ${suffix.replace(/^\./, '')}` : 'The value') : `The value of ${label}${suffix}`
}
