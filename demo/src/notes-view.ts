import { byTestId, element } from './dom'
import type { Note, Notes } from './notes'

/**
 * The list: one `note` item per note (`data-note-id`), its title and body editable in place and
 * saved when the field loses focus (or on Enter in the title). A refresh updates items in place
 * and leaves the field being typed in alone.
 */
export class NotesView {
    private readonly list = byTestId<HTMLUListElement>('note-list')
    private readonly items = new Map<string, HTMLLIElement>()
    private refreshing: Promise<void> | null = null
    private again = false

    constructor(private readonly notes: Notes, private readonly onError: (error: unknown) => void) {
        const form = byTestId<HTMLFormElement>('note-form')
        const title = byTestId<HTMLInputElement>('note-title-input')
        const body = byTestId<HTMLTextAreaElement>('note-body-input')
        form.addEventListener('submit', event => {
            event.preventDefault()
            if (!title.value.trim()) {
                return
            }
            this.run(async () => {
                await this.notes.create(title.value, body.value)
                title.value = ''
                body.value = ''
                title.focus()
            })
        })
        byTestId('note-add-samples').addEventListener('click', () => this.run(() => this.notes.createMany(1000)))
    }

    /** Re-reads the notes; calls during a refresh coalesce into one more. */
    refresh(): Promise<void> {
        if (this.refreshing) {
            this.again = true
            return this.refreshing
        }
        this.refreshing = (async () => {
            do {
                this.again = false
                this.render(await this.notes.list())
            } while (this.again)
        })()
            .catch(this.onError)
            .finally(() => (this.refreshing = null))
        return this.refreshing
    }

    private run(action: () => Promise<void>): void {
        action()
            .then(() => this.changed())
            .catch(this.onError)
    }

    /** Set by the app: refreshes this tab and tells the other tabs. */
    changed: () => void = () => void this.refresh()

    private render(notes: Note[]): void {
        const seen = new Set<string>()
        let previous: HTMLLIElement | null = null
        for (const note of notes) {
            seen.add(note.id)
            const item = this.items.get(note.id) ?? this.createItem(note)
            this.fill(item, note)
            const expectedNext: ChildNode | null = previous ? previous.nextSibling : this.list.firstChild
            if (expectedNext !== item) {
                this.list.insertBefore(item, expectedNext)
            }
            previous = item
        }
        for (const [id, item] of this.items) {
            if (!seen.has(id)) {
                item.remove()
                this.items.delete(id)
            }
        }
        byTestId('note-count').textContent = String(notes.length)
    }

    private createItem(note: Note): HTMLLIElement {
        const item = element('li', {}, 'note')
        item.dataset.noteId = note.id
        const title = element('input', { value: note.title, ariaLabel: 'title' }, 'note-title')
        const body = element('textarea', { value: note.body, rows: 2, ariaLabel: 'body' }, 'note-body')
        const remove = element('button', { type: 'button', textContent: 'Delete', title: 'Delete this note' }, 'note-delete')
        const save = (field: 'title' | 'body', input: HTMLInputElement | HTMLTextAreaElement) => {
            if (input.value !== input.dataset.saved) {
                const value = input.value
                this.run(async () => {
                    await this.notes.update(note.id, { [field]: value })
                    input.dataset.saved = value
                })
            }
        }
        title.addEventListener('change', () => save('title', title))
        title.addEventListener('keydown', event => event.key === 'Enter' && title.blur())
        body.addEventListener('change', () => save('body', body))
        remove.addEventListener('click', () => this.run(() => this.notes.remove(note.id)))
        item.append(title, remove, body)
        this.items.set(note.id, item)
        return item
    }

    private fill(item: HTMLLIElement, note: Note): void {
        const title = byTestId<HTMLInputElement>('note-title', item)
        const body = byTestId<HTMLTextAreaElement>('note-body', item)
        for (const [input, value] of [[title, note.title], [body, note.body]] as const) {
            // Never overwrite what the user is typing; the next refresh after the edit catches up.
            if (document.activeElement !== input && input.value !== value) {
                input.value = value
            }
            input.dataset.saved = value
        }
    }
}
