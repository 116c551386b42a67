/**
 * Shared parts of the reliability suite: a seeded random source, a seeded fault-injecting `fetch`, run counts tunable by
 * environment variables, and PostgreSQL availability.
 */

export { seededRandom } from '../integration/seeded-random'

/** An integer in [min, max]. */
export function between(random: () => number, min: number, max: number): number {
    return min + Math.floor(random() * (max - min + 1))
}

/** A run count: the environment variable when set (for longer local runs), else the CI default. */
export function runCount(variable: string, ciDefault: number): number {
    const value = process.env[variable]
    if (value === undefined || value === '') {
        return ciDefault
    }
    const parsed = Number(value)
    if (!Number.isSafeInteger(parsed) || parsed < 1) {
        throw new Error(`${variable} must be a positive integer, got '${value}'`)
    }
    return parsed
}

/** A base seed: `RELIABILITY_SEED` when set (to replay a failure), else a fixed one so CI is repeatable. */
export function baseSeed(fallback: number): number {
    const value = process.env.RELIABILITY_SEED
    return value ? Number(value) : fallback
}

/** Counts the requests a `fetch` makes (`METHOD /path` each). */
export function countingFetch(inner: typeof fetch = (input, init) => globalThis.fetch(input, init)) {
    const seen: string[] = []
    const wrapped = ((input: string | URL | Request, init?: RequestInit) => {
        const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url)
        seen.push(`${init?.method ?? 'GET'} ${url.pathname}`)
        return inner(input, init)
    }) as typeof fetch
    return { fetch: wrapped, count: () => seen.length, paths: () => [...seen] }
}

/** The faults `faultyFetch` injects, each with its probability per request. */
export interface FaultRates {
    /** The request never reaches the service. */
    dropRequest: number
    /** The service handles it (and commits), the answer is lost. */
    dropResponse: number
    /** The service gets it twice at once; the client sees one answer. */
    duplicate: number
    /** A copy arrives again later, after newer requests (a stale replay). */
    replayLater: number
    /** Held for a few ms, so concurrent requests overtake each other. */
    delay: number
    /** Answered 500, 503 or 429 without reaching the service. */
    errorStatus: number
    /** Handled, then answered 500 (a proxy that failed after the service committed). */
    errorAfterCommit: number
    /** The request body is cut mid-stream: the service gets part of it, the client a network error. */
    cutRequest: number
    /** The answer's body is cut mid-stream. */
    cutResponse: number
}

export const DEFAULT_FAULTS: FaultRates = {
    dropRequest: 0.04,
    dropResponse: 0.04,
    duplicate: 0.04,
    replayLater: 0.04,
    delay: 0.15,
    errorStatus: 0.05,
    errorAfterCommit: 0.03,
    cutRequest: 0.03,
    cutResponse: 0.04,
}

export interface FaultyFetch {
    fetch: typeof fetch
    /** Stops injecting (pending replays are still delivered by `settle`). */
    disable(): void
    /** Waits for every replay and duplicate still in flight. */
    settle(): Promise<void>
    /** How many of each fault were injected. */
    counts: Record<keyof FaultRates, number>
}

/** A `fetch` that injects `rates` faults, driven by `random` (seeded: a run is replayable). */
export function faultyFetch(inner: typeof fetch, random: () => number, rates: FaultRates = DEFAULT_FAULTS): FaultyFetch {
    let enabled = true
    const pending = new Set<Promise<unknown>>()
    const counts = Object.fromEntries(Object.keys(rates).map((key) => [key, 0])) as Record<keyof FaultRates, number>
    const track = (promise: Promise<unknown>) => {
        const settled = promise.catch(() => undefined)
        pending.add(settled)
        settled.finally(() => pending.delete(settled))
    }
    const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
    const pick = (): keyof FaultRates | null => {
        if (!enabled) {
            return null
        }
        let roll = random()
        for (const [fault, rate] of Object.entries(rates) as Array<[keyof FaultRates, number]>) {
            if (roll < rate) {
                counts[fault] += 1
                return fault
            }
            roll -= rate
        }
        return null
    }
    const networkError = (what: string) => new TypeError(`fetch failed (injected: ${what})`)
    const wrapped = (async (input: string | URL | Request, init: RequestInit = {}) => {
        const fault = pick()
        switch (fault) {
            case 'dropRequest':
                throw networkError('request dropped')
            case 'dropResponse':
                await inner(input, init).then((response) => response.arrayBuffer())
                throw networkError('answer dropped after the service handled the request')
            case 'duplicate': {
                const [first] = await Promise.all([inner(input, init), inner(input, init).then((response) => response.arrayBuffer())])
                return first
            }
            case 'replayLater':
                track(wait(between(random, 1, 20)).then(() => inner(input, init)).then((response) => response.arrayBuffer()))
                return inner(input, init)
            case 'delay':
                await wait(between(random, 1, 8))
                return inner(input, init)
            case 'errorStatus': {
                const status = [500, 503, 429][between(random, 0, 2)]
                return new Response(JSON.stringify({ error: { code: 'INJECTED', message: `injected ${status}` } }), {
                    status,
                    headers: { 'content-type': 'application/json', ...(status === 429 ? { 'retry-after': '0' } : {}) },
                })
            }
            case 'errorAfterCommit':
                await inner(input, init).then((response) => response.arrayBuffer())
                return new Response('<html>502 Bad Gateway</html>', { status: 500, headers: { 'content-type': 'text/html' } })
            case 'cutRequest': {
                if (typeof init.body === 'string' && init.body.length > 1) {
                    const cut = between(random, 1, init.body.length - 1)
                    await inner(input, { ...init, body: init.body.slice(0, cut) }).then((response) => response.arrayBuffer())
                }
                throw networkError('request body cut mid-stream')
            }
            case 'cutResponse': {
                const response = await inner(input, init)
                const text = await response.text()
                return new Response(text.slice(0, between(random, 0, Math.max(0, text.length - 1))), { status: response.status, headers: response.headers })
            }
            default:
                return inner(input, init)
        }
    }) as typeof fetch
    return {
        fetch: wrapped,
        counts,
        disable: () => {
            enabled = false
        },
        settle: async () => {
            while (pending.size) {
                await Promise.all([...pending])
            }
        },
    }
}

export { postgresReachable as postgresAvailable } from '../server/test-postgres'
