/**
 * Bundle the built `countersign/verify` (with `countersign/trust`, `countersign/keys` and the shared runtime
 * cases) for the browser with esbuild, in memory, and list what in the bundle would need Node.
 */
import { builtinModules } from 'node:module'
import { build, type Metafile } from 'esbuild'
import { ROOT } from '../ensure-dist.js'

export interface BrowserBundle {
  /** Output files by URL path (`/verify.js`, `/chunk-….js`). */
  readonly files: ReadonlyMap<string, Uint8Array>
  readonly metafile: Metafile
}

/** Bundle entries as the page imports them: `/verify.js`, `/trust.js`, `/keys.js`, `/cases.js`. */
const ENTRIES = {
  verify: `${ROOT}dist/verify.js`,
  trust: `${ROOT}dist/trust/index.js`,
  keys: `${ROOT}dist/keys/index.js`,
  cases: `${ROOT}test/runtime/cases.ts`,
}

/** esbuild with `platform: 'browser'` (the `browser` export conditions and package fields, no Node shims). */
export async function bundleForBrowser(): Promise<BrowserBundle> {
  const out = `${ROOT}.tmp/browser-bundle`
  const result = await build({
    entryPoints: ENTRIES,
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    splitting: true,
    outdir: out,
    write: false,
    metafile: true,
    logLevel: 'silent',
  })
  const files = new Map<string, Uint8Array>()
  for (const f of result.outputFiles) files.set(f.path.slice(out.length), f.contents)
  return { files, metafile: result.metafile }
}

const NODE_BUILTINS = new Set(builtinModules)

/** Every import in the bundle's inputs that names Node (node:*, a builtin, undici) or stayed external. */
export function nodeDependencies(metafile: Metafile): string[] {
  const found: string[] = []
  for (const [input, { imports }] of Object.entries(metafile.inputs)) {
    if (/(^|\/)node_modules\/undici\//.test(input)) found.push(`${input} (undici bundled)`)
    for (const i of imports) {
      // `path` is where esbuild resolved the import; `original` is the specifier as written when they differ.
      const specifier = i.original ?? i.path
      const bare = specifier.replace(/^node:/, '').split('/')[0]!
      if (specifier.startsWith('node:') || NODE_BUILTINS.has(bare) || /undici/.test(i.path + specifier) || i.external) {
        found.push(`${input} imports ${specifier}${i.external ? ' (external)' : ''}`)
      }
    }
  }
  return found
}
