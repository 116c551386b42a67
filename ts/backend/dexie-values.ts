import type { CollectionDefinition } from '@worldbrain/storex'

/**
 * Whether storex-backend-dexie's cleaners can change an object of this collection: custom field
 * types, full-text indexed text fields, and childOf relationships whose alias differs from their
 * field. Anything else passes through them unchanged, so the per-object chain can be skipped.
 */
export function collectionNeedsCleaning(definition: CollectionDefinition | undefined): boolean {
    if (!definition) {
        return true
    }
    const fields = Object.values(definition.fields ?? {}) as Array<{ type: string; fieldObject?: unknown; _index?: unknown }>
    const relationships = (definition.relationships ?? []) as Array<{ alias?: string; fieldName?: string; childOf?: unknown; singleChildOf?: unknown }>
    return (
        fields.some(field => !!field.fieldObject || (field.type === 'text' && field._index != null)) ||
        relationships.some(relationship => (!!relationship.childOf || !!relationship.singleChildOf) && relationship.alias !== relationship.fieldName)
    )
}

/** The smallest double greater than `value` (itself for NaN and Infinity). */
export function nextDoubleUp(value: number): number {
    if (Number.isNaN(value) || value === Infinity) {
        return value
    }
    if (value === 0) {
        return Number.MIN_VALUE
    }
    const view = new DataView(new ArrayBuffer(8))
    view.setFloat64(0, value)
    const bits = view.getBigUint64(0)
    view.setBigUint64(0, value > 0 ? bits + BigInt(1) : bits - BigInt(1))
    return view.getFloat64(0)
}
