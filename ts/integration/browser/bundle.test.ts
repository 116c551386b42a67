import { builtinModules } from 'module'
import path from 'path'
import vm from 'vm'
import { build } from 'esbuild'
import { indexedDB, IDBKeyRange } from 'fake-indexeddb'
import type { BrowserScenarioResult } from './scenario'

/**
 * The main entry must bundle for the browser as shipped (no shims, no defines) and run where no
 * Node API exists. The bundle runs in a fresh V8 context that has only what a browser page has
 * (WebCrypto, TextEncoder, timers, IndexedDB, navigator) and no require, process or Buffer.
 */

const ROOT = path.resolve(__dirname, '../../..')
const NODE_BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]))

async function bundle(entry: string, define: Record<string, string> = {}) {
    return build({
        define,
        entryPoints: [entry],
        absWorkingDir: ROOT,
        bundle: true,
        platform: 'browser',
        format: 'iife',
        globalName: 'bundled',
        write: false,
        metafile: true,
        logLevel: 'silent',
    })
}

describe('browser bundle', () => {
    it('bundles the main entry with --platform=browser and pulls in no Node built-in', async () => {
        const result = await bundle('ts/index.ts')
        expect(result.errors).toEqual([])
        const imports = Object.values(result.metafile.inputs).flatMap((input) => input.imports.map((item) => item.path))
        expect(imports.filter((name) => NODE_BUILTINS.has(name))).toEqual([])
        expect(Object.keys(result.metafile.inputs).filter((file) => /node_modules\/(fastify|better-sqlite3|pg|ws)\//.test(file))).toEqual([])
    })

    it('runs a two-device sync in a context with only browser globals', async () => {
        // The app's own Storex (through its `randombytes` dependency) reads Node's `global`, so an
        // app bundling Storex with esbuild defines it; the library's entry needs no such define.
        const result = await bundle('ts/integration/browser/scenario.ts', { global: 'globalThis' })
        const code = result.outputFiles[0].text
        const page = {
            console,
            setTimeout,
            clearTimeout,
            setInterval,
            clearInterval,
            queueMicrotask,
            crypto: globalThis.crypto,
            TextEncoder,
            TextDecoder,
            URL,
            indexedDB,
            IDBKeyRange,
            // Browsers have one; storex-backend-dexie opens real transactions only when it exists.
            navigator: { userAgent: 'browser-bundle-test' },
        }
        const context = vm.createContext(page)
        vm.runInContext('globalThis.window = globalThis; globalThis.self = globalThis', context)
        vm.runInContext(`${code}\nglobalThis.bundled = bundled`, context, { filename: 'bundle.js' })
        expect(vm.runInContext('typeof require + typeof process + typeof Buffer + typeof module', context)).toBe('undefinedundefinedundefinedundefined')

        const run = (context as unknown as { bundled: { runBrowserScenario(prefix: string): Promise<BrowserScenarioResult> } }).bundled.runBrowserScenario
        const outcome = await run(`bundle-${Date.now()}`)
        expect(outcome.pushed).toBe(1)
        expect(outcome.applied).toBe(1)
        expect(outcome.deviceIds[0]).not.toBe(outcome.deviceIds[1])
        expect(outcome.deviceIds[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
        // Objects cross the context boundary; compare their JSON.
        const expected = [{ id: expect.any(String), title: 'edited on the phone', body: 'from the laptop' }]
        expect(JSON.parse(JSON.stringify(outcome.laptopNotes))).toEqual(expected)
        expect(JSON.parse(JSON.stringify(outcome.phoneNotes))).toEqual(JSON.parse(JSON.stringify(outcome.laptopNotes)))
    })
})
