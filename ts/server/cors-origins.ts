import { SyncConfigurationError } from '../errors'

/**
 * Validation of configured CORS origins, apart from the plugin (cors.ts) so the CLI can check
 * `--cors-origin` without loading fastify.
 */

const SCHEME = /^[a-z][a-z0-9+.-]*$/
/** A host of a non-http(s) origin: a lowercase DNS name or IPv4, or a bracketed IPv6 literal. */
const GENERIC_HOST = /^([a-z0-9-]+(\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(:([1-9][0-9]{0,4}))?$/

/**
 * Checks `corsOrigins` and returns them as given. Each must be `*` (alone, and only without
 * auth) or an origin exactly as a browser sends it in the `Origin` header: `scheme://host[:port]`,
 * lowercase, without path or trailing slash, and for http(s) without the default port.
 * Refuses instead of normalizing, so the configured string is the one that is matched.
 */
export function validateCorsOrigins(origins: unknown, options: { auth: boolean; option?: string }): string[] {
    const name = options.option ?? 'corsOrigins'
    if (origins === undefined) {
        return []
    }
    if (!Array.isArray(origins)) {
        throw new SyncConfigurationError(`Option '${name}' must be an array of origins, got ${describe(origins)}`, { option: name })
    }
    for (const origin of origins) {
        if (typeof origin !== 'string') {
            throw new SyncConfigurationError(`Option '${name}' must contain origin strings, got ${describe(origin)}`, { option: name })
        }
        if (origin === '*') {
            if (options.auth) {
                throw new SyncConfigurationError(`Option '${name}': '*' is allowed only in single-user mode (without auth); list the origins of your app`, { option: name })
            }
            if (origins.length > 1) {
                throw new SyncConfigurationError(`Option '${name}': '*' already allows every origin and cannot be combined with others`, { option: name })
            }
            continue
        }
        const problem = originProblem(origin)
        if (problem) {
            throw new SyncConfigurationError(`Option '${name}': '${origin}' is not an origin (scheme://host[:port]): ${problem}`, { option: name })
        }
    }
    return [...origins]
}

function originProblem(origin: string): string | null {
    const match = /^([^:/?#]+):\/\/(.*)$/.exec(origin)
    if (!match) {
        return 'it has no scheme://'
    }
    const [, scheme, rest] = match
    if (!SCHEME.test(scheme)) {
        return `the scheme must be a lowercase letter followed by letters, digits, '+', '-' or '.'`
    }
    if (scheme === 'http' || scheme === 'https') {
        let parsed: URL | null = null
        try {
            parsed = new URL(origin)
        } catch {
            return 'it does not parse as a URL'
        }
        if (parsed.origin !== origin) {
            return `browsers send it as '${parsed.origin}'`
        }
        return null
    }
    if (/[/?#]/.test(rest)) {
        return 'an origin has no path, query or fragment'
    }
    if (!GENERIC_HOST.test(rest)) {
        return 'the host must be a lowercase name or IP address, with an optional port'
    }
    const port = /:([0-9]+)$/.exec(rest)?.[1]
    if (port !== undefined && Number(port) > 65535) {
        return 'the port must be 1..65535'
    }
    return null
}

function describe(value: unknown): string {
    return typeof value === 'string' ? `'${value}'` : value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value
}
