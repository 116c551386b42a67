// Builds the demo into demo/dist: one browser bundle (esbuild, --platform=browser, no Node
// polyfills) plus the static files. `npm run build:demo`; `npm start` runs it before serving.
const { build } = require('esbuild')
const { copyFileSync, mkdirSync } = require('fs')
const path = require('path')

const DEMO = __dirname
const OUT = path.join(DEMO, 'dist')

async function buildDemo({ outdir = OUT, minify = true } = {}) {
    mkdirSync(outdir, { recursive: true })
    await build({
        entryPoints: [path.join(DEMO, 'src/main.ts')],
        outfile: path.join(outdir, 'app.js'),
        tsconfig: path.join(DEMO, 'tsconfig.json'),
        bundle: true,
        platform: 'browser',
        format: 'iife',
        target: 'es2020',
        minify,
        sourcemap: true,
        // Storex's `randombytes` dependency reads Node's `global`; the library itself needs no define.
        define: { global: 'globalThis' },
        logLevel: 'warning',
    })
    for (const file of ['index.html', 'style.css']) {
        copyFileSync(path.join(DEMO, file), path.join(outdir, file))
    }
    return outdir
}

module.exports = { buildDemo, DEMO_DIST: OUT }

if (require.main === module) {
    buildDemo().then(
        (outdir) => console.log(`demo built into ${path.relative(process.cwd(), outdir) || '.'}`),
        (error) => {
            console.error(error)
            process.exit(1)
        },
    )
}
