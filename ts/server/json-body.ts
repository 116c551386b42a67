/**
 * The service's `application/json` body parser. Before any JSON reaches a recursive routine
 * (the parser, Ajv, the routes, the stores) it checks, on the raw bytes:
 * 1. the declared charset: only UTF-8 (415 `UNSUPPORTED_CHARSET`); a `charset=utf-16` body used
 *    to be decoded as UTF-8;
 * 2. that the bytes are valid UTF-8 (400 `INVALID_ENCODING`), instead of the silent U+FFFD
 *    replacement of a plain `toString('utf8')`;
 * 3. the nesting depth, counted iteratively (400 `DATA_TOO_DEEP`): data nested ~4,200 levels
 *    used to overflow the stack in the routes and answer 500.
 * Then fastify's own JSON parser runs (prototype-poisoning checks, `MALFORMED_JSON`). The body
 * limit (413) is applied by fastify before the parser sees the body.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { SyncConfigurationError } from '../errors'
import { HttpError } from './errors'

/** Levels a request adds around a document's `data`: the body object > `docs` > the document > `data`. */
export const DOCUMENT_ENVELOPE_DEPTH = 3

/** The largest `dataDepth` the service accepts: deeper would bring the stack overflows back. */
export const MAX_DATA_DEPTH_LIMIT = 1000

export interface JsonBodyOptions {
    /** Deepest nesting of a document's `data` (`data` itself is level 1). */
    dataDepth: number
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Replaces fastify's default `application/json` parser on `app` with the checked one. */
export function installJsonBodyParser(app: FastifyInstance, options: JsonBodyOptions): void {
    const { dataDepth } = options
    if (!Number.isSafeInteger(dataDepth) || dataDepth < 1 || dataDepth > MAX_DATA_DEPTH_LIMIT) {
        throw new SyncConfigurationError(`limits.dataDepth must be an integer 1..${MAX_DATA_DEPTH_LIMIT}, got ${String(dataDepth)}`, {
            option: 'limits.dataDepth',
        })
    }
    const maxBodyDepth = dataDepth + DOCUMENT_ENVELOPE_DEPTH
    const parseJson = app.getDefaultJsonParser(app.initialConfig.onProtoPoisoning ?? 'error', app.initialConfig.onConstructorPoisoning ?? 'error')
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request: FastifyRequest, body: Buffer, done) => {
        const charset = declaredCharset(request.headers['content-type'])
        if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
            throw new HttpError(415, 'UNSUPPORTED_CHARSET', `Unsupported charset '${charset}': bodies are UTF-8 JSON`)
        }
        let text: string
        try {
            text = utf8.decode(body)
        } catch {
            throw new HttpError(400, 'INVALID_ENCODING', 'The body is not valid UTF-8')
        }
        if (jsonTextDepthExceeds(body, maxBodyDepth)) {
            throw new HttpError(
                400,
                'DATA_TOO_DEEP',
                `The body nests objects and arrays deeper than ${maxBodyDepth} levels (a document's data may nest at most ${dataDepth})`,
            )
        }
        parseJson(request, text, done)
    })
}

/**
 * The lower-cased `charset` parameter of a Content-Type header, if any. A header that declares
 * several charsets reports the first that is not UTF-8, so none slips through.
 */
export function declaredCharset(header: string | undefined): string | undefined {
    if (header === undefined) {
        return undefined
    }
    let found: string | undefined
    for (const parameter of header.split(';').slice(1)) {
        const separator = parameter.indexOf('=')
        if (separator < 0 || parameter.slice(0, separator).trim().toLowerCase() !== 'charset') {
            continue
        }
        const charset = parameter.slice(separator + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase()
        if (charset !== 'utf-8' && charset !== 'utf8') {
            return charset
        }
        found = charset
    }
    return found
}

/**
 * Whether JSON text nests objects and arrays deeper than `maxDepth`, counted in one pass over
 * the bytes (brackets inside strings do not count). Malformed text is left to the parser.
 */
export function jsonTextDepthExceeds(bytes: Uint8Array, maxDepth: number): boolean {
    let depth = 0
    for (let index = 0; index < bytes.length; index++) {
        const byte = bytes[index]
        if (byte === QUOTE) {
            index = closingQuote(bytes, index)
        } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
            depth += 1
            if (depth > maxDepth) {
                return true
            }
        } else if ((byte === CLOSE_BRACE || byte === CLOSE_BRACKET) && depth > 0) {
            depth -= 1
        }
    }
    return false
}

/** Index of the quote that ends the string opened at `open` (the length when unterminated). */
function closingQuote(bytes: Uint8Array, open: number): number {
    let from = open + 1
    for (;;) {
        const quote = bytes.indexOf(QUOTE, from)
        if (quote < 0) {
            return bytes.length
        }
        let backslashes = 0
        for (let index = quote - 1; index > open && bytes[index] === BACKSLASH; index--) {
            backslashes += 1
        }
        if (backslashes % 2 === 0) {
            return quote
        }
        from = quote + 1
    }
}
