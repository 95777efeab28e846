/**
 * Bun test (`bun test ./test/runtime/bun/verify_test.ts`, run by test/runtime/bun.test.ts): the built
 * `countersign/verify` verifies fixture bundles under Bun with Bun's own file API and Web Crypto. Named
 * `verify_test.ts`, which vitest's `*.test.ts` does not collect.
 */
import { RUNTIME_CASES, runCase, type VerifyLibrary, verdictProblem } from '../cases.js'

// Bun's globals (bun test provides `test` without an import), declared for the Node typecheck.
declare function test(name: string, fn: () => Promise<void>): void
declare const Bun: {
  file(path: URL): { bytes(): Promise<Uint8Array> }
  version: string
}

// The built package, loaded by a computed specifier: dist/ does not exist when the Node typecheck runs.
const dist = (path: string) => new URL(`../../../dist/${path}`, import.meta.url).href
const lib: VerifyLibrary = {
  ...(await import(dist('verify.js'))),
  ...(await import(dist('trust/index.js'))),
  ...(await import(dist('keys/index.js'))),
}
const vectors = new URL('../../vectors/bundles/', import.meta.url)
const read = (path: string) => Bun.file(new URL(path, vectors)).bytes()

for (const c of RUNTIME_CASES) {
  test(`bun ${Bun.version}: ${c.label} → ${c.expect}`, async () => {
    const problem = verdictProblem(c, await runCase(lib, read, c))
    if (problem) throw new Error(problem)
  })
}
