import StorageManager from '@worldbrain/storex'
import { DexieStorageBackend } from '@worldbrain/storex-backend-dexie'
import inMemory from '@worldbrain/storex-backend-dexie/lib/in-memory'
import { loadMemexCollections } from './published'
import type { MemexCollections } from './published'

/**
 * The Memex schema published with storex-sync 0.1.1 as a workload: pages keyed by url (with a
 * full-text index and a `media` screenshot), visits keyed by [time, url], tags by [name, url],
 * list entries by [listId, pageUrl], annotations, bookmarks, favicons, notifications.
 */

let collections: MemexCollections | null = null

/** The collections, loaded once from the published file. */
export function memexCollections(): MemexCollections {
    collections ??= loadMemexCollections()
    return collections
}

/** Every Memex collection is synced (as Memex's SYNCED_COLLECTIONS did, screenshots included). */
export function memexSynced(): string[] {
    return Object.keys(memexCollections())
}

/**
 * A stand-in for Memex's stemmer (the app supplies one to the Dexie backend for full-text
 * fields): lower-case words of two letters or more.
 */
export function wordStemmer(text: string): Set<string> {
    return new Set((text.toLowerCase().match(/[\p{L}\p{N}]{2,}/gu) ?? []) as string[])
}

let counter = 0

export type MemexBackend = 'dexie' | 'sqlite'

/** A storage manager with the Memex collections registered, not initialized. */
export function createMemexStorageManager(backend: MemexBackend, options: { idbImplementation?: ReturnType<typeof inMemory>; dbName?: string } = {}): StorageManager {
    let storageManager: StorageManager
    if (backend === 'dexie') {
        storageManager = new StorageManager({
            backend: new DexieStorageBackend({
                idbImplementation: options.idbImplementation ?? inMemory(),
                dbName: options.dbName ?? `memex-${++counter}`,
                stemmer: wordStemmer,
            }) as never,
        })
    } else {
        const { TypeORMStorageBackend } = require('@worldbrain/storex-backend-typeorm') as typeof import('@worldbrain/storex-backend-typeorm')
        storageManager = new StorageManager({
            backend: new TypeORMStorageBackend({ connectionOptions: { type: 'sqlite', database: ':memory:', name: `memex-${++counter}` }, legacyMemexCompatibility: true }),
        })
    }
    // A copy: the registry annotates what it is given, and the published definitions are shared.
    storageManager.registry.registerCollections(copyDefinitions(memexCollections()) as never)
    return storageManager
}

/**
 * Plain objects and arrays copied, Dates kept. (Not structuredClone: under Jest its arrays come
 * from another realm, and Storex's backends tell compound keys apart with `instanceof Array`.)
 */
function copyDefinitions<T>(value: T): T {
    if (Array.isArray(value)) {
        return value.map(copyDefinitions) as T
    }
    if (value && typeof value === 'object' && !(value instanceof Date)) {
        return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, copyDefinitions(inner)])) as T
    }
    return value
}

/** `Object.prototype.toString` tags, not instanceof: values may come from another realm (Dexie in Node). */
function tag(value: unknown): string {
    return Object.prototype.toString.call(value)
}

/** Text for a value that tells Dates, bytes and numbers apart; object keys sorted. */
export function typedJson(value: unknown): string {
    const typed = (inner: unknown): unknown => {
        if (tag(inner) === '[object Date]') {
            return { $date: (inner as Date).toISOString() }
        }
        if (tag(inner) === '[object Uint8Array]') {
            return { $bytes: Array.from(inner as Uint8Array) }
        }
        if (Array.isArray(inner)) {
            return inner.map(typed)
        }
        if (inner && typeof inner === 'object') {
            return Object.fromEntries(
                Object.keys(inner)
                    .sort()
                    .filter(key => (inner as Record<string, unknown>)[key] !== undefined)
                    .map(key => [key, typed((inner as Record<string, unknown>)[key])]),
            )
        }
        return typeof inner === 'number' ? { $number: Object.is(inner, -0) ? '-0' : String(inner) } : inner
    }
    return JSON.stringify(typed(value))
}

/** Every Memex collection of a storage manager, objects in a canonical order, values typed (null fields left out). */
export async function memexDump(storageManager: StorageManager): Promise<Record<string, string[]>> {
    const result: Record<string, string[]> = {}
    for (const collection of memexSynced()) {
        const objects = (await storageManager.collection(collection).findObjects({})) as Array<Record<string, unknown>>
        result[collection] = objects.map(object => typedJson(Object.fromEntries(Object.entries(object).filter(([, value]) => value !== null)))).sort()
    }
    return result
}

export { seededRandom } from '../integration/seeded-random'

const WORDS = ['storex', 'sync', 'memex', 'offline', 'page', 'reading', 'notes', 'archive', 'research', 'browser', 'tags', 'lists']

/** A page as Memex writes it: full text, a `media` screenshot (bytes), keyed by url. */
export interface MemexPage {
    [field: string]: unknown
    url: string
    text: string
    domain: string
    hostname: string
    screenshot: Uint8Array
}

export function makePage(url: string, random: () => number): MemexPage {
    const words = Array.from({ length: 8 + Math.floor(random() * 8) }, () => WORDS[Math.floor(random() * WORDS.length)])
    const screenshot = new Uint8Array(16 + Math.floor(random() * 48))
    for (let index = 0; index < screenshot.length; index++) {
        screenshot[index] = Math.floor(random() * 256)
    }
    const hostname = new URL(`https://${url}`).hostname
    return { url, text: words.join(' '), domain: hostname, hostname, screenshot }
}
