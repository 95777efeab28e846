/** Load the AdmissionReview fixtures (as kube-apiserver sends them) and rewrite their images for a test. */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export type FixtureName = 'pod-create' | 'pod-ephemeral' | 'deployment-create' | 'cronjob-create'

// biome-ignore lint/suspicious/noExplicitAny: fixtures are free-form JSON edited by tests
export type Review = any

export function loadReview(name: FixtureName): Review {
  return JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', `${name}.json`), 'utf8'))
}

/** Replace every `image` string in the review's object via `map` (unmapped images stay). */
export function mapImages(review: Review, map: (image: string) => string): Review {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk)
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {}
      for (const [k, x] of Object.entries(v)) out[k] = k === 'image' && typeof x === 'string' ? map(x) : walk(x)
      return out
    }
    return v
  }
  return { ...review, request: { ...review.request, object: walk(review.request.object) } }
}

/** Apply RFC 6902 `replace` operations (the only kind the webhook emits) to a copy of `doc`. */
export function applyReplacePatch(doc: unknown, ops: { op: string; path: string; value: unknown }[]): unknown {
  const copy = structuredClone(doc) as Record<string, unknown>
  for (const op of ops) {
    if (op.op !== 'replace') throw new Error(`unexpected op ${op.op}`)
    const parts = op.path
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    const last = parts.pop()!
    let at: Record<string, unknown> = copy
    for (const p of parts) {
      const next = at[p]
      if (next === null || typeof next !== 'object') throw new Error(`path ${op.path} does not exist`)
      at = next as Record<string, unknown>
    }
    if (!(last in at)) throw new Error(`path ${op.path} does not exist`)
    at[last] = op.value
  }
  return copy
}
