/**
 * The one rule for identifiers the service keys rows by (document ids, clientIds, deviceIds,
 * user names, SyncIds): well-formed Unicode without U+0000.
 *
 * Why: PostgreSQL's `text` refuses NUL (the write failed with a 500 that clients retry forever),
 * and neither store keeps a lone UTF-16 surrogate: both drivers encode strings as UTF-8, so
 * `"k\ud800"` and `"k\ud801"` became one key on PostgreSQL (one overwriting the other regardless
 * of versions) and came back as a third string on SQLite. Refusing them before any store sees
 * them gives both stores the same behaviour. Document *data* is not an identifier: it is stored
 * as JSON text, whose escapes keep any string exactly, so it is never checked against this rule.
 */
import { SyncError } from '../errors'

/**
 * The rule as a JSON-schema `pattern`. Ajv compiles patterns with the `u` flag, under which a
 * surrogate pair is one (astral) code point, so only NUL and lone surrogates fall in the class.
 */
export const IDENTIFIER_PATTERN = '^[^\\u0000\\uD800-\\uDFFF]*$'

const IDENTIFIER_REGEXP = new RegExp(IDENTIFIER_PATTERN, 'u')

export const IDENTIFIER_RULE = 'must be well-formed Unicode without U+0000 (no NUL, no lone UTF-16 surrogate)'

/** Whether `value` may be used as an identifier (length limits are checked separately). */
export function isValidIdentifier(value: string): boolean {
    return IDENTIFIER_REGEXP.test(value)
}

/** An identifier broke the rule above; nothing was stored. `field` names it, e.g. `body/docs/3/id`. */
export class InvalidIdentifierError extends SyncError {
    constructor(readonly field: string) {
        super('INVALID_IDENTIFIER', `${field} ${IDENTIFIER_RULE}`)
    }
}

/** Throws `InvalidIdentifierError` naming `field` unless `value` is a non-empty valid identifier string. */
export function requireIdentifier(value: unknown, field: string): string {
    if (typeof value !== 'string' || value.length === 0 || !isValidIdentifier(value)) {
        throw new InvalidIdentifierError(field)
    }
    return value
}

/** JSON schema of an identifier of 1..maxLength characters. */
export function identifierSchema(maxLength: number) {
    return { type: 'string', minLength: 1, maxLength, pattern: IDENTIFIER_PATTERN } as const
}

interface SchemaError {
    keyword?: unknown
    instancePath?: unknown
    params?: { pattern?: unknown }
}

/**
 * The field an Ajv validation failure is about when the failure is this rule (the identifier
 * pattern), e.g. `body/docs/0/id` or `params/deviceId`; undefined for every other failure.
 */
export function invalidIdentifierField(errors: unknown, context: unknown): string | undefined {
    if (!Array.isArray(errors)) {
        return undefined
    }
    const failure = (errors as SchemaError[]).find((error) => error?.keyword === 'pattern' && error.params?.pattern === IDENTIFIER_PATTERN)
    if (!failure) {
        return undefined
    }
    return `${typeof context === 'string' ? context : 'body'}${typeof failure.instancePath === 'string' ? failure.instancePath : ''}`
}
