export { registerPairingRoutes, PAIRING_SOCKET_PATH } from './routes'
export type { PairingRouteOptions } from './routes'
export { DEFAULT_PAIRING_LIMITS, PairingRegistry } from './registry'
export type { PairingLimits } from './registry'
