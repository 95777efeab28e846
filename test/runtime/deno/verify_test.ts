/**
 * Deno test (`deno test --allow-read --sloppy-imports test/runtime/deno/`, run by test/runtime/deno.test.ts):
 * the built `countersign/verify` verifies fixture bundles under Deno with Deno's own file API and Web Crypto.
 * Named `verify_test.ts`, which Deno collects and vitest's `*.test.ts` does not.
 */
import { RUNTIME_CASES, runCase, type VerifyLibrary, verdictProblem } from '../cases.js'

// Deno's globals, declared here so the Node typecheck (tsconfig.node.json) accepts this file too.
declare const Deno: {
  test(name: string, fn: () => Promise<void>): void
  readFile(path: URL): Promise<Uint8Array>
  version: { deno: string }
}

// The built package, loaded by a computed specifier: dist/ does not exist when the Node typecheck runs.
const dist = (path: string) => new URL(`../../../dist/${path}`, import.meta.url).href
const lib: VerifyLibrary = {
  ...(await import(dist('verify.js'))),
  ...(await import(dist('trust/index.js'))),
  ...(await import(dist('keys/index.js'))),
}
const vectors = new URL('../../vectors/bundles/', import.meta.url)
const read = (path: string) => Deno.readFile(new URL(path, vectors))

for (const c of RUNTIME_CASES) {
  Deno.test(`deno ${Deno.version.deno}: ${c.label} → ${c.expect}`, async () => {
    const problem = verdictProblem(c, await runCase(lib, read, c))
    if (problem) throw new Error(problem)
  })
}
