export * from './types'
export { reconcileLww, pkFieldsObject, jsonEqual, PrimaryKeyShapeError } from './lww'
export { objectStateFromEntries } from './object-state'
export type { ObjectState } from './object-state'
