/**
 * Walks over JSON values without recursion. Document data from an older database may nest
 * thousands of levels (before the depth limit, up to ~4,100 were accepted), and a recursive walk
 * over it overflows the stack: that made `/Reconcile` answer 500 after it had committed. These
 * helpers take any depth.
 *
 * Depth counts nested objects and arrays: a scalar is depth 0, `{}` and `[]` are 1, `{"a":[1]}` is 2.
 */

/** Whether `value` nests objects and arrays deeper than `maxDepth`. */
export function jsonDepthExceeds(value: unknown, maxDepth: number): boolean {
    const stack: Array<[unknown, number]> = [[value, 1]]
    while (stack.length > 0) {
        const [item, depth] = stack.pop()!
        if (item === null || typeof item !== 'object') {
            continue
        }
        if (depth > maxDepth) {
            return true
        }
        for (const child of Array.isArray(item) ? item : Object.values(item)) {
            if (child !== null && typeof child === 'object') {
                stack.push([child, depth + 1])
            }
        }
    }
    return false
}

/** Deep equality of JSON values, independent of object key order. */
export function jsonEqual(a: unknown, b: unknown): boolean {
    const stack: Array<[unknown, unknown]> = [[a, b]]
    while (stack.length > 0) {
        const [left, right] = stack.pop()!
        if (left === right) {
            continue
        }
        if (typeof left !== 'object' || typeof right !== 'object' || left === null || right === null || Array.isArray(left) !== Array.isArray(right)) {
            return false
        }
        if (Array.isArray(left)) {
            const other = right as unknown[]
            if (left.length !== other.length) {
                return false
            }
            left.forEach((item, index) => stack.push([item, other[index]]))
            continue
        }
        const leftRecord = left as Record<string, unknown>
        const rightRecord = right as Record<string, unknown>
        const keys = Object.keys(leftRecord)
        if (keys.length !== Object.keys(rightRecord).length) {
            return false
        }
        for (const key of keys) {
            if (!Object.prototype.hasOwnProperty.call(rightRecord, key)) {
                return false
            }
            stack.push([leftRecord[key], rightRecord[key]])
        }
    }
    return true
}

/**
 * `JSON.stringify` for any depth: the native one (fast) and, when it runs out of stack, an
 * iterative one with the same output. Used as the reply serializer of routes that return
 * stored documents.
 */
export function stringifyJson(value: unknown): string {
    try {
        return JSON.stringify(value)
    } catch (error) {
        if (!(error instanceof RangeError)) {
            throw error // e.g. a cycle or a BigInt: the iterative path would not do better
        }
    }
    return stringifyJsonIteratively(value)
}

type Work = { value: unknown } | string

function resolve(value: unknown, key: string): unknown {
    const withToJson = value as { toJSON?: (key: string) => unknown } | null
    return withToJson !== null && typeof withToJson === 'object' && typeof withToJson.toJSON === 'function' ? withToJson.toJSON(key) : value
}

function isSkipped(value: unknown): boolean {
    return value === undefined || typeof value === 'function' || typeof value === 'symbol'
}

/** The iterative half of `stringifyJson` (exported for its tests): JSON.stringify's output, no recursion. */
export function stringifyJsonIteratively(root: unknown): string {
    const out: string[] = []
    // A stack of values still to write and separators to emit, pushed in reverse order.
    const work: Work[] = [{ value: resolve(root, '') }]
    while (work.length > 0) {
        const item = work.pop()!
        if (typeof item === 'string') {
            out.push(item)
            continue
        }
        const value = item.value
        if (value === null || typeof value !== 'object') {
            out.push(JSON.stringify(value) ?? 'null')
            continue
        }
        if (Array.isArray(value)) {
            work.push(']')
            for (let index = value.length - 1; index >= 0; index--) {
                const child = resolve(value[index], String(index))
                work.push({ value: isSkipped(child) ? null : child })
                if (index > 0) {
                    work.push(',')
                }
            }
            work.push('[')
            continue
        }
        const record = value as Record<string, unknown>
        const members = Object.keys(record)
            .map((key): [string, unknown] => [key, resolve(record[key], key)])
            .filter(([, child]) => !isSkipped(child))
        work.push('}')
        for (let index = members.length - 1; index >= 0; index--) {
            const [key, child] = members[index]
            work.push({ value: child })
            work.push(`${JSON.stringify(key)}:`)
            if (index > 0) {
                work.push(',')
            }
        }
        work.push('{')
    }
    return out.join('')
}
