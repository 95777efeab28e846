/**
 * Reading Kyverno's chainsaw conformance tests (test/vectors/kyverno/chainsaw, see PROVENANCE.md there): the policy
 * documents of a test directory, and its Pods as the resource and images an admission request would carry.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { parseAllDocuments } from 'yaml'
import type { KyvernoResource } from '../../src/policy/kyverno/resources.js'

/** test/vectors/kyverno/chainsaw */
export const CHAINSAW_ROOT: string = new URL('../vectors/kyverno/chainsaw/', import.meta.url).pathname

/** The path of `file` in the chainsaw test `dir` (`standard/keyed-basic`, `cornercases/multiple-attestors`). */
export const chainsawFile = (dir: string, file: string): string => join(CHAINSAW_ROOT, dir, file)

/** Every YAML file under the chainsaw vectors, relative to CHAINSAW_ROOT, sorted. */
export function chainsawYAMLFiles(): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else if (/\.ya?ml$/.test(name)) out.push(relative(CHAINSAW_ROOT, p))
    }
  }
  walk(CHAINSAW_ROOT)
  return out.sort()
}

/** The decoded documents of a YAML file (empty documents dropped). */
export function yamlDocuments(path: string): Record<string, unknown>[] {
  return parseAllDocuments(readFileSync(path, 'utf8'))
    .map((d) => d.toJSON() as unknown)
    .filter((d): d is Record<string, unknown> => d !== null && typeof d === 'object')
}

/** Whether a document is a Kyverno ClusterPolicy or Policy (the other documents are cluster objects: Namespaces, ConfigMaps…). */
export const isKyvernoPolicyDocument = (d: Record<string, unknown>): boolean =>
  typeof d.apiVersion === 'string' &&
  d.apiVersion.startsWith('kyverno.io/') &&
  (d.kind === 'ClusterPolicy' || d.kind === 'Policy')

/** The policy.yaml text of a chainsaw test, verbatim. */
export const chainsawPolicyText = (dir: string): string => readFileSync(chainsawFile(dir, 'policy.yaml'), 'utf8')

/** A Pod of a chainsaw test: its admission resource (with its namespace's labels when known) and its images. */
export interface ChainsawPod {
  readonly name: string
  readonly namespace: string
  readonly images: readonly string[]
  readonly resource: KyvernoResource
}

/**
 * The Pod in `file` of chainsaw test `dir`, as a CREATE request for it would describe it; `namespaceLabels` are the
 * labels of its Namespace (from the test's namespace files), when the test depends on them.
 */
export function chainsawPod(dir: string, file: string, namespaceLabels?: Record<string, string>): ChainsawPod {
  const [pod] = yamlDocuments(chainsawFile(dir, file)).filter((d) => d.kind === 'Pod')
  if (!pod) throw new Error(`${dir}/${file}: no Pod`)
  const metadata = pod.metadata as { name: string; namespace?: string; labels?: Record<string, string> }
  const spec = pod.spec as Record<string, { image?: string }[] | undefined>
  const images = ['initContainers', 'containers', 'ephemeralContainers'].flatMap((k) =>
    (spec[k] ?? []).flatMap((c) => (typeof c.image === 'string' ? [c.image] : [])),
  )
  const namespace = metadata.namespace ?? 'default'
  return {
    name: metadata.name,
    namespace,
    images,
    resource: {
      group: '',
      version: 'v1',
      kind: 'Pod',
      name: metadata.name,
      namespace,
      operation: 'CREATE',
      ...(metadata.labels ? { labels: metadata.labels } : {}),
      ...(namespaceLabels ? { namespaceLabels } : {}),
    },
  }
}

/** The labels of the Namespace declared in `file` of chainsaw test `dir`. */
export function chainsawNamespaceLabels(dir: string, file: string): { name: string; labels: Record<string, string> } {
  const [ns] = yamlDocuments(chainsawFile(dir, file)).filter((d) => d.kind === 'Namespace')
  if (!ns) throw new Error(`${dir}/${file}: no Namespace`)
  const metadata = ns.metadata as { name: string; labels?: Record<string, string> }
  return { name: metadata.name, labels: metadata.labels ?? {} }
}
