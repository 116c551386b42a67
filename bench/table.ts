/** One benchmark's result: a titled table of rows, printed by bench/run.ts and copied to the README. */
export interface BenchTable {
    title: string
    columns: string[]
    rows: Array<Array<string | number>>
    /** Notes printed under the table (workload, floor definition, target). */
    notes?: string[]
}

export function formatTable(table: BenchTable): string {
    const cells = [table.columns, ...table.rows.map(row => row.map(cell => (typeof cell === 'number' ? formatNumber(cell) : cell)))]
    const widths = table.columns.map((_, index) => Math.max(...cells.map(row => String(row[index] ?? '').length)))
    const line = (row: Array<string | number>) => `| ${row.map((cell, index) => String(cell ?? '').padEnd(widths[index])).join(' | ')} |`
    const out = [`### ${table.title}`, '', line(cells[0]), `| ${widths.map(width => '-'.repeat(width)).join(' | ')} |`, ...cells.slice(1).map(line)]
    for (const note of table.notes ?? []) {
        out.push('', note)
    }
    return out.join('\n')
}

function formatNumber(value: number): string {
    if (Number.isInteger(value)) {
        return value.toLocaleString('en-US')
    }
    return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2)
}
