/** in-toto Statements: build them as cosign v3 serialises them, parse v1 and v0.1. @module */
import { CountersignError } from '../errors.js'
import { clipText, MAX_QUOTED_LENGTH, quoteClipped } from '../internal/bounded-text.js'
import { fromUtf8, utf8 } from '../internal/bytes.js'
import { type GoJSONValue, goMarshal, goObject } from '../internal/go-json.js'
import { isJSONObject } from '../internal/json.js'
import { assertJSONShape, assertJSONText, MAX_FREE_FORM_JSON_DEPTH } from '../internal/json-shape.js'

/** Largest statement read: the registry client's blob limit (docs/formats.md §Input limits). */
const MAX_STATEMENT_BYTES = 128 * 1024 * 1024
// The predicate is free-form, hence the larger depth, and an SBOM predicate holds millions of objects.
const LIMITS = {
  code: 'ERR_INVALID_INPUT',
  what: 'in-toto statement',
  maxDepth: MAX_FREE_FORM_JSON_DEPTH,
  maxNodes: Number.POSITIVE_INFINITY,
} as const

/** `_type` of in-toto Statement v1. Exported from `countersign/attestation`. */
export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1'
/** `_type` of the older in-toto Statement v0.1 (cosign v2 attestations). Exported from `countersign/attestation`. */
export const IN_TOTO_STATEMENT_V01 = 'https://in-toto.io/Statement/v0.1'
/** predicateType of cosign v3 image signatures. Exported from `countersign/attestation`. */
export const COSIGN_SIGN_PREDICATE_TYPE = 'https://sigstore.dev/cosign/sign/v1'

/**
 * An in-toto ResourceDescriptor (the subject of a statement).
 *
 * Exported from `countersign/attestation`.
 */
export interface ResourceDescriptor {
  readonly name?: string
  readonly uri?: string
  readonly digest?: Readonly<Record<string, string>>
  readonly annotations?: Readonly<Record<string, GoJSONValue>>
}

/**
 * A parsed in-toto Statement.
 *
 * Exported from `countersign/attestation`.
 */
export interface Statement {
  readonly _type: string
  readonly subject: readonly ResourceDescriptor[]
  readonly predicateType: string
  readonly predicate: Readonly<Record<string, unknown>>
}

/**
 * Options for {@link createStatement}.
 *
 * Exported from `countersign/attestation`.
 */
export interface CreateStatementOptions {
  /**
   * The `_type`; default {@link IN_TOTO_STATEMENT_V1}. `cosign attest` (v2 and v3 alike) still writes
   * {@link IN_TOTO_STATEMENT_V01}.
   */
  readonly type?: string
}

/**
 * Serialise a Statement v1 the way cosign v3 does (protojson of the in-toto proto): fields in declaration order
 * `_type, subject, predicateType, predicate`; ResourceDescriptor `name, uri, digest, …, annotations`; map and
 * Struct keys sorted; no HTML escaping. cosign's image signatures use `predicate: {}` and always carry
 * `annotations` (`{}` when there are none).
 *
 * @example
 * ```ts
 * import { createStatement, COSIGN_SIGN_PREDICATE_TYPE } from 'countersign/attestation'
 * const bytes = createStatement([{ digest: { sha256: hex }, annotations: {} }], COSIGN_SIGN_PREDICATE_TYPE, {})
 * ```
 *
 * Exported from `countersign/attestation`.
 */
export function createStatement(
  subject: readonly ResourceDescriptor[],
  predicateType: string,
  predicate: Readonly<Record<string, GoJSONValue>>,
  options?: CreateStatementOptions,
): Uint8Array {
  const subjects = subject.map((s) =>
    goObject([
      ['name', s.name || undefined],
      ['uri', s.uri || undefined],
      ['digest', s.digest],
      ['annotations', s.annotations],
    ]),
  )
  return utf8(
    goMarshal(
      goObject([
        ['_type', options?.type ?? IN_TOTO_STATEMENT_V1],
        ['subject', subjects],
        ['predicateType', predicateType],
        ['predicate', predicate],
      ]),
      { escapeHTML: false },
    ),
  )
}

/**
 * Parse a Statement (v1 or v0.1) from its exact bytes.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT for non-JSON, an unknown `_type`, or ill-typed fields.
 * @example
 * ```ts
 * import { parseStatement } from 'countersign/attestation'
 * const st = parseStatement(envelope.payload)
 * ```
 *
 * Exported from `countersign/attestation`.
 */
export function parseStatement(bytes: Uint8Array): Statement {
  assertJSONText(bytes, { ...LIMITS, maxBytes: MAX_STATEMENT_BYTES })
  let doc: unknown
  try {
    doc = JSON.parse(fromUtf8(bytes, 'in-toto statement'))
  } catch (cause) {
    throw new CountersignError('ERR_INVALID_INPUT', 'in-toto statement is not valid JSON', { cause })
  }
  assertJSONShape(doc, LIMITS)
  const d = doc as Record<string, unknown>
  if (typeof d !== 'object' || d === null || Array.isArray(d)) {
    throw new CountersignError('ERR_INVALID_INPUT', 'in-toto statement is not a JSON object')
  }
  if (d._type !== IN_TOTO_STATEMENT_V1 && d._type !== IN_TOTO_STATEMENT_V01) {
    const shown = typeof d._type === 'string' ? clipText(d._type, MAX_QUOTED_LENGTH) : quoteClipped(d._type)
    throw new CountersignError('ERR_INVALID_INPUT', `unknown in-toto statement type: ${shown}`)
  }
  if (typeof d.predicateType !== 'string' || !Array.isArray(d.subject)) {
    throw new CountersignError('ERR_INVALID_INPUT', 'in-toto statement needs predicateType and subject')
  }
  const subject = d.subject.map((s): ResourceDescriptor => {
    if (typeof s !== 'object' || s === null)
      throw new CountersignError('ERR_INVALID_INPUT', 'invalid statement subject')
    const r = s as Record<string, unknown>
    const digest = isStringMap(r.digest) ? r.digest : undefined
    const annotations = isJSONObject(r.annotations) ? (r.annotations as Record<string, GoJSONValue>) : undefined
    return {
      ...(typeof r.name === 'string' ? { name: r.name } : {}),
      ...(typeof r.uri === 'string' ? { uri: r.uri } : {}),
      ...(digest ? { digest } : {}),
      ...(annotations ? { annotations } : {}),
    }
  })
  return {
    _type: d._type,
    subject,
    predicateType: d.predicateType,
    predicate: isJSONObject(d.predicate) ? d.predicate : {},
  }
}

/**
 * True when some subject has `digest[alg] === hex` for `sha256:<hex>`-style `digest` (cosign's
 * IntotoSubjectClaimVerifier).
 *
 * @example
 * ```ts
 * import { statementHasSubjectDigest } from 'countersign/attestation'
 * statementHasSubjectDigest(st, 'sha256:abc…')
 * ```
 *
 * Exported from `countersign/attestation`.
 */
export function statementHasSubjectDigest(statement: Statement, digest: string): boolean {
  const i = digest.indexOf(':')
  const alg = digest.slice(0, i)
  const hex = digest.slice(i + 1)
  return statement.subject.some((s) => s.digest?.[alg] === hex)
}

function isStringMap(v: unknown): v is Record<string, string> {
  return isJSONObject(v) && Object.values(v).every((x) => typeof x === 'string')
}
