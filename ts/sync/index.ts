export * from './sync-pass'
export * from './events'
export { applyEntries } from './apply'
