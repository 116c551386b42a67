import type { OperationBatch } from '@worldbrain/storex'
import type { StorageMiddleware, StorageMiddlewareContext } from '@worldbrain/storex/lib/types/middleware'
import { SyncNotReadyError } from '../errors'

const READ_OPERATIONS = new Set(['findObject', 'findObjects', 'countObjects', 'streamObjects', 'findOneObject', 'findAllObjects'])

/**
 * Stands in for the logging middleware while `setupSync` runs (and after it failed): a write to a
 * synced collection then could not be logged, so it is refused with a typed error instead of going
 * unlogged or failing inside the backend. Reads and other collections pass through.
 */
export class SetupGuardMiddleware implements StorageMiddleware {
    private readonly synced: Set<string>
    private failure: { cause: unknown } | null = null

    constructor(options: { collections: string[] }) {
        this.synced = new Set(options.collections)
    }

    /** From now on refusals say that setup failed, and why. */
    failed(cause: unknown): void {
        this.failure = { cause }
    }

    process(context: StorageMiddlewareContext): Promise<unknown> {
        const [name, ...args] = context.operation as [string, ...unknown[]]
        const collection = this.syncedTarget(name, args)
        if (collection !== null) {
            return Promise.reject(new SyncNotReadyError(collection, this.failure !== null, { cause: this.failure?.cause }))
        }
        return context.next.process({ operation: context.operation })
    }

    private syncedTarget(name: string, args: unknown[]): string | null {
        if (name === 'executeBatch') {
            const step = Array.isArray(args[0]) ? (args[0] as OperationBatch).find((item) => this.synced.has(item?.collection)) : undefined
            return step ? step.collection : null
        }
        const collection = args[0]
        return typeof collection === 'string' && this.synced.has(collection) && !READ_OPERATIONS.has(name) ? collection : null
    }
}
