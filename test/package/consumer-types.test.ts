/**
 * The published declarations, typechecked as a consumer project would (`skipLibCheck: false`, so any error in
 * dist/**\/*.d.ts shows): every platform-neutral subpath with `lib: ["es2022"]` and `types: []` (neither the DOM
 * lib nor @types/node), under `moduleResolution` `bundler` and `node16`; with the DOM lib or @types/node the host's
 * own AbortSignal, fetch, Response, ReadableStream and URL must still go in and come out; `countersign/node` with
 * @types/node. The consumer gets the package as npm installs it (package.json and its `files`), its runtime
 * dependencies, and nothing else (no @types/node unless asked for, no optional peer dependency).
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureDist, ROOT } from '../runtime/ensure-dist.js'

interface PackageJSON {
  readonly exports: Record<string, unknown>
  readonly files: readonly string[]
  readonly dependencies?: Record<string, string>
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJSON
const specifier = (subpath: string) => (subpath === '.' ? 'countersign' : `countersign/${subpath.slice(2)}`)
const entries = Object.entries(pkg.exports).filter(
  (e): e is [string, Record<string, unknown>] => e[0] !== './package.json' && typeof e[1] === 'object',
)
/** Subpaths exported under the `node` condition only (Node's adapters): the rest must be platform-neutral. */
const isNodeOnly = (target: Record<string, unknown>) => 'node' in target && !('default' in target)
const NEUTRAL = entries.filter(([, t]) => !isNodeOnly(t)).map(([s]) => specifier(s))
const NODE_ONLY = entries.filter(([, t]) => isNodeOnly(t)).map(([s]) => specifier(s))

const importAll = (specifiers: readonly string[]) =>
  `${specifiers.map((s, i) => `import * as m${i} from '${s}'`).join('\n')}\nexport const modules = [${specifiers.map((_, i) => `m${i}`).join(', ')}]\n`

/** Host types in and out: what a user with the DOM lib or @types/node writes must keep compiling. */
const HOST_INTEROP = `import type { Signer } from 'countersign/signers'
import { signDSSE } from 'countersign/dsse'
import { createRegistryClient, type FetchLike, registryError } from 'countersign/oci'
import { type AuthorizationRequest, parseAuthorizationCallback } from 'countersign/oidc'

// A Signer that hands the signal it is given on to the host's fetch.
export const signer: Signer = {
  algorithm: 'ecdsa-p256-sha256',
  keyMaterial: async () => ({ type: 'public-key', spki: new Uint8Array(91) }),
  async sign(data, options) {
    const res = await fetch('https://hsm.example/sign', { method: 'POST', body: data.slice(), signal: options?.signal })
    return new Uint8Array(await res.arrayBuffer())
  },
}
export async function use(request: AuthorizationRequest): Promise<ReadableStream<Uint8Array>> {
  await signDSSE(new Uint8Array(1), 'text/plain', signer, { signal: AbortSignal.timeout(1000) })
  const f: FetchLike = (url, init) => fetch(url, init)
  const client = createRegistryClient({ fetch, sleep: async (_ms, signal?: AbortSignal) => signal?.throwIfAborted() })
  const res: Response = await f('https://registry.example/v2/', { method: 'GET' })
  if (!res.ok) throw await registryError(res, { what: 'GET /v2/' })
  parseAuthorizationCallback(new URL('http://localhost/cb?code=x&state=y'), request)
  const stream = await client.fetchBlobStream({ registry: 'r.example', repository: 'a' }, 'sha256:00')
  await stream.pipeTo(new WritableStream())
  return stream
}
`

/** Without host types, the structural stand-ins take what such a consumer has (plain objects). */
const NO_HOST = `import type { Signer } from 'countersign/signers'
import { signDSSE } from 'countersign/dsse'
import { createRegistryClient, registryError } from 'countersign/oci'

export const signer: Signer = {
  algorithm: 'ecdsa-p256-sha256',
  keyMaterial: async () => ({ type: 'public-key', spki: new Uint8Array(91) }),
  sign: async (data, options) => (options?.signal?.aborted ? new Uint8Array(0) : data),
}
declare const signal: { readonly aborted: boolean; readonly reason: unknown; addEventListener(type: 'abort', l: () => void): void; removeEventListener(type: 'abort', l: () => void): void }
export async function use() {
  await signDSSE(new Uint8Array(1), 'text/plain', signer, { signal })
  const client = createRegistryClient({
    fetch: async (url, init) => {
      const res = await fetch(url, init)
      const err = res.status >= 400 ? await registryError(res, { what: 'GET' }) : undefined
      if (err) throw err
      return res
    },
  })
  const reader = (await client.fetchBlobStream({ registry: 'r.example', repository: 'a' }, 'sha256:00')).getReader()
  const chunk = await reader.read()
  if (!chunk.done) chunk.value.byteLength
}
// The consumer's own fetch, whatever it is, declared the way such a project would.
declare function fetch(url: string, init?: object): Promise<{ status: number; statusText: string; ok: boolean; url: string; headers: { get(n: string): string | null }; body: null; bodyUsed: boolean; json(): Promise<unknown>; text(): Promise<string>; arrayBuffer(): Promise<ArrayBuffer> }>
`

let root: string

/** A consumer directory: countersign as npm installs it, its runtime dependencies, and `extra` packages. */
function consumer(name: string, extra: readonly string[]): string {
  const dir = join(root, name)
  const installed = join(dir, 'node_modules', 'countersign')
  mkdirSync(installed, { recursive: true })
  cpSync(join(ROOT, 'package.json'), join(installed, 'package.json'))
  for (const f of pkg.files) cpSync(join(ROOT, f), join(installed, f), { recursive: true })
  for (const dep of [...Object.keys(pkg.dependencies ?? {}), ...extra]) {
    const link = join(dir, 'node_modules', dep)
    mkdirSync(dirname(link), { recursive: true })
    symlinkSync(join(ROOT, 'node_modules', dep), link, 'dir')
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${name}`, private: true, type: 'module' }))
  return dir
}

interface Setting {
  readonly moduleResolution: 'bundler' | 'node16'
  readonly lib: readonly string[]
  readonly types: readonly string[]
  readonly customConditions?: readonly string[]
}

/** Typecheck `source` in `dir` with a tsconfig of `setting`; the diagnostics, as `file(line): message`. */
function typecheck(dir: string, source: string, setting: Setting): string[] {
  const file = join(dir, `check-${Math.random().toString(36).slice(2)}.ts`)
  writeFileSync(file, source)
  const config = {
    compilerOptions: {
      target: 'es2022',
      module: setting.moduleResolution === 'node16' ? 'node16' : 'esnext',
      moduleResolution: setting.moduleResolution,
      lib: setting.lib,
      types: setting.types,
      ...(setting.customConditions ? { customConditions: setting.customConditions } : {}),
      strict: true,
      noEmit: true,
      skipLibCheck: false,
    },
    files: [file],
  }
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, dir)
  expect(parsed.errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([])
  const program = ts.createProgram(parsed.fileNames, parsed.options)
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file
      ? `${d.file.fileName.replace(`${dir}/`, '')}(${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1})`
      : ''
    return `${where}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`
  })
}

beforeAll(async () => {
  await ensureDist()
  for (const [s, t] of entries) {
    const types = ((t.node ?? t) as { types?: string }).types
    if (!types || !existsSync(join(ROOT, types))) throw new Error(`dist lacks ${types} for ${s}: run npm run build`)
  }
  root = mkdtempSync(join(tmpdir(), 'countersign-consumer-types-'))
}, 240_000)
afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true })
})

describe('declarations need neither the DOM lib nor @types/node (countersign/node aside)', () => {
  it('finds the subpaths to check in the exports map', () => {
    expect(NEUTRAL).toContain('countersign')
    expect(NEUTRAL).toContain('countersign/policy')
    expect(NODE_ONLY).toContain('countersign/node')
    expect(NEUTRAL.length + NODE_ONLY.length).toBe(entries.length)
  })

  it.each(['bundler', 'node16'] as const)(
    'every neutral subpath, lib es2022, types [], moduleResolution %s',
    (moduleResolution) => {
      const dir = consumer(`neutral-${moduleResolution}`, [])
      expect(typecheck(dir, importAll(NEUTRAL), { moduleResolution, lib: ['es2022'], types: [] })).toEqual([])
      expect(typecheck(dir, NO_HOST, { moduleResolution, lib: ['es2022'], types: [] })).toEqual([])
    },
    120_000,
  )

  it('with the DOM lib, the host types go in and come out unchanged', () => {
    const dir = consumer('dom', [])
    expect(typecheck(dir, HOST_INTEROP, { moduleResolution: 'bundler', lib: ['es2022', 'dom'], types: [] })).toEqual([])
  }, 120_000)

  it('with @types/node, the host types go in and come out unchanged', () => {
    const dir = consumer('node-host', ['@types/node'])
    expect(typecheck(dir, HOST_INTEROP, { moduleResolution: 'node16', lib: ['es2022'], types: ['node'] })).toEqual([])
  }, 120_000)

  it('countersign/node with @types/node (node16, and bundler with the node condition)', () => {
    const dir = consumer('node', ['@types/node'])
    const source = importAll(NODE_ONLY)
    expect(typecheck(dir, source, { moduleResolution: 'node16', lib: ['es2022'], types: ['node'] })).toEqual([])
    expect(
      typecheck(dir, source, {
        moduleResolution: 'bundler',
        lib: ['es2022'],
        types: ['node'],
        customConditions: ['node'],
      }),
    ).toEqual([])
  }, 120_000)

  it('countersign/node under plain bundler resolution: types only when the exports map has a types fallback', () => {
    const dir = consumer('node-bundler', ['@types/node'])
    const errors = typecheck(dir, importAll(NODE_ONLY), {
      moduleResolution: 'bundler',
      lib: ['es2022'],
      types: ['node'],
    })
    const fallback = NODE_ONLY.every((s) => 'types' in (pkg.exports[`./${s.slice('countersign/'.length)}`] as object))
    // Without the fallback, bundler resolution (no `node` condition) cannot see countersign/node at all: README
    // tells such projects to set `customConditions: ["node"]`.
    if (fallback) expect(errors).toEqual([])
    else for (const s of NODE_ONLY) expect(errors.join('\n')).toContain(`Cannot find module '${s}'`)
  }, 120_000)
})
