import StorageManager from '@worldbrain/storex'
import type { StorageBackend } from '@worldbrain/storex'
import { DexieStorageBackend } from '@worldbrain/storex-backend-dexie'
import inMemory from '@worldbrain/storex-backend-dexie/lib/in-memory'
import { setupSync } from '../setup'
import { MemorySharedSyncLog } from '../shared-log/memory'
import { closeStorageManager } from '../integration/devices'

/**
 * With sync installed, `createObject` returns what plain Storex returns on the same backend
 * (flat and nested): the caller's object, its keys, and the nulls the backend fills in for
 * omitted optional fields (or, with `legacyMemexCompatibility`, leaves out).
 */

let counter = 0

const BACKENDS: Record<string, (legacy: boolean) => StorageBackend> = {
    dexie: legacy => new DexieStorageBackend({ dbName: `create-return-${++counter}`, idbImplementation: inMemory(), legacyMemexCompatibility: legacy }) as unknown as StorageBackend,
    sqlite: legacy => {
        const { TypeORMStorageBackend } = require('@worldbrain/storex-backend-typeorm') as typeof import('@worldbrain/storex-backend-typeorm')
        return new TypeORMStorageBackend({
            connectionOptions: { type: 'sqlite', database: ':memory:', name: `create-return-${++counter}` },
            legacyMemexCompatibility: legacy,
        }) as unknown as StorageBackend
    },
}

function register(storageManager: StorageManager): void {
    storageManager.registry.registerCollections({
        note: { version: new Date('2026-01-01'), fields: { title: { type: 'string' }, body: { type: 'string', optional: true }, due: { type: 'datetime', optional: true } } },
        user: { version: new Date('2026-01-01'), fields: { name: { type: 'string' }, nick: { type: 'string', optional: true } } },
        email: {
            version: new Date('2026-01-01'),
            fields: { address: { type: 'string' }, label: { type: 'string', optional: true } },
            relationships: [{ childOf: 'user' }],
        },
    })
}

async function open(backend: string, options: { sync: boolean; legacy: boolean; autoPk?: boolean }): Promise<StorageManager> {
    const storageManager = new StorageManager({ backend: BACKENDS[backend](options.legacy) })
    register(storageManager)
    if (options.sync) {
        await setupSync({ storageManager, collections: ['note', 'user', 'email'], sharedLog: new MemorySharedSyncLog(), autoPk: options.autoPk, generateDeviceId: () => 'device' })
    } else {
        await storageManager.finishInitialization()
        await storageManager.backend.migrate()
    }
    return storageManager
}

/**
 * Keys are generated: compare their presence (and their type, unless auto-PK deliberately makes
 * them UUIDs where plain Storex counts), not their value.
 */
function maskKeys(value: unknown, keepType: boolean): unknown {
    if (Array.isArray(value)) {
        return value.map(item => maskKeys(item, keepType))
    }
    if (value && typeof value === 'object' && !(value instanceof Date)) {
        return Object.fromEntries(
            Object.entries(value).map(([key, inner]) => [key, key === 'id' ? (keepType ? `<${typeof inner}>` : '<key>') : maskKeys(inner, keepType)]),
        )
    }
    return value
}

/**
 * storex-backend-typeorm 0.2.1 silently drops nested children (it stores the parent only and
 * returns the children as given); with sync every child is created and gets its key, as on Dexie.
 */
function withChildKeys(result: Record<string, unknown>, keyType: string): Record<string, unknown> {
    const object = result.object as Record<string, unknown>
    const emails = object.emails as Array<Record<string, unknown>> | undefined
    return { object: { ...object, ...(emails ? { emails: emails.map(email => ({ ...email, id: keyType })) } : {}) } }
}

const WRITES: Array<[string, string, () => Record<string, unknown>]> = [
    ['flat, optional fields omitted', 'note', () => ({ title: 'a' })],
    ['flat, optional field explicitly null', 'note', () => ({ title: 'a', body: null })],
    ['flat, every field given', 'note', () => ({ title: 'a', body: 'b', due: new Date('2026-02-03T04:05:06.007Z') })],
    ['nested, children with omitted optional fields', 'user', () => ({ name: 'u', emails: [{ address: 'x@y' }, { address: 'z@y', label: 'work' }] })],
    ['nested, no children', 'user', () => ({ name: 'u', nick: 'n', emails: [] })],
]

describe.each(['dexie', 'sqlite'])('createObject return value with sync on %s', backend => {
    describe.each([
        ['default options', false],
        ['legacyMemexCompatibility', true],
    ])('%s', (_label, legacy) => {
        describe.each([
            ['auto-PK UUIDs', true],
            ['backend keys', false],
        ])('%s', (_pkLabel, autoPk) => {
            let plain: StorageManager
            let synced: StorageManager
            beforeEach(async () => {
                plain = await open(backend, { sync: false, legacy: legacy as boolean })
                synced = await open(backend, { sync: true, legacy: legacy as boolean, autoPk: autoPk as boolean })
            })
            afterEach(async () => {
                await closeStorageManager(plain)
                await closeStorageManager(synced)
            })

            it.each(WRITES)('%s: equals what plain Storex returns', async (_name, collection, make) => {
                const plainResult = maskKeys(await plain.collection(collection).createObject(make()), !autoPk) as Record<string, unknown>
                const expected = backend === 'sqlite' ? withChildKeys(plainResult, autoPk ? '<key>' : '<number>') : plainResult
                const input = make()
                const before = JSON.stringify(input)
                const actual = (await synced.collection(collection).createObject(input)) as Record<string, unknown>
                expect(maskKeys(actual, !autoPk)).toEqual(expected)
                // Plain Dexie fills the caller's object in place; with sync the caller's object is
                // left alone (the library never mutates what the app hands it).
                expect(JSON.stringify(input)).toBe(before)
            })
        })
    })
})
