import { SyncError } from '../errors'
import type { TabMessage } from './multi-tab'

export interface Waiter<T> {
    resolve(result: T): void
    reject(error: unknown): void
}

type PassReport = Extract<TabMessage, { kind: 'passFinished' | 'passFailed' }>

/**
 * `syncNow()` calls made in a tab that does not lead: the leader runs the pass, so each call
 * travels as an id over the tab channel and is settled by the leader's report of the pass that
 * served it. If this tab becomes the leader, or stops, the open calls are handed back.
 */
export class LeaderRequests<T> {
    private readonly open = new Map<string, Waiter<T>>()

    constructor(private readonly newId: () => string) {}

    send(post: (message: TabMessage) => void): Promise<T> {
        const id = this.newId()
        return new Promise<T>((resolve, reject) => {
            this.open.set(id, { resolve, reject })
            post({ kind: 'syncRequest', id })
        })
    }

    /** Settles this tab's calls among the report's ids (others belong to other tabs). */
    settle(report: PassReport, toResult: (result: Extract<PassReport, { kind: 'passFinished' }>['result']) => T): void {
        for (const id of report.ids) {
            const waiter = this.open.get(id)
            this.open.delete(id)
            if (report.kind === 'passFinished') {
                waiter?.resolve(toResult(report.result))
            } else {
                waiter?.reject(new SyncError(report.code, report.message))
            }
        }
    }

    /** Every open call, removed from here: to be served by this tab, or rejected when it stops. */
    takeAll(): Waiter<T>[] {
        const waiters = [...this.open.values()]
        this.open.clear()
        return waiters
    }
}
