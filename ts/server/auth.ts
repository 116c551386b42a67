import { createHash, randomBytes } from 'crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { HttpError } from './errors'
import type { DocStore } from './store/types'
import { TOKEN_ID_LENGTH, tokenIdOf } from './store/types'

/**
 * Bearer tokens for multi-user mode: 32 random bytes (base64url), of which the store only ever
 * sees the SHA-256 hash, so a leaked database does not leak usable tokens. Without auth the
 * service is single-user and every request belongs to `SINGLE_USER_ID`.
 */

export const SINGLE_USER_ID = 'default'

export function hashToken(token: string): string {
    return createHash('sha256').update(token, 'utf8').digest('hex')
}

export interface CreateTokenOptions {
    store: DocStore
    userId: string
    /** Clock for the token's creation time. Default: Date.now. */
    now?: () => number
    /** Source of the token's 32 bytes. Default: crypto.randomBytes. */
    randomBytes?: (size: number) => Buffer
}

/** Issues a token for `userId`; the returned plain token is shown once and never stored. */
export async function createToken(options: CreateTokenOptions): Promise<string> {
    if (!options.userId) {
        throw new HttpError(400, 'VALIDATION', 'A token needs a non-empty user id')
    }
    const token = (options.randomBytes ?? randomBytes)(32).toString('base64url')
    await options.store.createToken({ userId: options.userId, tokenHash: hashToken(token), nowMs: (options.now ?? Date.now)() })
    return token
}

/** The id `synclog token list` shows for a token and `synclog token revoke --id` takes. */
export function tokenIdOfToken(token: string): string {
    return tokenIdOf(hashToken(token))
}

/**
 * Revokes a token by its id (see `TokenInfo`); its requests are answered 401 from the next one
 * on, as every request looks its token up. Resolves false when no token has that id.
 */
export async function revokeToken(options: { store: DocStore; tokenId: string }): Promise<boolean> {
    if (!/^[0-9a-f]{16}$/.test(options.tokenId)) {
        throw new HttpError(400, 'VALIDATION', `A token id is ${TOKEN_ID_LENGTH} lowercase hex digits, as 'synclog token list' shows them`)
    }
    return options.store.revokeToken({ tokenId: options.tokenId })
}

declare module 'fastify' {
    interface FastifyRequest {
        /** The user whose data this request reads and writes. */
        userId: string
    }
}

/** Routes that answer without a token. */
const PUBLIC_ROUTES = new Set(['/health'])

/** Resolves `request.userId` for every route: from the bearer token, or the single user. */
export function installAuth(app: FastifyInstance, options: { store: DocStore; auth: boolean }): void {
    app.decorateRequest('userId', '')
    app.addHook('onRequest', async (request: FastifyRequest) => {
        if (!options.auth) {
            request.userId = SINGLE_USER_ID
            return
        }
        if (request.routeOptions.url !== undefined && PUBLIC_ROUTES.has(request.routeOptions.url)) {
            return
        }
        const header = request.headers.authorization
        const match = typeof header === 'string' ? /^Bearer ([A-Za-z0-9_-]{1,512})$/.exec(header) : null
        if (!match) {
            throw new HttpError(401, 'UNAUTHORIZED', 'Missing or malformed Authorization: Bearer <token> header')
        }
        const userId = await options.store.findUserByTokenHash(hashToken(match[1]))
        if (userId === null) {
            throw new HttpError(401, 'UNAUTHORIZED', 'Unknown token')
        }
        request.userId = userId
    })
}
