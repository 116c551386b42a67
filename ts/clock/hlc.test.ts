import { HybridLogicalClock, DEFAULT_MAX_DRIFT_MS } from './hlc'
import { ClockDriftError } from '../errors'

function fakeWallClock(start: number) {
    let time = start
    return { now: () => time, set: (t: number) => (time = t), advance: (ms: number) => (time += ms) }
}

describe('HybridLogicalClock', () => {
    it('issues versions equal to the wall clock while it moves forward', () => {
        const wall = fakeWallClock(1_700_000_000_000)
        const clock = new HybridLogicalClock({ now: wall.now })
        expect(clock.tick()).toBe(1_700_000_000_000)
        wall.advance(10)
        expect(clock.tick()).toBe(1_700_000_000_010)
    })

    it('stays strictly increasing under a frozen wall clock', () => {
        const wall = fakeWallClock(1_700_000_000_000)
        const clock = new HybridLogicalClock({ now: wall.now })
        const versions = Array.from({ length: 1000 }, () => clock.tick())
        for (let i = 1; i < versions.length; i++) {
            expect(versions[i]).toBeGreaterThan(versions[i - 1])
        }
        expect(versions[999] - versions[0]).toBe(999)
    })

    it('stays strictly increasing when the wall clock goes backwards', () => {
        const wall = fakeWallClock(1_700_000_000_000)
        const clock = new HybridLogicalClock({ now: wall.now })
        const before = clock.tick()
        wall.set(1_600_000_000_000)
        const after = clock.tick()
        expect(after).toBeGreaterThan(before)
        wall.set(1_700_000_000_500)
        expect(clock.tick()).toBe(1_700_000_000_500)
    })

    it('advances past every received version', () => {
        const wall = fakeWallClock(1_700_000_000_000)
        const clock = new HybridLogicalClock({ now: wall.now })
        clock.receive(1_700_000_060_000)
        expect(clock.tick()).toBe(1_700_000_060_001)
        // An older received version changes nothing.
        clock.receive(5)
        expect(clock.tick()).toBe(1_700_000_060_002)
    })

    it('lets a device with a slow wall clock win with an edit made after it received a change', () => {
        const fastWall = fakeWallClock(1_700_000_000_000 + 60 * 60 * 1000)
        const slowWall = fakeWallClock(1_700_000_000_000)
        const fast = new HybridLogicalClock({ now: fastWall.now, maxDriftMs: 2 * 60 * 60 * 1000 })
        const slow = new HybridLogicalClock({ now: slowWall.now, maxDriftMs: 2 * 60 * 60 * 1000 })
        const seen = fast.tick()
        slow.receive(seen)
        expect(slow.tick()).toBeGreaterThan(seen)
    })

    it('rejects a received version further ahead than the allowed drift', () => {
        const wall = fakeWallClock(1_700_000_000_000)
        const clock = new HybridLogicalClock({ now: wall.now })
        const tooFar = 1_700_000_000_000 + DEFAULT_MAX_DRIFT_MS + 1
        expect(() => clock.receive(tooFar)).toThrow(ClockDriftError)
        expect(clock.tick()).toBe(1_700_000_000_000)
        // Exactly at the limit is accepted.
        clock.receive(1_700_000_000_000 + DEFAULT_MAX_DRIFT_MS)
        expect(clock.lastVersion).toBe(1_700_000_000_000 + DEFAULT_MAX_DRIFT_MS)
    })

    it('honours a configured drift and a restored last version', () => {
        const wall = fakeWallClock(1_000_000)
        const clock = new HybridLogicalClock({ now: wall.now, maxDriftMs: 10, lastVersion: 2_000_000 })
        expect(clock.tick()).toBe(2_000_001)
        expect(() => clock.receive(2_000_100)).toThrow(expect.objectContaining({ code: 'CLOCK_DRIFT' }))
    })

    it('rejects versions that are not safe integers', () => {
        const clock = new HybridLogicalClock({ now: () => 1 })
        expect(() => clock.receive(1.5)).toThrow(expect.objectContaining({ code: 'INVALID_VERSION' }))
        expect(() => clock.receive(2 ** 53)).toThrow(expect.objectContaining({ code: 'INVALID_VERSION' }))
    })
})
