import type { AbortSignalLike } from '../internal/host-types.js'
/**
 * The contract between the admission webhook and whatever decides about one image (normally the policy evaluator's
 * `createPolicyImageCheck`): the webhook extracts images from admission requests and asks an {@link ImageCheck}.
 *
 * @module
 */

/**
 * The verdict on one image reference.
 *
 * Exported from `countersign/admission`.
 */
export interface ImageCheckResult {
  /** The reference as written in the workload. */
  readonly image: string
  /** Whether admission may go ahead for this image (in warn mode a failing image is allowed, with warnings). */
  readonly allowed: boolean
  /** `sha256:…` the reference resolved to and was verified at (the mutating endpoint pins tags to it). */
  readonly digest?: string
  /** Warnings to return to the client (warn-mode failures, deprecations). */
  readonly warnings: readonly string[]
  /** Why the image is denied: one line per failing policy/authority/check. Empty when allowed. */
  readonly reasons: readonly string[]
  /** True when the verdict came from the cache. */
  readonly cached?: boolean
  /**
   * What the mutating endpoint writes for this image: a digest-pinned reference (Kyverno keeps the tag:
   * `repo:tag@sha256:…`), or `null` when the policies ask for no pinning (Kyverno `mutateDigest: false`). Absent: the
   * default pin, `repository@digest` ({@link pinnedReference}).
   */
  readonly pin?: string | null
}

/**
 * The workload an image belongs to, as the admission request describes it (for policies that match on resources,
 * such as Kyverno's `match`/`exclude`).
 *
 * @example
 * ```ts
 * const r: AdmissionResource = { group: 'apps', version: 'v1', kind: 'Deployment', name: 'web', namespace: 'prod', operation: 'CREATE' }
 * ```
 *
 * Exported from `countersign/admission`.
 */
export interface AdmissionResource {
  /** The API group; `''` for the core group (Pod, ReplicationController, Namespace). */
  readonly group: string
  readonly version: string
  readonly kind: string
  /** The subresource of the request (`exec`, `ephemeralcontainers`, …); absent or `''` for the resource itself. */
  readonly subresource?: string
  /** `metadata.name`, or `metadata.generateName` when the object has no name yet. */
  readonly name: string
  /** `metadata.namespace`; absent or `''` for a cluster-scoped resource. */
  readonly namespace?: string
  /** `CREATE` or `UPDATE` (other operations are not checked). */
  readonly operation: string
  readonly labels?: Readonly<Record<string, string>>
  readonly annotations?: Readonly<Record<string, string>>
}

/**
 * Decide about one image. Must not throw for a policy failure (that is `allowed: false` with reasons); a throw means
 * the decision could not be made, and the webhook fails closed.
 *
 * @example
 * ```ts
 * import type { ImageCheck } from 'countersign/admission'
 * const allowAll: ImageCheck = async (image) => ({ image, allowed: true, warnings: [], reasons: [] })
 * ```
 *
 * Exported from `countersign/admission`.
 */
export type ImageCheck = (
  image: string,
  context: { readonly namespace?: string; readonly signal?: AbortSignalLike; readonly resource?: AdmissionResource },
) => Promise<ImageCheckResult>
