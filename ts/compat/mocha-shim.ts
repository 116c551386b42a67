/**
 * Runs mocha-style suites (storex's `testStorageBackend`, storex-sync's published tests) under
 * Jest. The suites call the globals `describe` and `it` and may call `this.skip()` inside a test;
 * Jest has neither a runtime skip nor mocha's `this`. So the cases are first *collected* (with
 * temporary globals), and the test file decides per case what the outcome must be: passed,
 * pending (skip() called, named in a list), or failed with a named error. Nothing is dropped.
 */

/** What a mocha test function sees as `this`. */
export interface MochaContext {
    skip(): never
    timeout(ms?: number): void
}

export type MochaTestFn = (this: MochaContext, done?: unknown) => unknown

export interface MochaCase {
    /** Describe titles from outermost to innermost, then the test title, joined by ' > '. */
    name: string
    /** Absent for a mocha "pending" declaration (`it('title')` without a body). */
    fn?: MochaTestFn
}

export type MochaOutcome = { status: 'passed' } | { status: 'pending' } | { status: 'failed'; error: unknown }

/** Thrown by `this.skip()`; caught by `runMochaCase`. */
class MochaSkip extends Error {
    constructor() {
        super('mocha this.skip()')
    }
}

type Globals = { describe: unknown; it: unknown; before?: unknown; after?: unknown; beforeEach?: unknown; afterEach?: unknown }

/**
 * Calls `register` with mocha-like globals and returns every case it declared, in order.
 * Hooks (`before*`/`after*`) are refused: none of the suites we run declares one, and silently
 * ignoring one would change what a case tests.
 */
export function collectMochaCases(register: () => void): MochaCase[] {
    const cases: MochaCase[] = []
    const path: string[] = []
    const target = globalThis as unknown as Globals
    const saved: Globals = { describe: target.describe, it: target.it, before: target.before, after: target.after, beforeEach: target.beforeEach, afterEach: target.afterEach }
    const describe = (title: string, body: () => void) => {
        path.push(title)
        try {
            body()
        } finally {
            path.pop()
        }
    }
    const it = (title: string, fn?: MochaTestFn) => {
        cases.push({ name: [...path, title].join(' > '), fn })
    }
    const hook = (name: string) => () => {
        throw new Error(`collectMochaCases: the suite declares a '${name}' hook, which this shim does not run`)
    }
    Object.assign(target, { describe, it, before: hook('before'), after: hook('after'), beforeEach: hook('beforeEach'), afterEach: hook('afterEach') })
    try {
        register()
    } finally {
        Object.assign(target, saved)
    }
    const names = new Set<string>()
    for (const item of cases) {
        if (names.has(item.name)) {
            throw new Error(`collectMochaCases: two cases are named '${item.name}'`)
        }
        names.add(item.name)
    }
    return cases
}

/** Runs one collected case with a mocha-like `this`. */
export async function runMochaCase(item: MochaCase): Promise<MochaOutcome> {
    if (!item.fn) {
        return { status: 'pending' }
    }
    const context: MochaContext = {
        skip: () => {
            throw new MochaSkip()
        },
        timeout: () => undefined,
    }
    try {
        await item.fn.call(context)
        return { status: 'passed' }
    } catch (error) {
        return error instanceof MochaSkip ? { status: 'pending' } : { status: 'failed', error }
    }
}

/** A failure with its message, for readable Jest output. */
export function describeOutcome(outcome: MochaOutcome): string {
    if (outcome.status !== 'failed') {
        return outcome.status
    }
    const error = outcome.error as { code?: unknown; message?: unknown } | null
    return `failed: ${error && typeof error === 'object' ? `${error.code ? `[${String(error.code)}] ` : ''}${String(error.message)}` : String(outcome.error)}`
}
