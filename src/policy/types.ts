/**
 * ClusterImagePolicy documents (sigstore policy-controller `policy.sigstore.dev` v1alpha1/v1beta1) as countersign
 * reads them, and the decisions the evaluator returns. Field names follow the CRD so a parsed policy prints back as
 * the document it came from.
 * @module
 */

/**
 * A condition over verified data: `cel` is evaluated by countersign; `cue` and `rego` (policy-controller's
 * languages) are kept so documents parse, but fail closed when evaluated (see docs/policy.md for the mapping).
 * `remote` and `configMapRef` sources are kept likewise and fail closed: countersign does no I/O of its own here.
 *
 * Exported from `countersign/policy`.
 */
export interface PolicyCondition {
  readonly type: 'cel' | 'cue' | 'rego'
  readonly data?: string
  readonly remote?: { readonly url: string; readonly sha256sum: string }
  readonly configMapRef?: { readonly name: string; readonly namespace?: string; readonly key: string }
  /** CIP-level only in policy-controller (not evaluated by countersign; accepted with a warning). */
  readonly fetchConfigFile?: boolean
  readonly includeSpec?: boolean
  readonly includeObjectMeta?: boolean
  readonly includeTypeMeta?: boolean
}

/**
 * A public key reference: exactly one of inline PEM `data`, a `kms` URI or a `secretRef`.
 *
 * Exported from `countersign/policy`.
 */
export interface PolicyKeyRef {
  readonly data?: string
  readonly kms?: string
  readonly secretRef?: { readonly name: string; readonly namespace?: string }
  /** `sha224` | `sha256` | `sha384` | `sha512` (lower-cased); default `sha256`. */
  readonly hashAlgorithm: string
}

/**
 * One accepted certificate identity: exact or RE2 subject, exact or RE2 issuer (both sides required).
 *
 * Exported from `countersign/policy`.
 */
export interface PolicyIdentity {
  readonly issuer?: string
  readonly subject?: string
  readonly issuerRegExp?: string
  readonly subjectRegExp?: string
}

/**
 * Keyless verification: the CA (a Fulcio `url`, a `ca-cert`, or a named trusted root) and the identities, any of
 * which may have signed.
 *
 * Exported from `countersign/policy`.
 */
export interface PolicyKeylessRef {
  readonly url?: string
  readonly 'ca-cert'?: PolicyKeyRef
  readonly identities: readonly PolicyIdentity[]
  readonly trustRootRef?: string
  readonly insecureIgnoreSCT?: boolean
}

/**
 * One attestation an authority must have: its predicate type and an optional condition on the statement.
 *
 * Exported from `countersign/policy`.
 */
export interface PolicyAttestation {
  readonly name: string
  /** A URI, or one of cosign's short names (`custom`, `slsaprovenance`, `spdx`, …; deprecated). */
  readonly predicateType: string
  readonly policy?: PolicyCondition
}

/**
 * An authority: exactly one of `key`, `keyless` and `static`, plus where and how its signatures are checked.
 *
 * Exported from `countersign/policy`.
 */
export interface PolicyAuthority {
  /** `authority-<index>` when the document gives none. */
  readonly name: string
  readonly key?: PolicyKeyRef
  readonly keyless?: PolicyKeylessRef
  readonly static?: { readonly action: 'pass' | 'fail'; readonly message?: string }
  readonly source?: readonly {
    readonly oci?: string
    readonly signaturePullSecrets?: readonly { readonly name: string }[]
    readonly tagPrefix?: string
  }[]
  /** The transparency log (Rekor; policy-controller's name for it is `ctlog`). */
  readonly ctlog?: { readonly url?: string; readonly trustRootRef?: string }
  readonly rfc3161timestamp?: { readonly trustRootRef?: string }
  readonly attestations?: readonly PolicyAttestation[]
  /** Absent: either form is accepted (policy-controller's default is `legacy` only). */
  readonly signatureFormat?: 'legacy' | 'bundle'
}

/**
 * A parsed and validated ClusterImagePolicy.
 *
 * Exported from `countersign/policy`.
 */
export interface ClusterImagePolicy {
  /** `metadata.name`. */
  readonly name: string
  readonly apiVersion: string
  readonly images: readonly { readonly glob: string }[]
  readonly authorities: readonly PolicyAuthority[]
  /** CIP-level condition over the authorities that passed (CEL variable `authorityMatches`). */
  readonly policy?: PolicyCondition
  readonly mode: 'enforce' | 'warn'
  /** Resource selectors; the image check has no resource to match them against, so they are not applied. */
  readonly match?: readonly unknown[]
}

/**
 * What a reason is about.
 *
 * Exported from `countersign/policy`.
 */
export type PolicyCheck =
  | 'match'
  | 'static'
  | 'key'
  | 'trust-root'
  | 'signature'
  | 'identity'
  | 'attestation'
  | 'condition'
  | 'policy'
  | 'unsupported'
  | 'error'

/**
 * One reason: which image, policy, authority and check, and what went wrong.
 *
 * Exported from `countersign/policy`.
 */
export interface PolicyReason {
  readonly image: string
  /** The policy name; empty for an image that matched no policy. */
  readonly policy: string
  readonly authority?: string
  readonly check: PolicyCheck
  readonly message: string
}

/**
 * The outcome of one authority.
 *
 * Exported from `countersign/policy`.
 */
export interface AuthorityOutcome {
  readonly name: string
  readonly passed: boolean
  /** Verified signatures that satisfied it (signature authorities). */
  readonly signatures?: number
  /** Per attestation name, how many verified attestations satisfied it. */
  readonly attestations?: Readonly<Record<string, number>>
  readonly reasons: readonly PolicyReason[]
}

/**
 * The outcome of one matching policy.
 *
 * Exported from `countersign/policy`.
 */
export interface PolicyOutcome {
  readonly name: string
  readonly mode: 'enforce' | 'warn'
  readonly passed: boolean
  readonly authorities: readonly AuthorityOutcome[]
  /** Why it failed: every failing authority's reasons, and a failed CIP-level condition. Empty when it passed. */
  readonly reasons: readonly PolicyReason[]
}

/**
 * The decision for one image.
 *
 * Exported from `countersign/policy`.
 */
export interface PolicyDecision {
  /** The image as given. */
  readonly image: string
  /** The digest it was verified at. */
  readonly digest?: string
  readonly allowed: boolean
  /** Names of the policies whose globs matched. */
  readonly matched: readonly string[]
  readonly policies: readonly PolicyOutcome[]
  /** Every reason the image is denied (enforce-mode failures; no-match under `deny`). Empty when allowed. */
  readonly reasons: readonly PolicyReason[]
  /** Warn-mode failures, no-match under `warn`, and notes about unsupported fields. */
  readonly warnings: readonly PolicyReason[]
  /** True when the decision came from the cache. */
  readonly cached?: boolean
  /**
   * What an admission webhook's mutating endpoint writes for this image: Kyverno's `mutateDigest` pin
   * (`registry/path:tag@digest`), or `null` when every matching Kyverno entry says `mutateDigest: false`. Absent:
   * the default (`repository@digest`, as policy-controller).
   */
  readonly pin?: string | null
}

/**
 * What to do with an image that matches no policy (policy-controller's `no-match-policy`; its default is `deny`).
 *
 * Exported from `countersign/policy`.
 */
export type NoMatchPolicy = 'deny' | 'allow' | 'warn'
