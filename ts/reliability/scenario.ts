/**
 * The randomized device scenario the fault, kill and wipe parts share: devices write notes
 * (their own, whose final state the app was told, and shared ones that all of them edit) and
 * sync; afterwards every device must hold every acknowledged change, and all must be equal.
 */
import { createDexieStorageManager, createDevice, dump, SYNCED } from '../integration/devices'
import type { TestDevice } from '../integration/devices'
import type { SharedSyncLog } from '../shared-log/types'
import { between } from './helpers'

/** What the app was told about the notes a device owns: id → title, or null once deleted. */
export type OwnNotes = Map<string, string | null>

export interface ScenarioDevice {
    device: TestDevice
    own: OwnNotes
}

export async function createScenarioDevice(sharedLog: SharedSyncLog): Promise<ScenarioDevice> {
    const device = await createDevice({ sharedLog, storageManager: createDexieStorageManager() })
    return { device, own: new Map() }
}

/** The shared notes every device edits: fixed ids, so concurrent edits conflict. */
export const SHARED_NOTES = ['shared-1', 'shared-2', 'shared-3']

/**
 * One random local write. A write whose promise resolved is acknowledged to the app: it is
 * recorded in `own` only then.
 */
export async function randomWrite(subject: ScenarioDevice, random: () => number, label: string): Promise<void> {
    const notes = subject.device.storageManager.collection('note')
    const live = [...subject.own].filter(([, title]) => title !== null).map(([id]) => id)
    const roll = random()
    if (roll < 0.4 || live.length === 0) {
        const title = `${label} created`
        const { object } = await notes.createObject({ title })
        subject.own.set(String(object.id), title)
    } else if (roll < 0.82) {
        const id = live[between(random, 0, live.length - 1)]
        // A reinstalled device may not have received its old notes yet: an edit of nothing is no write.
        if (!(await notes.findObjects({ id })).length) {
            return
        }
        if (roll < 0.7) {
            const title = `${label} edited`
            await notes.updateObjects({ id }, { title })
            subject.own.set(id, title)
        } else {
            await notes.deleteObjects({ id })
            subject.own.set(id, null)
        }
    } else {
        const id = SHARED_NOTES[between(random, 0, SHARED_NOTES.length - 1)]
        const existing = await notes.findObjects({ id })
        if (existing.length) {
            await notes.updateObjects({ id }, { title: `${label} shared edit` })
        } else {
            await notes.createObject({ id, title: `${label} shared create` })
        }
    }
}

/** Syncs every device in turn, `rounds` times, so each has seen every change. */
export async function syncRounds(devices: TestDevice[], rounds = 2): Promise<void> {
    for (let round = 0; round < rounds; round++) {
        for (const device of devices) {
            await device.syncNow()
        }
    }
}

export interface Divergence {
    reason: string
}

/**
 * Checks convergence and durability: every device's notes are equal (to the first device's),
 * and every note a device owns is as the app was last told (present with its title, or absent
 * when deleted: not revived).
 */
export async function checkConverged(subjects: ScenarioDevice[], extra: TestDevice[] = []): Promise<Divergence[]> {
    const divergences: Divergence[] = []
    const all = [...subjects.map((subject) => subject.device), ...extra]
    const dumps = await Promise.all(all.map((device) => dumpSynced(device)))
    const reference = JSON.stringify(dumps[0])
    dumps.forEach((state, index) => {
        if (JSON.stringify(state) !== reference) {
            divergences.push({ reason: `device ${index} differs from device 0` })
        }
    })
    const notes = new Map((dumps[0].note as Array<{ id: string; title: string }>).map((note) => [note.id, note.title]))
    subjects.forEach((subject, index) => {
        for (const [id, title] of subject.own) {
            if (title === null && notes.has(id)) {
                divergences.push({ reason: `device ${index}'s deleted note ${id} was revived` })
            } else if (title !== null && notes.get(id) !== title) {
                divergences.push({ reason: `device ${index}'s note ${id}: expected '${title}', found '${notes.get(id)}'` })
            }
        }
    })
    return divergences
}

async function dumpSynced(device: TestDevice): Promise<Record<string, unknown[]>> {
    const state: Record<string, unknown[]> = {}
    for (const collection of SYNCED) {
        state[collection] = await dump(device, collection)
    }
    return state
}
