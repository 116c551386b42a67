/**
 * The mixed-write workload of the write-path benchmarks (Node and browser): 60 % creates, 30 %
 * updates by key, 10 % deletes by key, from a seeded generator. No Node APIs: the browser bench
 * bundles it into its page.
 */
import type StorageManager from '@worldbrain/storex'
import { seededRandom } from '../ts/integration/seeded-random'

export const WORKLOAD_SEED = 20261123

export type Write = { kind: 'create'; title: string; rank: number } | { kind: 'update'; pick: number; title: string; rank: number } | { kind: 'delete'; pick: number }

/**
 * The workload, independent of the keys a setup generates: updates and deletes pick a live
 * object by position, so both setups do exactly the same logical writes.
 */
export function makeWorkload(count: number, seed = WORKLOAD_SEED): Write[] {
    const random = seededRandom(seed)
    const writes: Write[] = []
    let live = 0
    for (let index = 0; index < count; index++) {
        const roll = random()
        const title = `note ${index} ${Math.floor(random() * 1e6).toString(36)}`
        const rank = Math.floor(random() * 1000)
        if (roll < 0.6 || live === 0) {
            writes.push({ kind: 'create', title, rank })
            live++
        } else if (roll < 0.9) {
            writes.push({ kind: 'update', pick: random(), title, rank })
        } else {
            writes.push({ kind: 'delete', pick: random() })
            live--
        }
    }
    return writes
}

/** Runs the writes in order through the storage manager (and its middleware). */
export async function applyWrites(manager: StorageManager, writes: Write[]): Promise<void> {
    const notes = manager.collection('note')
    const live: Array<string | number> = []
    for (const write of writes) {
        if (write.kind === 'create') {
            const { object } = await notes.createObject({ title: write.title, rank: write.rank })
            live.push(object.id as string | number)
        } else {
            const index = Math.floor(write.pick * live.length)
            if (write.kind === 'update') {
                await manager.operation('updateObject', 'note', { id: live[index] }, { title: write.title, rank: write.rank })
            } else {
                await manager.operation('deleteObject', 'note', { id: live[index] })
                live[index] = live[live.length - 1]
                live.pop()
            }
        }
    }
}
