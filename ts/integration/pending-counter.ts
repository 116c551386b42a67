/**
 * Counts the local entries waiting to be pushed and reports the number when it changed. Counting
 * reads the client log, so it runs only while someone listens, and one count at a time: writes
 * during a count make one more count, not one each.
 */
export class PendingCounter {
    private last: number | null = null
    private counting = false
    private again = false

    constructor(private readonly options: { count(): Promise<number>; wanted(): boolean; report(count: number): void }) {}

    schedule(): void {
        if (!this.options.wanted()) {
            return
        }
        if (this.counting) {
            this.again = true
            return
        }
        this.counting = true
        void this.run()
    }

    private async run(): Promise<void> {
        try {
            do {
                this.again = false
                const count = await this.options.count()
                if (count !== this.last) {
                    this.last = count
                    this.options.report(count)
                }
            } while (this.again)
        } catch {
            // The next write or pass counts again.
        } finally {
            this.counting = false
        }
    }
}
