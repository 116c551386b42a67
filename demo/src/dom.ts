/** Small DOM helpers: elements are found by their `data-testid`, the hooks the tests use too. */
export function byTestId<T extends HTMLElement = HTMLElement>(id: string, root: ParentNode = document): T {
    const element = root.querySelector<T>(`[data-testid="${id}"]`)
    if (!element) {
        throw new Error(`demo: no element with data-testid="${id}"`)
    }
    return element
}

export function element<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, testId?: string): HTMLElementTagNameMap[K] {
    const node = document.createElement(tag)
    Object.assign(node, props)
    if (testId) {
        node.dataset.testid = testId
    }
    return node
}
