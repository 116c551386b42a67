/** A hand-written SVG bar chart: one group per workload, one bar per system, lengths relative within a group. */

export interface ChartGroup {
    title: string
    /** What the bars measure, e.g. "median ms" (shorter is better). */
    unit: string
    bars: Array<{ label: string; value: number }>
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b']

function escape(text: string): string {
    return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

export function barChart(title: string, subtitle: string, groups: ChartGroup[]): string {
    const width = 900
    const labelWidth = 330
    const barArea = width - labelWidth - 110
    const barHeight = 18
    const lines: string[] = []
    let y = 60
    for (const group of groups) {
        lines.push(`<text x="10" y="${y}" font-weight="bold" font-size="14">${escape(group.title)} (${escape(group.unit)}, shorter is better)</text>`)
        y += 10
        const max = Math.max(...group.bars.map(bar => bar.value).filter(Number.isFinite), 1e-9)
        group.bars.forEach((bar, index) => {
            const length = Number.isFinite(bar.value) ? Math.max(1, (bar.value / max) * barArea) : 0
            const value = Number.isFinite(bar.value) ? (bar.value >= 100 ? Math.round(bar.value).toLocaleString('en-US') : bar.value.toFixed(2)) : 'n/a'
            lines.push(
                `<text x="${labelWidth - 8}" y="${y + 13}" text-anchor="end" font-size="12">${escape(bar.label)}</text>`,
                `<rect x="${labelWidth}" y="${y}" width="${length.toFixed(1)}" height="${barHeight}" fill="${COLORS[index % COLORS.length]}"/>`,
                `<text x="${labelWidth + length + 6}" y="${y + 13}" font-size="12">${value}</text>`,
            )
            y += barHeight + 4
        })
        y += 26
    }
    return [
        `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="sans-serif">`,
        `<rect width="100%" height="100%" fill="white"/>`,
        `<text x="10" y="24" font-size="17" font-weight="bold">${escape(title)}</text>`,
        `<text x="10" y="42" font-size="12" fill="#555">${escape(subtitle)}</text>`,
        ...lines,
        '</svg>',
        '',
    ].join('\n')
}
