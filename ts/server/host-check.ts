import type { FastifyInstance } from 'fastify'
import { HttpError } from './errors'

/**
 * Single-user mode has no tokens, so anything that can reach the port can read and write all
 * data. Binding to loopback keeps other machines out, but not a web page using DNS rebinding: it
 * makes its own host name resolve to 127.0.0.1 and then talks to the service as same-origin.
 * Such requests carry the attacker's name in `Host`, so the service answers only requests whose
 * `Host` names a loopback address with the port it listens on.
 */

/** Host names that always mean this machine. `localhost` is included because pages served from http://localhost:PORT send it. */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]']
/** Addresses that mean "every interface": not names a client puts in `Host`. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]'])

/** The request's `Host` is not one single-user mode answers. */
export class ForbiddenHostError extends HttpError {
    constructor(host: string | undefined, allowed: string[]) {
        super(
            403,
            'FORBIDDEN_HOST',
            `${host === undefined ? 'No Host header' : `Host '${host}' is not allowed`}: single-user mode answers only requests to ${allowed.join(', ')} ` +
                '(protection against DNS rebinding); use auth (synclog serve --auth) to serve other host names',
        )
    }
}

/** The names accepted in `Host` for a service listening on `listenHost` (lowercase, IPv6 bracketed). */
export function allowedHostNames(listenHost: string): string[] {
    const host = listenHost.toLowerCase()
    const literal = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
    const names = [...LOOPBACK_NAMES]
    if (!WILDCARD_HOSTS.has(literal) && !names.includes(literal)) {
        names.push(literal)
    }
    return names
}

/**
 * Whether a `Host` header value names one of `names` with `port`. The port may be omitted only
 * when it is 80, as browsers omit the default port.
 */
export function isAllowedHost(header: string | undefined, names: string[], port: number): boolean {
    if (header === undefined) {
        return false
    }
    const match = /^(\[[^\]]*\]|[^:]*)(?::([0-9]{1,5}))?$/.exec(header.toLowerCase())
    if (!match) {
        return false
    }
    const [, name, portText] = match
    const headerPort = portText === undefined ? 80 : Number(portText)
    return headerPort === port && names.includes(name)
}

/**
 * Adds the check as an onRequest hook (every route, 404s included). Add it after CORS, so a
 * refused request still carries CORS headers and an allowed page can read why.
 */
export function installHostCheck(app: FastifyInstance, options: { host: string; port: number }): void {
    const names = allowedHostNames(options.host)
    // Port 0 means "pick one": the real port is known only once listening.
    const currentPort = () => {
        const address = app.server.address()
        return typeof address === 'object' && address ? address.port : options.port
    }
    app.addHook('onRequest', async (request) => {
        const port = currentPort()
        const header = request.headers.host
        if (!isAllowedHost(header, names, port)) {
            throw new ForbiddenHostError(header, names.map((name) => `${name}:${port}`))
        }
    })
}
