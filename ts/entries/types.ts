/**
 * The unit everything in the library exchanges: one change to one object (and, for a modify,
 * one field), stamped with the hybrid-logical-clock version of the write that made it.
 */

/** A Storex primary key: a single value, or the values of a compound key in index order. */
export type PrimaryKey = string | number | Array<string | number>

export type SyncOperation = 'create' | 'modify' | 'delete'

export interface SyncLogEntry {
    /** Collection the object belongs to. */
    collection: string
    /** Primary key of the object. */
    pk: PrimaryKey
    /** `create` carries the whole object, `modify` one field, `delete` is a tombstone. */
    operation: SyncOperation
    /** The changed field for `modify`; `null` for `create` and `delete`. */
    field: string | null
    /**
     * `create`: the object's fields without its primary key fields.
     * `modify`: the field's new value (`null` when the field was unset).
     * `delete`: `null`.
     */
    value: unknown
    /** Hybrid-logical-clock version of the write; every entry of one write shares it. */
    version: number
    /** Device that made the change. Ties on `version` are ordered by this id. */
    deviceId: string
    /** Schema version of the sender (ms since epoch of its newest collection version). */
    schemaVersion: number
}
