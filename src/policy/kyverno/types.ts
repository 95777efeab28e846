/**
 * Kyverno image verification rules as countersign reads them: `kyverno.io/v1` (and `v2beta1`) `ClusterPolicy` and
 * `Policy` documents whose rules hold `verifyImages`. Field names follow Kyverno's CRD (docs/policy.md, "Kyverno")
 * so a parsed rule reads like the document it came from; CRD defaults are applied by the parser.
 * @module
 */

/**
 * One Kyverno condition: `key` and `value` may hold `{{ jmespath }}` variables, evaluated against the attestation's
 * predicate (merged at the root of the context, as Kyverno does).
 *
 * Exported from `countersign/policy`.
 */
export interface KyvernoCondition {
  readonly key: unknown
  /** One of Kyverno's operators (`Equals`, `NotEquals`, `AnyIn`, `AllIn`, `AnyNotIn`, `AllNotIn`, `In`, `NotIn`,
   * `GreaterThan`, `GreaterThanOrEquals`, `LessThan`, `LessThanOrEquals`, `Duration*`), as written. */
  readonly operator: string
  readonly value?: unknown
  readonly message?: string
}

/**
 * A block of conditions: every `all` must hold and, when present, at least one `any`.
 *
 * Exported from `countersign/policy`.
 */
export interface KyvernoConditionBlock {
  readonly any?: readonly KyvernoCondition[]
  readonly all?: readonly KyvernoCondition[]
}

/**
 * The transparency log settings of an attestor (`rekor`): the log is required unless `ignoreTlog`.
 *
 * Exported from `countersign/policy`.
 */
export interface KyvernoRekor {
  readonly url?: string
  readonly pubkey?: string
  readonly ignoreTlog?: boolean
}

/**
 * The certificate transparency settings of an attestor (`ctlog`).
 *
 * Exported from `countersign/policy`.
 */
export interface KyvernoCTLog {
  readonly ignoreSCT?: boolean
  readonly pubkey?: string
  readonly tsaCertChain?: string
}

/**
 * `keys`: one public key (a `publicKeys` PEM with several keys is split into one attestor per key by the parser),
 * or a KMS URI, or a Kubernetes Secret.
 *
 * Exported from `countersign/policy`.
 */
export interface KyvernoKeys {
  readonly publicKeys?: string
  readonly kms?: string
  readonly secret?: { readonly name: string; readonly namespace?: string }
  /** `sha224` | `sha256` | `sha384` | `sha512`; default `sha256`. */
  readonly signatureAlgorithm: string
  readonly rekor?: KyvernoRekor
  readonly ctlog?: KyvernoCTLog
}

/**
 * `keyless`: Fulcio certificates whose identity matches `subject`/`issuer` (Kyverno wildcards) or their regular
 * expressions, and `additionalExtensions`.
 *
 * Exported from `countersign/policy`.
 */
export interface KyvernoKeyless {
  readonly subject?: string
  readonly subjectRegExp?: string
  readonly issuer?: string
  readonly issuerRegExp?: string
  /** PEM certificates of the CA (default: the trusted root's Fulcio CAs). */
  readonly roots?: string
  readonly additionalExtensions?: Readonly<Record<string, string>>
  readonly rekor?: KyvernoRekor
  readonly ctlog?: KyvernoCTLog
}

/**
 * `certificates`: a signing certificate (its key verifies) and/or the chain it must chain to.
 *
 * Exported from `countersign/policy`.
 */
export interface KyvernoCertificates {
  readonly cert?: string
  readonly certChain?: string
  readonly rekor?: KyvernoRekor
  readonly ctlog?: KyvernoCTLog
}

/**
 * One attestor entry: exactly one of `keys`, `keyless`, `certificates` or a nested `attestor` set.
 *
 * Exported from `countersign/policy`.
 */
export interface KyvernoAttestor {
  readonly keys?: KyvernoKeys
  readonly keyless?: KyvernoKeyless
  readonly certificates?: KyvernoCertificates
  readonly attestor?: KyvernoAttestorSet
  /** Every pair must appear in a verified signature payload's `optional` map (exact strings). */
  readonly annotations?: Readonly<Record<string, string>>
  /** Where signatures live instead of the image's repository. */
  readonly repository?: string
}

/**
 * A set of attestors, `count` of which must pass (absent: all of them).
 *
 * Exported from `countersign/policy`.
 */
export interface KyvernoAttestorSet {
  readonly count?: number
  readonly entries: readonly KyvernoAttestor[]
}

/**
 * One required attestation: statements of predicate `type`, signed as the attestor sets say, each satisfying the
 * conditions.
 *
 * Exported from `countersign/policy`.
 */
export interface KyvernoAttestation {
  readonly name?: string
  /** The predicate type URI (`type`, or the deprecated `predicateType`). */
  readonly type: string
  /** Absent or empty: one empty attestor (any Fulcio-issued certificate, as Kyverno). */
  readonly attestors: readonly KyvernoAttestorSet[]
  readonly conditions: readonly KyvernoConditionBlock[]
}

/**
 * One `verifyImages` entry, CRD defaults applied.
 *
 * Exported from `countersign/policy`.
 */
export interface KyvernoImageVerification {
  /** `Cosign` (cosign's `.sig`/`.att` tags) or `SigstoreBundle` (Sigstore bundles as OCI 1.1 referrers). */
  readonly type: 'Cosign' | 'SigstoreBundle'
  readonly imageReferences: readonly string[]
  readonly skipImageReferences: readonly string[]
  readonly attestors: readonly KyvernoAttestorSet[]
  readonly attestations: readonly KyvernoAttestation[]
  readonly repository?: string
  readonly mutateDigest: boolean
  readonly verifyDigest: boolean
  readonly required: boolean
  readonly useCache: boolean
  readonly failureAction?: 'Enforce' | 'Audit'
  /**
   * Deny conditions over the named attestations' predicates (`attestations[].name`), checked once every attestation
   * passed: when they hold, the entry fails with `message`.
   */
  readonly validate?: { readonly message?: string; readonly deny: readonly KyvernoConditionBlock[] }
}

/**
 * A Kubernetes label selector as Kyverno reads it (wildcards allowed in `matchLabels` values).
 *
 * Exported from `countersign/policy`.
 */
export interface KyvernoLabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>
  readonly matchExpressions?: readonly {
    readonly key: string
    readonly operator: string
    readonly values?: readonly string[]
  }[]
}

/**
 * A resource filter of `match`/`exclude`: `resources` (kinds, names, namespaces, operations, annotations, label and
 * namespace selectors) and the request's user (`subjects`, `roles`, `clusterRoles`, which countersign does not
 * evaluate; see docs/policy.md for which way that errs).
 *
 * Exported from `countersign/policy`.
 */
export interface KyvernoResourceFilter {
  readonly kinds?: readonly string[]
  readonly names?: readonly string[]
  readonly namespaces?: readonly string[]
  readonly operations?: readonly string[]
  readonly annotations?: Readonly<Record<string, string>>
  readonly selector?: KyvernoLabelSelector
  readonly namespaceSelector?: KyvernoLabelSelector
  readonly subjects?: readonly unknown[]
  readonly roles?: readonly string[]
  readonly clusterRoles?: readonly string[]
}

/**
 * `match` or `exclude`: `any` (one filter suffices) or `all` (every filter).
 *
 * Exported from `countersign/policy`.
 */
export interface KyvernoMatch {
  readonly any?: readonly KyvernoResourceFilter[]
  readonly all?: readonly KyvernoResourceFilter[]
}

/**
 * A rule with image verification.
 *
 * Exported from `countersign/policy`.
 */
export interface KyvernoRule {
  readonly name: string
  readonly match?: KyvernoMatch
  readonly exclude?: KyvernoMatch
  readonly verifyImages: readonly KyvernoImageVerification[]
}

/**
 * A parsed Kyverno `ClusterPolicy` or `Policy` (its `verifyImages` rules; other rule types are ignored with a
 * warning).
 *
 * Exported from `countersign/policy`.
 */
export interface KyvernoPolicy {
  readonly kind: 'ClusterPolicy' | 'Policy'
  readonly apiVersion: string
  /** `metadata.name`. */
  readonly name: string
  /** `metadata.namespace` of a `Policy` (it only applies to resources in that namespace). */
  readonly namespace?: string
  /** `spec.validationFailureAction`, normalised; default `Audit`, as Kyverno. */
  readonly validationFailureAction: 'Enforce' | 'Audit'
  /** `spec.validationFailureActionOverrides` with `namespaces` (wildcards); the first that matches wins. */
  readonly validationFailureActionOverrides?: readonly {
    readonly action: 'Enforce' | 'Audit'
    readonly namespaces: readonly string[]
  }[]
  /**
   * `metadata.annotations["pod-policies.kyverno.io/autogen-controllers"]`: which pod controllers a rule on Pods
   * also covers (`none`, or a comma list; absent: Kyverno's default set).
   */
  readonly autogenControllers?: string
  readonly rules: readonly KyvernoRule[]
}
