/**
 * `policy verify --resource FILE`: the workloads of Kubernetes manifests (Pods, pod templates, Deployments, Jobs,
 * CronJobs, …) with their images, so each image is decided with its workload as the resource — Kyverno rules'
 * `match`/`exclude` (kinds, namespaces, names, labels, annotations, autogen) apply as the cluster applies them.
 * Objects of other kinds (Services, ConfigMaps, …) hold no images and are skipped.
 * @module
 */
import { podSpecPath, workloadImages } from '../admission/images.js'
import type { AdmissionResource } from '../admission/types.js'
import { CountersignError } from '../errors.js'
import { clipText, MAX_QUOTED_LENGTH } from '../internal/bounded-text.js'
import { isJSONObject } from '../internal/json.js'
import { parseDocumentsAsync } from '../policy/parse.js'

/** One workload of a manifest: how to name it, the resource policies see, its distinct images. */
export interface ManifestWorkload {
  /** `Kind namespace/name`, as the output names it. */
  readonly label: string
  readonly resource: AdmissionResource
  readonly images: readonly string[]
}

/**
 * The workloads of manifest files, in file and document order. A namespaced object without `metadata.namespace` is
 * taken to be in `default`, as `kubectl apply` without `-n` puts it.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT for text that is not YAML/JSON, a document that is not an object
 *   with `apiVersion` and `kind`, or a workload whose images cannot be read.
 * @example
 * ```ts
 * const workloads = await workloadsOfManifests([{ path: 'deploy.yaml', content }])
 * ```
 */
export async function workloadsOfManifests(
  files: readonly { readonly path: string; readonly content: Uint8Array }[],
): Promise<{ workloads: ManifestWorkload[]; skipped: string[] }> {
  const workloads: ManifestWorkload[] = []
  const skipped: string[] = []
  for (const file of files) {
    const docs = await parseDocumentsAsync(file.content, file.path)
    for (const [i, doc] of flattenLists(docs, file.path).entries()) {
      const where = `${file.path}#${i}`
      if (!isJSONObject(doc) || typeof doc.apiVersion !== 'string' || typeof doc.kind !== 'string') {
        throw new CountersignError('ERR_INVALID_INPUT', `${where}: not a Kubernetes object (apiVersion and kind)`)
      }
      const slash = doc.apiVersion.lastIndexOf('/')
      const gvk = {
        group: slash < 0 ? '' : doc.apiVersion.slice(0, slash),
        version: doc.apiVersion.slice(slash + 1),
        kind: doc.kind,
      }
      const metadata = isJSONObject(doc.metadata) ? doc.metadata : {}
      const name = str(metadata.name) ?? str(metadata.generateName) ?? ''
      const label = `${doc.kind} ${str(metadata.namespace) ?? 'default'}/${name}`
      if (podSpecPath(gvk) === undefined) {
        skipped.push(clipText(label, MAX_QUOTED_LENGTH))
        continue
      }
      const images = [...new Set(workloadImages(gvk, doc).map((w) => w.image))]
      const labels = stringMap(metadata.labels)
      const annotations = stringMap(metadata.annotations)
      workloads.push({
        label: clipText(label, MAX_QUOTED_LENGTH),
        images,
        resource: {
          ...gvk,
          name,
          namespace: str(metadata.namespace) ?? 'default',
          operation: 'CREATE',
          ...(labels ? { labels } : {}),
          ...(annotations ? { annotations } : {}),
        },
      })
    }
  }
  return { workloads, skipped }
}

/** Documents with `List` kinds (`kubectl get -o yaml`) expanded into their items. */
function flattenLists(docs: readonly unknown[], source: string): unknown[] {
  const out: unknown[] = []
  for (const d of docs) {
    if (isJSONObject(d) && typeof d.kind === 'string' && d.kind.endsWith('List') && Array.isArray(d.items)) {
      out.push(...d.items)
    } else if (Array.isArray(d)) {
      throw new CountersignError('ERR_INVALID_INPUT', `${source}: a document is a list, not a Kubernetes object`)
    } else out.push(d)
  }
  return out
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined
}

function stringMap(v: unknown): Record<string, string> | undefined {
  if (!isJSONObject(v)) return undefined
  return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'))
}
