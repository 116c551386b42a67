/**
 * Crash points for the client-crash part: wrappers around a device's backend adapter and its
 * shared log that count every step of a sync pass (each shared-log call, before and after it
 * reaches the service; each adapter read, transaction and write inside a transaction) and throw
 * at a chosen one, as a process dying there would stop everything after it.
 */
import type { AtomicOperations, BackendAdapter } from '../backend/types'
import type { SharedSyncLog } from '../shared-log/types'

export class CrashInjected extends Error {
    constructor(readonly step: number, readonly where: string) {
        super(`crash injected at step ${step} (${where})`)
    }
}

/**
 * Counts steps; throws at step `crashAt` (1-based; 0: never) and at every step after it: the
 * process is dead, so even code that catches the first throw (an apply error is held, not
 * thrown) does nothing more.
 */
export class CrashPoints {
    steps = 0
    crashAt = 0
    /** Where the crash happened, once it has. */
    crashedAt: string | null = null
    /** Where each step was, for the test's output. */
    readonly trace: string[] = []

    step(where: string): void {
        this.steps += 1
        this.trace.push(where)
        if (this.crashAt > 0 && this.steps >= this.crashAt) {
            this.crashedAt ??= where
            throw new CrashInjected(this.steps, where)
        }
    }
}

const LOG_METHODS = new Set(['registerDevice', 'writeEntries', 'readEntries', 'acknowledge'])

/** The shared log with a step before each call (never sent) and after it (sent, answer lost). */
export function crashingSharedLog(inner: SharedSyncLog, points: CrashPoints): SharedSyncLog {
    return new Proxy(inner, {
        get(target, property) {
            const value = Reflect.get(target, property, target)
            if (typeof value !== 'function') {
                return value
            }
            if (typeof property !== 'string' || !LOG_METHODS.has(property)) {
                return value.bind(target)
            }
            return async (...args: unknown[]) => {
                points.step(`before ${property}`)
                const result = await value.apply(target, args)
                points.step(`after ${property}`)
                return result
            }
        },
    })
}

const WRITE_OPS: Array<keyof AtomicOperations> = ['createObject', 'createObjects', 'putObject', 'updateObjects', 'deleteObjects']

/**
 * The adapter with a step at each read, at each transaction start, and before each write in
 * one. Made from `create` on first use: a backend has its adapter only once initialized.
 */
export function crashingAdapter(create: () => BackendAdapter, points: CrashPoints, name = 'crashing'): BackendAdapter {
    let made: BackendAdapter | null = null
    const inner = () => (made ??= create())
    return {
        name,
        atomic<T>(collections: string[], body: (ops: AtomicOperations) => Promise<T>): Promise<T> {
            points.step(`transaction on ${collections.join(',')}`)
            return inner().atomic(collections, (ops) => body(crashingOps(ops, points)))
        },
        findObjects(collection, where, options) {
            points.step(`read ${collection}`)
            return inner().findObjects(collection, where, options)
        },
        checkWhere: (collection, where) => inner().checkWhere(collection, where),
        prepare: () => inner().prepare(),
    }
}

function crashingOps(ops: AtomicOperations, points: CrashPoints): AtomicOperations {
    const wrapped = { ...ops } as AtomicOperations
    for (const name of WRITE_OPS) {
        const original = ops[name] as (...args: unknown[]) => Promise<unknown>
        ;(wrapped as unknown as Record<string, unknown>)[name] = async (collection: string, ...rest: unknown[]) => {
            points.step(`${name} ${collection} in a transaction`)
            return original(collection, ...rest)
        }
    }
    return wrapped
}
