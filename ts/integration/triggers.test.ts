import { Debouncer } from './triggers'
import type { Timers } from './triggers'

/** Timers that only count what is scheduled: nothing fires unless the test runs it. */
function countingTimers(): Timers & { scheduled: number } {
    const timers = {
        scheduled: 0,
        setTimeout: () => {
            timers.scheduled++
            return timers.scheduled
        },
        clearTimeout: () => undefined,
    }
    return timers
}

const settled = () => new Promise(resolve => setImmediate(resolve))

describe('Debouncer with no quiet time', () => {
    it('fires once for every touch of one task, without a timer', async () => {
        const timers = countingTimers()
        let fired = 0
        const debouncer = new Debouncer(timers, () => 0, { quietMs: 0, maxMs: 0, fire: () => fired++ })
        debouncer.touch()
        debouncer.touch()
        expect(debouncer.pending).toBe(true)
        expect(fired).toBe(0)
        await settled()
        expect(fired).toBe(1)
        expect(debouncer.pending).toBe(false)
        expect(timers.scheduled).toBe(0)
        debouncer.touch()
        await settled()
        expect(fired).toBe(2)
    })

    it('does not fire once cancelled, and fires for a touch after the cancel', async () => {
        let fired = 0
        const debouncer = new Debouncer(countingTimers(), () => 0, { quietMs: 0, maxMs: 0, fire: () => fired++ })
        debouncer.touch()
        debouncer.cancel()
        expect(debouncer.pending).toBe(false)
        await settled()
        expect(fired).toBe(0)
        debouncer.touch()
        debouncer.cancel()
        debouncer.touch()
        await settled()
        expect(fired).toBe(1)
    })

    it('with a quiet time waits for its timer', async () => {
        const timers = countingTimers()
        let fired = 0
        new Debouncer(timers, () => 0, { quietMs: 5, maxMs: 100, fire: () => fired++ }).touch()
        await settled()
        expect(fired).toBe(0)
        expect(timers.scheduled).toBe(2)
    })
})
