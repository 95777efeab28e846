// A warm verifier's results share their hidden classes from one bundle to the next. On Node 20 (V8 11.3) an object
// literal beginning with a spread (`{ ...options, backend }`) got a new hidden class on every call once optimised,
// an old-space allocation per call that also kept young objects alive (src/internal/merged.ts). Checked in a child
// Node with --allow-natives-syntax: every object reachable from two consecutive results, pairwise, except objects
// with an own getter (a certificate's issuer and subject render their RFC 4514 `text` on first read, and keep it an
// own enumerable property so that they serialise with it; such an object has its own hidden class by construction).
import { describe, expect, it } from 'vitest'
import { runNativesScript, srcURL, supportURL } from '../support/natives-script.js'

describe('verification results keep one hidden class', () => {
  it.each(['conformance-happy-path-v0.3', 'conformance-rekor2-happy-path'])(
    '%s',
    (name) => {
      const { objects, differ } = runNativesScript<{ objects: number; differ: number }>([
        `import { createVerifier } from ${srcURL('verifier/verifier.js')}`,
        `import { nodeSignatureBackend } from ${srcURL('node/signature-backend.js')}`,
        `import { countersignInputs, countersignRoot, loadCase } from ${supportURL('bundle-cases.js')}`,
        `const inputs = countersignInputs(loadCase(${JSON.stringify(name)}))`,
        'const v = createVerifier(countersignRoot(inputs), { ...inputs.options, signatureBackend: nodeSignatureBackend })',
        'const sameMap = new Function("a", "b", "return %HaveSameMap(a, b)")',
        'let previous: unknown',
        'let differ = 0',
        'let objects = 0',
        'const walk = (a: any, b: any, seen: Set<unknown>) => {',
        '  if (a === null || typeof a !== "object" || seen.has(a) || ArrayBuffer.isView(a)) return',
        '  seen.add(a)',
        '  const ownGetter = Object.values(Object.getOwnPropertyDescriptors(a)).some((d) => d.get !== undefined)',
        '  if (!ownGetter) objects++',
        '  if (!ownGetter && !sameMap(a, b)) differ++',
        '  for (const k of Object.keys(a)) walk(a[k], b?.[k], seen)',
        '}',
        'for (let i = 0; i < 2500; i++) {',
        '  const r = await v.verify(inputs.bundle, inputs.artifact, inputs.policy)',
        '  if (i === 2499) walk(r, previous, new Set())',
        '  previous = r',
        '}',
        'console.log(JSON.stringify({ objects, differ }))',
      ])
      expect(objects).toBeGreaterThan(3)
      expect(differ).toBe(0)
    },
    120_000,
  )
})
