import { SyncError } from '../errors'
import type { PrimaryKey } from './types'

/** A collection name, field name or primary key the service would refuse as an identifier. */
export class InvalidIdentifierError extends SyncError {
    constructor(readonly kind: 'collection' | 'field' | 'primary key', readonly identifier: unknown, reason: string) {
        super('INVALID_IDENTIFIER', `Refused ${kind} ${safeQuote(identifier)}: ${reason}`)
    }
}

/** A high surrogate not followed by a low one, a low one not preceded by a high one, or NUL. */
const MALFORMED_UTF16 = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|\u0000/

/**
 * Why the service would refuse a string as (part of) an identifier, or null: it must be
 * well-formed Unicode (no lone UTF-16 surrogate) and hold no U+0000. Values are not identifiers:
 * any string travels inside a value.
 */
export function findIdentifierProblem(text: string): string | null {
    const match = MALFORMED_UTF16.exec(text)
    if (match === null) {
        return null
    }
    return match[0] === '\u0000' ? 'it contains U+0000 (NUL)' : `it contains a lone UTF-16 surrogate (U+${match[0].charCodeAt(0).toString(16).toUpperCase()})`
}

export function assertIdentifier(kind: 'collection' | 'field', text: string): void {
    const problem = findIdentifierProblem(text)
    if (problem !== null) {
        throw new InvalidIdentifierError(kind, text, problem)
    }
}

/** Primary key parts end up in document ids and in the client log's keys. */
export function assertPrimaryKey(pk: PrimaryKey): void {
    for (const part of Array.isArray(pk) ? pk : [pk]) {
        if (typeof part === 'number') {
            if (!Number.isFinite(part)) {
                throw new InvalidIdentifierError('primary key', pk, `${part} is not a finite number`)
            }
        } else {
            const problem = findIdentifierProblem(part)
            if (problem !== null) {
                throw new InvalidIdentifierError('primary key', pk, problem)
            }
        }
    }
}

/** JSON quoting shows lone surrogates and NUL as escapes instead of printing them raw. */
export function safeQuote(value: unknown): string {
    try {
        return JSON.stringify(value) ?? String(value)
    } catch {
        return String(value)
    }
}
