import type StorageManager from '@worldbrain/storex'
import { HybridLogicalClock } from './clock/hlc'
import { SyncConfigurationError } from './errors'
import type { SetupSyncOptions } from './setup'

/**
 * Checks every `setupSync` option before anything touches the database, so a mistake costs a
 * typed error naming the option instead of a half-set-up storage manager.
 */

type Check = (value: unknown, name: string) => void

const fn: Check = (value, name) => {
    if (typeof value !== 'function') {
        fail(name, `must be a function (got ${describe(value)})`)
    }
}
const bool: Check = (value, name) => {
    if (typeof value !== 'boolean') {
        fail(name, `must be true or false (got ${describe(value)})`)
    }
}
const positiveInteger: Check = (value, name) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
        fail(name, `must be a whole number of at least 1 (got ${describe(value)})`)
    }
}
const nonNegativeNumber: Check = (value, name) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        fail(name, `must be a finite number of at least 0 (got ${describe(value)})`)
    }
}

const OPTIONAL_CHECKS: Record<Exclude<keyof SetupSyncOptions, 'storageManager' | 'collections' | 'sharedLog'>, Check> = {
    autoPk: bool,
    generateId: fn,
    generateDeviceId: fn,
    now: fn,
    clock: (value, name) => {
        if (!(value instanceof HybridLogicalClock)) {
            fail(name, `must be a HybridLogicalClock (got ${describe(value)})`)
        }
    },
    maxDriftMs: nonNegativeNumber,
    reconciler: fn,
    backendAdapter: (value, name) => {
        const adapter = value as { atomic?: unknown; findObjects?: unknown; checkWhere?: unknown; prepare?: unknown } | null
        if (!isObject(value) || ['atomic', 'findObjects', 'checkWhere', 'prepare'].some((key) => typeof adapter?.[key as keyof typeof adapter] !== 'function')) {
            fail(name, 'must be a BackendAdapter (atomic, findObjects, checkWhere, prepare)')
        }
    },
    middleware: (value, name) => {
        if (!Array.isArray(value) || value.some((item) => !isObject(item) || typeof (item as { process?: unknown }).process !== 'function')) {
            fail(name, 'must be an array of Storex middleware (objects with a process() method)')
        }
    },
    uploadBatchSize: positiveInteger,
    uploadBatchBytes: positiveInteger,
    downloadBatchSize: positiveInteger,
    preSend: fn,
    postReceive: fn,
}

const KNOWN = new Set<string>(['storageManager', 'collections', 'sharedLog', ...Object.keys(OPTIONAL_CHECKS)])

/**
 * Dexie's backend builds its schema when initialization finishes; collections registered after
 * that (the library's log) would not exist in the database. (Only for a manager setupSync has not
 * seen: its own retry after a failure finds the manager initialized by itself.)
 */
export function checkNotInitialized(storageManager: StorageManager): void {
    if ((storageManager.backend as { initialized?: unknown } | undefined)?.initialized === true) {
        fail('storageManager', 'is already initialized: call setupSync instead of finishInitialization (setupSync finishes it after registering the sync log)')
    }
}

export function validateSetupOptions(options: SetupSyncOptions): void {
    if (!isObject(options)) {
        throw new SyncConfigurationError(`setupSync: expected an options object (got ${describe(options)})`)
    }
    for (const key of Object.keys(options)) {
        if (!KNOWN.has(key)) {
            fail(key, `is not an option of setupSync (options: ${[...KNOWN].join(', ')})`)
        }
    }
    checkStorageManager(options.storageManager)
    checkCollections(options.collections, options.storageManager)
    checkSharedLog(options.sharedLog)
    for (const [name, check] of Object.entries(OPTIONAL_CHECKS)) {
        const value = (options as unknown as Record<string, unknown>)[name]
        if (value !== undefined) {
            check(value, name)
        }
    }
    if (options.uploadBatchBytes !== undefined && options.uploadBatchBytes < 1024) {
        fail('uploadBatchBytes', `must be at least 1024 (got ${options.uploadBatchBytes}): a single entry could never be sent`)
    }
}

function checkStorageManager(value: unknown): asserts value is StorageManager {
    const candidate = value as { registry?: { collections?: unknown }; backend?: unknown; setMiddleware?: unknown } | null
    if (!isObject(value) || !isObject(candidate?.registry) || !isObject(candidate?.registry?.collections) || typeof candidate?.setMiddleware !== 'function') {
        fail('storageManager', `must be a Storex StorageManager (got ${describe(value)})`)
    }
}

function checkCollections(value: unknown, storageManager: StorageManager): void {
    if (typeof value === 'string') {
        fail('collections', `must be an array of collection names (got the string '${value}'; did you mean ['${value}']?)`)
    }
    if (!Array.isArray(value) || value.length === 0) {
        fail('collections', `must be a non-empty array of collection names (got ${describe(value)})`)
    }
    const seen = new Set<string>()
    for (const name of value) {
        if (typeof name !== 'string' || name === '') {
            fail('collections', `must hold collection names (got ${describe(name)})`)
        }
        if (seen.has(name)) {
            fail('collections', `names '${name}' twice`)
        }
        seen.add(name)
        if (!storageManager.registry.collections[name]) {
            fail('collections', `names '${name}', which is not registered: register every collection before calling setupSync`)
        }
    }
}

function checkSharedLog(value: unknown): void {
    const log = value as Record<string, unknown> | null
    const missing = ['writeEntries', 'readEntries', 'acknowledge'].filter((method) => typeof log?.[method] !== 'function')
    if (!isObject(value) || missing.length) {
        fail('sharedLog', `must be a SharedSyncLog (missing ${missing.join(', ') || 'everything'})`)
    }
}

function fail(option: string, problem: string): never {
    throw new SyncConfigurationError(`setupSync: option '${option}' ${problem}`, { option })
}

function isObject(value: unknown): value is object {
    return typeof value === 'object' && value !== null
}

function describe(value: unknown): string {
    if (value === null || value === undefined) {
        return String(value)
    }
    if (typeof value === 'string') {
        return `'${value}'`
    }
    if (typeof value === 'number' || typeof value === 'boolean') {
        return String(value)
    }
    return Array.isArray(value) ? 'an array' : `a ${typeof value}`
}
