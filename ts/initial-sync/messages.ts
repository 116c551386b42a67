import type { WireEntry } from './codec'
import { InitialSyncOutOfOrderError, InitialSyncUnknownMessageError } from './errors'

/** Version of the message protocol; both sides must speak the same. */
export const INITIAL_SYNC_PROTOCOL = 1

/** Where a receiver stands in a transfer it has not finished: sent to the sender to resume. */
export interface ResumePoint {
    transferId: string
    /** Number of the last batch the receiver committed (0: none). */
    appliedSeq: number
}

export interface CollectionSummary {
    name: string
    objects: number
}

/** Every message of the initial-sync protocol; all are plain JSON. */
export type InitialSyncMessage =
    | { type: 'hello'; protocol: number; role: 'sender' | 'receiver'; deviceId: string; collections: string[]; resume: ResumePoint | null }
    | {
          type: 'summary'
          transferId: string
          /** Batches already committed by the receiver in an earlier attempt; the next batch is this + 1. */
          resumedAfter: number
          collections: CollectionSummary[]
          objectsTotal: number
          bytesEstimate: number
          objectsDone: number
          bytesDone: number
      }
    | { type: 'batch'; transferId: string; seq: number; objects: number; bytes: number; entries: WireEntry[]; checksum: string }
    | { type: 'ack'; transferId: string; seq: number }
    | { type: 'done'; transferId: string; batches: number; objects: number; bytes: number; checksum: string; cursor: string | null }
    | { type: 'complete'; transferId: string }
    | { type: 'pause' }
    | { type: 'resume' }
    | { type: 'abort'; reason: string }
    | { type: 'error'; code: string; message: string }

export type InitialSyncMessageType = InitialSyncMessage['type']

type Shape = Record<string, (value: unknown) => boolean>

const isString = (value: unknown) => typeof value === 'string'
const isCount = (value: unknown) => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
const isStringOrNull = (value: unknown) => value === null || typeof value === 'string'
const isArray = (value: unknown) => Array.isArray(value)

const SHAPES: Record<InitialSyncMessageType, Shape> = {
    hello: {
        protocol: isCount,
        role: value => value === 'sender' || value === 'receiver',
        deviceId: isString,
        collections: value => Array.isArray(value) && value.every(isString),
        resume: value => value === null || (isObject(value) && isString(value.transferId) && isCount(value.appliedSeq)),
    },
    summary: {
        transferId: isString,
        resumedAfter: isCount,
        collections: value => Array.isArray(value) && value.every(item => isObject(item) && isString(item.name) && isCount(item.objects)),
        objectsTotal: isCount,
        bytesEstimate: isCount,
        objectsDone: isCount,
        bytesDone: isCount,
    },
    batch: { transferId: isString, seq: isCount, objects: isCount, bytes: isCount, entries: value => isArray(value) && (value as unknown[]).every(isWireEntry), checksum: isString },
    ack: { transferId: isString, seq: isCount },
    done: { transferId: isString, batches: isCount, objects: isCount, bytes: isCount, checksum: isString, cursor: isStringOrNull },
    complete: { transferId: isString },
    pause: {},
    resume: {},
    abort: { reason: isString },
    error: { code: isString, message: isString },
}

function isObject(value: unknown): value is Record<string, unknown> {
    return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function isWireEntry(value: unknown): boolean {
    if (!isObject(value)) {
        return false
    }
    const pk = value.pk
    const pkOk = typeof pk === 'string' || typeof pk === 'number' || (Array.isArray(pk) && pk.every(part => typeof part === 'string' || typeof part === 'number'))
    return (
        isString(value.collection) &&
        pkOk &&
        (value.operation === 'create' || value.operation === 'modify' || value.operation === 'delete') &&
        isStringOrNull(value.field) &&
        'value' in value &&
        typeof value.version === 'number' &&
        Number.isFinite(value.version) &&
        isString(value.deviceId) &&
        typeof value.schemaVersion === 'number'
    )
}

/** Checks a received message; anything the protocol does not have ends the transfer. */
export function parseMessage(raw: unknown): InitialSyncMessage {
    if (!isObject(raw) || typeof raw.type !== 'string') {
        throw new InitialSyncUnknownMessageError('a message must be an object with a string type')
    }
    const shape = Object.prototype.hasOwnProperty.call(SHAPES, raw.type) ? SHAPES[raw.type as InitialSyncMessageType] : undefined
    if (!shape) {
        throw new InitialSyncUnknownMessageError(`type '${raw.type.slice(0, 64)}'`)
    }
    for (const [field, check] of Object.entries(shape)) {
        if (!check(raw[field])) {
            throw new InitialSyncUnknownMessageError(`'${raw.type}' message with a missing or malformed '${field}'`)
        }
    }
    return raw as unknown as InitialSyncMessage
}

/** The message if it has the type the protocol expects at this point; else an out-of-order error. */
export function expectMessage<T extends InitialSyncMessageType>(message: InitialSyncMessage, type: T): Extract<InitialSyncMessage, { type: T }> {
    if (message.type !== type) {
        throw new InitialSyncOutOfOrderError(`'${message.type}' message, expected '${type}'`)
    }
    return message as Extract<InitialSyncMessage, { type: T }>
}
