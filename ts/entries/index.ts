export * from './types'
export * from './keys'
export * from './order'
export * from './values'
