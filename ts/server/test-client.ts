/**
 * Test support: plain HTTP requests against a listening service. The route tests use a real
 * port instead of fastify's `app.inject`, because inject loads light-my-request, which requires
 * the ESM-only `cookie` 2 package that Jest's CommonJS runtime cannot load.
 */

export interface TestResponse {
    statusCode: number
    /** The parsed JSON body. */
    json(): any // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary shapes
}

export interface TestRequest {
    /** Default: GET. */
    method?: string
    /** Path and query, e.g. '/Docs/Query?since=3'. */
    url: string
    /** An object is sent as JSON; a string is sent as is (with a JSON content type). */
    payload?: unknown
    headers?: Record<string, string>
}

export async function sendRequest(baseUrl: string, request: TestRequest): Promise<TestResponse> {
    const headers: Record<string, string> = { ...request.headers }
    let body: string | undefined
    if (request.payload !== undefined) {
        body = typeof request.payload === 'string' ? request.payload : JSON.stringify(request.payload)
        headers['content-type'] ??= 'application/json'
    }
    const response = await fetch(baseUrl + request.url, { method: request.method ?? 'GET', headers, body })
    const text = await response.text()
    return { statusCode: response.status, json: () => JSON.parse(text) }
}
