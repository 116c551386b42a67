/**
 * What every system in the comparison implements, and the helpers the workloads share. The
 * workloads are the same logical operations for every system: the same ids, values and order.
 */
import { makeWorkload } from '../write-path'

export type Write = ReturnType<typeof makeWorkload>[number]
export { makeWorkload }

/** One measured run: wall and CPU milliseconds of this process for `ops` operations. */
export interface Measured {
    ms: number
    cpuMs: number
    ops: number
    /** Workload-specific findings (identical ends, surviving edits, latency percentiles). */
    detail?: Record<string, string | number | boolean>
}

export interface ConflictFindings {
    /** Both devices hold exactly the same objects afterwards. */
    identical: boolean
    /** Objects whose title is A's edit (A edited every title; B also edited the even ones' titles). */
    titleFromA: number
    titleFromB: number
    /** Objects that kept B's body edit (B edited every body; A never touched bodies). */
    bodyFromB: number
}

export interface System {
    readonly name: string
    /** The `count` mixed writes on a fresh database, sequential. */
    mixedWrites(writes: Write[]): Promise<Measured>
    /** `count` new objects written on A (not timed), then timed until B holds them all. */
    transfer(count: number, transport: 'process' | 'http'): Promise<Measured>
    /** `count` objects on both devices; both edit all of them offline; timed: sync until both converge. */
    conflicts(count: number): Promise<Measured & { findings: ConflictFindings }>
    /** One write on A every `intervalMs` for `durationMs` with live replication; latency to B per write. */
    trickle(durationMs: number, intervalMs: number): Promise<Measured & { latencies: number[] }>
    /** Whether `transfer(…, 'http')` is possible for this system here. */
    readonly http: boolean
}

export interface PlainNote {
    id: string
    title: string
    body: string
    rank: number
}

export function note(index: number): PlainNote {
    return { id: `note-${String(index).padStart(7, '0')}`, title: `note ${index}`, body: 'a body of some length for every note', rank: index % 7 }
}

/** Runs `body` and measures it; `ops` is how many operations it performed. */
export async function measure<T>(ops: number, body: () => Promise<T>): Promise<{ ms: number; cpuMs: number; ops: number; result: T }> {
    const cpu = process.cpuUsage()
    const start = performance.now()
    const result = await body()
    const ms = performance.now() - start
    const used = process.cpuUsage(cpu)
    return { ms, cpuMs: (used.user + used.system) / 1000, ops, result }
}

/** The edits of the conflict workload, as plain values every system writes the same way. */
export function conflictEdits(index: number): { a: { title: string }; b: { body: string; title?: string } } {
    return { a: { title: `A edit ${index}` }, b: index % 2 === 0 ? { body: `B body ${index}`, title: `B edit ${index}` } : { body: `B body ${index}` } }
}

export function conflictFindings(a: PlainNote[], b: PlainNote[], identical: boolean): ConflictFindings {
    let titleFromA = 0
    let titleFromB = 0
    let bodyFromB = 0
    for (const object of a) {
        if (object.title.startsWith('A edit')) titleFromA++
        if (object.title.startsWith('B edit')) titleFromB++
        if (object.body.startsWith('B body')) bodyFromB++
    }
    return { identical: identical && a.length === b.length, titleFromA, titleFromB, bodyFromB }
}

export function sameNotes(a: PlainNote[], b: PlainNote[]): boolean {
    const text = (notes: PlainNote[]) => JSON.stringify([...notes].sort((x, y) => (x.id < y.id ? -1 : 1)).map(n => [n.id, n.title, n.body, n.rank]))
    return text(a) === text(b)
}

/** Writes on A on a fixed schedule and waits until B has seen every one (or a timeout). */
export async function trickleRun(options: {
    durationMs: number
    intervalMs: number
    write(index: number): Promise<void>
    /** Resolves once every id in `expected` has arrived (call `arrived` for each). */
    onArrival(listener: (id: string) => void): void
}): Promise<{ latencies: number[]; writes: number }> {
    const writtenAt = new Map<string, number>()
    const latencies: number[] = []
    let done: () => void = () => {}
    const all = new Promise<void>(resolve => (done = resolve))
    let writes = 0
    let finished = false
    options.onArrival(id => {
        const at = writtenAt.get(id)
        if (at !== undefined) {
            latencies.push(performance.now() - at)
            writtenAt.delete(id)
            if (finished && writtenAt.size === 0) done()
        }
    })
    const start = performance.now()
    for (let index = 0; performance.now() - start < options.durationMs; index++) {
        const target = start + index * options.intervalMs
        const wait = target - performance.now()
        if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
        writtenAt.set(note(index).id, performance.now())
        await options.write(index)
        writes++
    }
    finished = true
    if (writtenAt.size === 0) done()
    const timeout = new Promise<void>(resolve => setTimeout(resolve, 10_000).unref())
    await Promise.race([all, timeout])
    if (writtenAt.size) {
        throw new Error(`trickle: ${writtenAt.size} of ${writes} writes never arrived`)
    }
    return { latencies, writes }
}

export function percentile(values: number[], p: number): number {
    const sorted = [...values].sort((x, y) => x - y)
    return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN
}
