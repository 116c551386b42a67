import { request as httpRequest } from 'http'

/**
 * Test support: a request with a chosen `Host` header, which fetch does not let a caller set
 * (it always sends the URL's host). Resolves with the status, the headers and the parsed JSON body.
 */
export interface RawResponse {
    statusCode: number
    headers: Record<string, string | string[] | undefined>
    body: any // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary shapes
}

export function requestWithHost(
    baseUrl: string,
    options: { path: string; host: string | null; method?: string; headers?: Record<string, string>; payload?: unknown },
): Promise<RawResponse> {
    const url = new URL(baseUrl)
    const body = options.payload === undefined ? undefined : JSON.stringify(options.payload)
    const headers: Record<string, string> = { ...options.headers }
    if (options.host !== null) {
        headers.host = options.host
    }
    if (body !== undefined) {
        headers['content-type'] = 'application/json'
    }
    return new Promise((resolve, reject) => {
        const req = httpRequest(
            // null: send no Host header at all.
            { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port, path: options.path, method: options.method ?? 'GET', headers, setHost: false },
            (res) => {
                let text = ''
                res.setEncoding('utf8')
                res.on('data', (chunk: string) => (text += chunk))
                res.on('end', () => {
                    let parsed: unknown = text
                    try {
                        parsed = text ? JSON.parse(text) : undefined
                    } catch {
                        // not JSON: the raw text is the body
                    }
                    resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: parsed })
                })
            },
        )
        req.on('error', reject)
        req.end(body)
    })
}
