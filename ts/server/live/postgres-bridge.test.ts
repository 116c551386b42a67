/**
 * PostgresLiveBridge against the real server: notifications between two bridges (as two service
 * processes), none delivered back to the sender, none across schemas, and a listening
 * connection killed by the database is re-opened.
 */
import { Pool } from 'pg'
import { waitFor } from '../../integration/continuous-sync-fakes'
import { testPostgresUrl } from '../store/store-suite'
import type { LiveNotification } from './hub'
import { PostgresLiveBridge } from './postgres-bridge'

const URL = testPostgresUrl()
const bridges: PostgresLiveBridge[] = []
afterEach(async () => {
    for (const bridge of bridges.splice(0)) {
        await bridge.close()
    }
})

async function bridge(schema: string): Promise<{ bridge: PostgresLiveBridge; received: LiveNotification[] }> {
    const received: LiveNotification[] = []
    const created = new PostgresLiveBridge({ connectionString: URL, schema, reconnectBaseMs: 10, reconnectMaxMs: 100 })
    bridges.push(created)
    await created.start(notification => received.push(notification))
    return { bridge: created, received }
}

it('carries notifications to the other processes of the same schema only', async () => {
    const schema = `live_bridge_${process.pid}`
    const one = await bridge(schema)
    const two = await bridge(schema)
    const elsewhere = await bridge(`${schema}_other`)
    one.bridge.publish({ userId: 'alice', seq: 7, writer: 'laptop' })
    await waitFor(() => two.received.length === 1, 'the other process to hear it')
    expect(two.received).toEqual([{ userId: 'alice', seq: 7, writer: 'laptop' }])
    // Round trip through PostgreSQL: by now one's own copy has arrived too, and was skipped.
    two.bridge.publish({ userId: 'alice', seq: 8, writer: 'phone' })
    await waitFor(() => one.received.length === 1, 'the first process to hear the second')
    expect(one.received).toEqual([{ userId: 'alice', seq: 8, writer: 'phone' }])
    expect(two.received).toHaveLength(1)
    expect(elsewhere.received).toEqual([])
})

it('re-opens its listening connection when the database drops it', async () => {
    const schema = `live_bridge_kill_${process.pid}`
    const one = await bridge(schema)
    const two = await bridge(schema)
    const admin = new Pool({ connectionString: URL, max: 1 })
    try {
        const killed = await admin.query(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'synclog-live' AND query LIKE $1 AND pid <> pg_backend_pid()`,
            [`LISTEN "${two.bridge.channel}"%`],
        )
        expect(killed.rowCount).toBeGreaterThan(0)
    } finally {
        await admin.end()
    }
    // Published until one arrives: those sent while the listener was down are lost (a hint, never data).
    let seq = 0
    await waitFor(() => {
        if (two.received.length === 0) {
            one.bridge.publish({ userId: 'alice', seq: ++seq, writer: 'laptop' })
        }
        if (one.received.length === 0) {
            two.bridge.publish({ userId: 'alice', seq: ++seq, writer: 'phone' })
        }
        return one.received.length > 0 && two.received.length > 0
    }, 'notifications to flow both ways again')
})
