import os from 'os'
import type { BenchTable } from './table'
import { formatTable } from './table'

/**
 * Runs every benchmark (or those named on the command line) and prints one markdown table each.
 * Each module under bench/ exports `run(): Promise<BenchTable[]>`.
 */
const BENCHMARKS: Record<string, () => Promise<{ run: () => Promise<BenchTable[]> }>> = {
    'write-path': () => import('./write-path'),
    'service': () => import('./service'),
    sync: () => import('./sync-throughput'),
    live: () => import('./live-latency'),
    'initial-sync': () => import('./initial-sync'),
    memex: () => import('./memex'),
    fairness: () => import('./fairness'),
    load: () => import('./load'),
}

async function main(): Promise<void> {
    const selected = process.argv.slice(2)
    console.log(`Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'} × ${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`)
    for (const [name, load] of Object.entries(BENCHMARKS)) {
        if (selected.length && !selected.includes(name)) {
            continue
        }
        const module = await load()
        for (const table of await module.run()) {
            console.log(formatTable(table) + '\n')
        }
    }
}

main().then(
    () => process.exit(0),
    error => {
        console.error(error)
        process.exit(1)
    },
)
