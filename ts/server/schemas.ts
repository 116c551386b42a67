/**
 * JSON schemas of every body and query string. Objects refuse unknown fields
 * (`additionalProperties: false`), and the service's Ajv neither removes nor coerces anything,
 * so a wrong type or an extra field is a 400 instead of being silently dropped or converted.
 * Query-string values arrive as strings and are parsed in the routes. Every identifier (document
 * id, clientId, deviceId, SyncId) follows the rule of `identifiers.ts`; a breach is answered 400
 * `INVALID_IDENTIFIER` (see `errors.ts`).
 */
import { identifierSchema } from './identifiers'

/** Bounds the schemas are built with (see `ServiceLimits`). */
export interface SchemaLimits {
    idLength: number
    docsPerRequest: number
    reconcileDocs: number
}

const clientId = identifierSchema(256)
const syncId = identifierSchema(256)
const deviceId = identifierSchema(256)

function docSchema(limits: SchemaLimits) {
    return {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'clientVersion', 'data'],
        properties: {
            id: identifierSchema(limits.idLength),
            clientVersion: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
            data: { type: ['object', 'null'] },
            deleted: { type: 'boolean' },
        },
    } as const
}

export function docsBodySchema(limits: SchemaLimits) {
    // The count is checked in the route (413, not 400), so the array has no maxItems here.
    return {
        type: 'object',
        additionalProperties: false,
        required: ['clientId', 'docs'],
        properties: { clientId, syncId, docs: { type: 'array', items: docSchema(limits) } },
    } as const
}

export function reconcileBodySchema(limits: SchemaLimits) {
    return {
        type: 'object',
        additionalProperties: false,
        required: ['clientId', 'docs'],
        properties: { clientId, docs: { type: 'array', items: docSchema(limits) } },
    } as const
}

export const queryBodySchema = {
    type: 'object',
    additionalProperties: false,
    required: ['clientId'],
    properties: { clientId, syncId },
} as const

export const queryStringSchema = {
    type: 'object',
    additionalProperties: false,
    properties: {
        origin: { type: 'string', enum: ['other', 'all'] },
        sinceUtc: { type: 'string', minLength: 1, maxLength: 64 },
        since: { type: 'string', pattern: '^(0|[1-9][0-9]{0,15})$' },
        limit: { type: 'string', pattern: '^[1-9][0-9]{0,8}$' },
    },
} as const

export const registerDeviceBodySchema = {
    type: 'object',
    additionalProperties: false,
    properties: { deviceId },
} as const

export const deviceParamsSchema = {
    type: 'object',
    additionalProperties: false,
    required: ['deviceId'],
    properties: { deviceId },
} as const

export const ackBodySchema = {
    type: 'object',
    additionalProperties: false,
    required: ['cursor'],
    properties: { cursor: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER }, syncId },
} as const

/** The `X-Sync-Id` header PlayAtlas clients send; other headers are allowed. */
export const syncIdHeaderSchema = {
    type: 'object',
    properties: { 'x-sync-id': syncId },
} as const
