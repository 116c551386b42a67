import type StorageManager from '@worldbrain/storex'
import type { CollectionDefinition } from '@worldbrain/storex'
import type { AtomicOperations, BackendAdapter, StoredObject } from './types'
import { assertTypeormWhere } from './typeorm-where'
import { SyncConfigurationError } from '../errors'

type FindOptions = { limit?: number; order?: Array<[string, 'asc' | 'desc']> }

/** The parts of a TypeORM query builder the adapter uses (typeorm 0.2.x). */
interface QueryBuilderLike {
    select(selection: string[]): QueryBuilderLike
    getQuery(): string
    getParameters(): Record<string, unknown>
}

interface WriteBuilderLike {
    orUpdate(overwrite: string[], conflictTarget: string[]): WriteBuilderLike
    where(condition: string): WriteBuilderLike
    setParameters(parameters: Record<string, unknown>): WriteBuilderLike
    updateEntity(enabled: boolean): WriteBuilderLike
    execute(): Promise<{ identifiers?: Array<Record<string, unknown>> }>
}

interface EntityManagerLike {
    createQueryBuilder(): {
        insert(): { into(target: unknown): { values(values: StoredObject | StoredObject[]): WriteBuilderLike } }
        update(target: unknown): { set(values: StoredObject): WriteBuilderLike }
        delete(): { from(target: unknown): WriteBuilderLike }
    }
}

interface EntityMetadataLike {
    tableName: string
    primaryColumns: Array<{ propertyName: string; databaseName: string; generationStrategy?: string }>
    columns: Array<{ propertyName: string; databaseName: string }>
}

interface ConnectionLike {
    options: { type: string }
    driver: { supportedUpsertType?: string }
    transaction<T>(run: (entityManager: EntityManagerLike) => Promise<T>): Promise<T>
    getMetadata(target: unknown): EntityMetadataLike
    query(sql: string): Promise<unknown>
}

/** The parts of storex-backend-typeorm 0.2.x the adapter uses; the library never imports it. */
interface TypeormBackendLike {
    connection?: ConnectionLike
    entitySchemas?: Record<string, unknown>
    options?: { legacyMemexCompatibility?: boolean }
    registry: { collections: Record<string, CollectionDefinition> }
    migrate(): Promise<void>
    operation(name: string, ...args: unknown[]): Promise<unknown>
    findObjects(collection: string, where: StoredObject, options?: FindOptions & { entityManager?: EntityManagerLike }): Promise<StoredObject[]>
    _preprocessFilteredOperation(
        collection: string,
        where: StoredObject,
        options: { tableCasing: 'camel-case'; entityManager?: EntityManagerLike },
    ): { queryBuilderWithWhere: QueryBuilderLike }
    /** Private in the typings, but what createObject/updateObjects run before writing: JSON and relationship fields. */
    writeObjectCleaner(object: StoredObject, options: { collectionDefinition: CollectionDefinition }): StoredObject
}

export function isTypeormBackend(backend: unknown): backend is TypeormBackendLike {
    const candidate = backend as Partial<TypeormBackendLike> | null
    return (
        !!candidate &&
        typeof candidate === 'object' &&
        typeof candidate.migrate === 'function' &&
        typeof candidate._preprocessFilteredOperation === 'function'
    )
}

/** SQLite's default limit on bound parameters is 32766; stay under it in bulk inserts. */
const MAX_PARAMETERS = 30000

/** A table, column or index name as an SQL identifier. */
function quoteName(name: string): string {
    return `"${name.replace(/"/g, '""')}"`
}

/**
 * One queue per backend: storex-backend-typeorm on SQLite runs every statement on one shared
 * connection, so a statement issued while a transaction is open joins that transaction (and a
 * second BEGIN fails and rolls the first one back). Transactions, the adapter's reads and the
 * app's own operations on the backend all take turns.
 */
const queues = new WeakMap<object, Queue>()
const migrated = new WeakSet<object>()

class Queue {
    private tail: Promise<unknown> = Promise.resolve()

    run<T>(task: () => Promise<T>): Promise<T> {
        const result = this.tail.then(task, task)
        this.tail = result.then(
            () => undefined,
            () => undefined,
        )
        return result
    }
}

function queueFor(backend: TypeormBackendLike): Queue {
    let queue = queues.get(backend)
    if (!queue) {
        const created = new Queue()
        queue = created
        queues.set(backend, created)
        // App operations reach the backend through `operation` (after all middleware); the
        // adapter itself calls the backend's methods directly, so it never waits for itself.
        const operation = backend.operation.bind(backend)
        backend.operation = (name, ...args) => created.run(() => operation(name, ...args))
    }
    return queue
}

export interface TypeormBackendAdapterOptions {
    storageManager: StorageManager
    /**
     * Keep SQLite's foreign-key enforcement on. Default: off after `prepare()`, because a sync log
     * cannot honour it: a parent deleted on one device while a child is added on another must
     * converge on both, as it does on IndexedDB (which has no foreign keys).
     */
    enforceForeignKeys?: boolean
}

/**
 * Adapter for storex-backend-typeorm (SQLite). The backend's own batch is not atomic (its
 * update and delete steps run outside the transaction), its createObject upserts, and its
 * deleteObjects fails on camel-case collection names; so this adapter opens the transaction
 * itself and runs every operation on the transaction's entity manager.
 */
export class TypeormBackendAdapter implements BackendAdapter {
    readonly name = 'typeorm'
    private readonly backend: TypeormBackendLike
    private readonly queue: Queue
    private readonly enforceForeignKeys: boolean

    /** May be made before `finishInitialization` (e.g. for setupSync's `backendAdapter` option). */
    constructor(options: TypeormBackendAdapterOptions) {
        const backend = options.storageManager.backend
        if (!isTypeormBackend(backend)) {
            throw new SyncConfigurationError('TypeormBackendAdapter needs a storex-backend-typeorm backend')
        }
        this.backend = backend
        this.queue = queueFor(backend)
        this.enforceForeignKeys = options.enforceForeignKeys ?? false
    }

    /** The backend connects in `finishInitialization`. */
    private get connection(): ConnectionLike {
        if (!this.backend.connection) {
            throw new SyncConfigurationError('TypeormBackendAdapter: call storageManager.finishInitialization() first (the backend connects then)')
        }
        return this.backend.connection
    }

    /**
     * The body must work through `ops` only: the adapter's own reads and the storage manager's
     * operations wait for the transaction to end. SQLite locks the whole database, so the
     * collection list is not needed.
     */
    atomic<T>(_collections: string[], body: (ops: AtomicOperations) => Promise<T>): Promise<T> {
        return this.queue.run(() => this.connection.transaction(entityManager => body(this.operations(entityManager))))
    }

    findObjects(collection: string, where: StoredObject, options?: FindOptions): Promise<StoredObject[]> {
        // Through the queue: outside a transaction a read must not see another one's uncommitted rows.
        return this.queue.run(() => this.backend.findObjects(collection, where, { ...options }))
    }

    checkWhere(collection: string, where: StoredObject): void {
        assertTypeormWhere(collection, where, this.backend.registry.collections[collection])
    }

    /** Creates the tables (`migrate()`, once per backend): the first write needs them. */
    prepare(): Promise<void> {
        return this.queue.run(async () => {
            if (!migrated.has(this.backend)) {
                await this.backend.migrate()
                migrated.add(this.backend)
            }
            // migrate() switches enforcement back on when it finishes, so this comes after it.
            if (!this.enforceForeignKeys && this.connection.options.type === 'sqlite') {
                await this.connection.query('PRAGMA foreign_keys = OFF')
            }
        })
    }

    /** An index on the column (storex-backend-typeorm makes none from the schema); with `unique`, an insert of a second row with the value fails. */
    ensureIndex(collection: string, field: string, options: { unique: boolean }): Promise<void> {
        return this.queue.run(async () => {
            const { table, column, nameOf } = this.indexNames('ensureIndex', collection, field)
            // The field's index of the other kind, made before the declaration changed (the
            // client log's id index was unique until 2026-12-03), would cost every write for nothing.
            await this.connection.query(`DROP INDEX IF EXISTS ${quoteName(nameOf(!options.unique))}`)
            await this.connection.query(`CREATE ${options.unique ? 'UNIQUE ' : ''}INDEX IF NOT EXISTS ${quoteName(nameOf(options.unique))} ON ${quoteName(table)} (${quoteName(column)})`)
        })
    }

    dropIndex(collection: string, field: string): Promise<void> {
        return this.queue.run(async () => {
            const { nameOf } = this.indexNames('dropIndex', collection, field)
            for (const unique of [true, false]) {
                await this.connection.query(`DROP INDEX IF EXISTS ${quoteName(nameOf(unique))}`)
            }
        })
    }

    /** The table and the names `ensureIndex` gives a field's indices. */
    private indexNames(caller: string, collection: string, field: string): { table: string; column: string; nameOf: (unique: boolean) => string } {
        const metadata = this.metadata(collection)
        const column = metadata.columns.find(candidate => candidate.propertyName === field)
        if (!column) {
            throw new SyncConfigurationError(`${caller}: '${collection}' has no field '${field}'`)
        }
        const table = metadata.tableName
        return { table, column: column.databaseName, nameOf: unique => `${table}_${column.databaseName}_${unique ? 'unique' : 'index'}` }
    }

    /**
     * The key must be an auto-increment integer (storex-backend-typeorm's default `autoPkOptions`)
     * and, on SQLite, declared `AUTOINCREMENT`: a plain rowid hands out the greatest key again once
     * that row is deleted.
     */
    assertIncreasingKey(collection: string): Promise<void> {
        return this.queue.run(async () => {
            const metadata = this.metadata(collection)
            const [key, ...more] = metadata.primaryColumns
            if (!key || more.length || key.generationStrategy !== 'increment') {
                throw new SyncConfigurationError(
                    `'${collection}' needs a generated auto-increment integer key (storex-backend-typeorm's default autoPkOptions { generated: true, type: 'integer' }); it has ${key ? `generation '${key.generationStrategy ?? 'none'}'` : 'no key'}`,
                    { option: 'autoPkOptions' },
                )
            }
            if (this.connection.options.type === 'sqlite') {
                const tables = (await this.connection.query(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '${metadata.tableName.replace(/'/g, "''")}'`)) as Array<{ sql?: string }>
                if (!/AUTOINCREMENT/i.test(tables[0]?.sql ?? '')) {
                    throw new SyncConfigurationError(`'${collection}' (table ${metadata.tableName}) has no AUTOINCREMENT key: SQLite would reuse the greatest key once that row is deleted`, { option: 'autoPkOptions' })
                }
            }
        })
    }

    private operations(entityManager: EntityManagerLike): AtomicOperations {
        const backend = this.backend
        const operations: AtomicOperations = {
            createObject: async (collection, object) => {
                const builder = entityManager.createQueryBuilder().insert().into(this.schema(collection)).values(this.cleanForWrite(collection, object))
                const result = await builder.execute()
                // The object as given plus what the database generated (an auto-increment key),
                // with unset optional fields as the backend's own createObject returns them.
                return this.asReturned(collection, { ...object, ...(result.identifiers?.[0] ?? {}) })
            },
            createObjects: async (collection, objects) => {
                const rows = objects.map(object => this.cleanForWrite(collection, object))
                const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS / Math.max(1, this.metadata(collection).columns.length)))
                for (let start = 0; start < rows.length; start += perStatement) {
                    const chunk = rows.slice(start, start + perStatement)
                    await entityManager.createQueryBuilder().insert().into(this.schema(collection)).values(chunk).updateEntity(false).execute()
                }
            },
            putObject: async (collection, object) => {
                // Replace, like IndexedDB's put: fields missing from `object` must not survive.
                const metadata = this.metadata(collection)
                const keys = metadata.primaryColumns.map(column => column.databaseName)
                const others = metadata.columns.map(column => column.databaseName).filter(name => !keys.includes(name))
                const insert = entityManager.createQueryBuilder().insert().into(this.schema(collection)).values(this.cleanForWrite(collection, object)).updateEntity(false)
                if (this.connection.driver.supportedUpsertType === 'on-conflict-do-update' && others.length) {
                    // One statement; the insert sets missing fields to NULL, and so does the update.
                    await insert.orUpdate(others, keys).execute()
                    return
                }
                const pkWhere = Object.fromEntries(metadata.primaryColumns.map(column => [column.propertyName, object[column.propertyName]]))
                await this.deleteWhere(entityManager, collection, pkWhere)
                await insert.execute()
            },
            // Multi-row INSERT ... ON CONFLICT DO UPDATE, in chunks under SQLite's parameter limit.
            putObjects: async (collection, objects) => {
                const metadata = this.metadata(collection)
                const keys = metadata.primaryColumns.map(column => column.databaseName)
                const others = metadata.columns.map(column => column.databaseName).filter(name => !keys.includes(name))
                if (this.connection.driver.supportedUpsertType !== 'on-conflict-do-update' || !others.length) {
                    for (const object of objects) {
                        await operations.putObject(collection, object)
                    }
                    return
                }
                const rows = objects.map(object => this.cleanForWrite(collection, object))
                const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS / Math.max(1, metadata.columns.length)))
                for (let start = 0; start < rows.length; start += perStatement) {
                    const chunk = rows.slice(start, start + perStatement)
                    await entityManager.createQueryBuilder().insert().into(this.schema(collection)).values(chunk).updateEntity(false).orUpdate(others, keys).execute()
                }
            },
            findObjects: (collection, where, options) => backend.findObjects(collection, where, { ...options, entityManager }),
            updateObjects: async (collection, where, updates) => {
                const values = this.cleanForWrite(collection, updates)
                if (!Object.keys(values).length) {
                    return
                }
                const match = this.matchByPk(entityManager, collection, where)
                await entityManager.createQueryBuilder().update(this.schema(collection)).set(values).where(match.condition).setParameters(match.parameters).execute()
            },
            deleteObjects: (collection, where) => this.deleteWhere(entityManager, collection, where),
        }
        return operations
    }

    private async deleteWhere(entityManager: EntityManagerLike, collection: string, where: StoredObject): Promise<void> {
        const match = this.matchByPk(entityManager, collection, where)
        await entityManager.createQueryBuilder().delete().from(this.schema(collection)).where(match.condition).setParameters(match.parameters).execute()
    }

    /**
     * `(pk columns) IN (SELECT pk columns ... WHERE <where>)`. The backend's where translation
     * qualifies columns with a table alias, which SQLite accepts in a SELECT but not in an
     * UPDATE or DELETE; as a subquery it works for every collection name.
     */
    private matchByPk(entityManager: EntityManagerLike, collection: string, where: StoredObject): { condition: string; parameters: Record<string, unknown> } {
        const primaryColumns = this.metadata(collection).primaryColumns
        const { queryBuilderWithWhere } = this.backend._preprocessFilteredOperation(collection, where, { tableCasing: 'camel-case', entityManager })
        const select = queryBuilderWithWhere.select(primaryColumns.map(column => `${collection}.${column.propertyName}`))
        const columns = primaryColumns.map(column => `"${column.databaseName}"`).join(', ')
        return { condition: `(${columns}) IN (${select.getQuery()})`, parameters: select.getParameters() }
    }

    /**
     * storex-backend-typeorm's createObject returns the saved row: optional fields the object
     * left out read as null, or, with `legacyMemexCompatibility`, null optional fields are left out.
     */
    private asReturned(collection: string, object: StoredObject): StoredObject {
        const fields = this.backend.registry.collections[collection]?.fields ?? {}
        const legacy = this.backend.options?.legacyMemexCompatibility === true
        for (const [name, definition] of Object.entries(fields)) {
            if (!definition.optional) {
                continue
            }
            if (legacy && object[name] === null) {
                delete object[name]
            } else if (!legacy && object[name] === undefined) {
                object[name] = null
            }
        }
        return object
    }

    /** The backend's write cleaning on a copy: it serializes JSON and maps relationship aliases in place. */
    private cleanForWrite(collection: string, object: StoredObject): StoredObject {
        const collectionDefinition = this.backend.registry.collections[collection]
        if (!collectionDefinition) {
            throw new SyncConfigurationError(`Unknown collection '${collection}'`)
        }
        const copy: StoredObject = {}
        for (const [key, value] of Object.entries(object)) {
            if (value !== undefined) {
                copy[key] = value
            }
        }
        return this.backend.writeObjectCleaner(copy, { collectionDefinition })
    }

    private schema(collection: string): unknown {
        const schema = this.backend.entitySchemas?.[collection]
        if (!schema) {
            throw new SyncConfigurationError(`Unknown collection '${collection}'`)
        }
        return schema
    }

    private metadata(collection: string): EntityMetadataLike {
        return this.connection.getMetadata(this.schema(collection))
    }
}
