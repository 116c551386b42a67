import StorageManager from '@worldbrain/storex'
import { DexieStorageBackend } from '@worldbrain/storex-backend-dexie'

/** The app's own data: one collection, kept in this browser's IndexedDB through Storex. */

export interface Note {
    id: string
    title: string
    body: string
    createdAt: number
}

export const DATABASE_NAME = 'storex-synclog-demo'

export function createStorageManager(dbName = DATABASE_NAME): StorageManager {
    const storageManager = new StorageManager({ backend: new DexieStorageBackend({ dbName }) })
    storageManager.registry.registerCollections({
        note: {
            version: new Date('2026-12-01'),
            fields: {
                title: { type: 'string' },
                body: { type: 'text', optional: true },
                createdAt: { type: 'timestamp' },
            },
        },
    })
    return storageManager
}

/** Every write goes through the storage manager, so the sync middleware logs it. */
export class Notes {
    constructor(private readonly storageManager: StorageManager) {}

    async list(): Promise<Note[]> {
        const notes = (await this.storageManager.collection('note').findObjects({})) as Array<Partial<Note> & { id: string }>
        return notes
            .map(note => ({ id: note.id, title: note.title ?? '', body: note.body ?? '', createdAt: note.createdAt ?? 0 }))
            .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    }

    async create(title: string, body: string): Promise<string> {
        const { object } = await this.storageManager.collection('note').createObject({ title, body, createdAt: Date.now() })
        return (object as { id: string }).id
    }

    /** One field at a time: the sync log records fields, so an edit of the title leaves a concurrent edit of the body alone. */
    async update(id: string, changes: Partial<Pick<Note, 'title' | 'body'>>): Promise<void> {
        await this.storageManager.collection('note').updateObjects({ id }, changes)
    }

    async remove(id: string): Promise<void> {
        await this.storageManager.collection('note').deleteObjects({ id })
    }

    /** Many notes in one transaction (one logged batch). */
    async createMany(count: number): Promise<void> {
        const now = Date.now()
        const batch = Array.from({ length: count }, (_, index) => ({
            operation: 'createObject',
            collection: 'note',
            args: { title: `Sample note ${index + 1}`, body: `Body of sample note ${index + 1}`, createdAt: now - index },
        }))
        await this.storageManager.operation('executeBatch', batch)
    }
}
