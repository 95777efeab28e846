/**
 * SLSA provenance predicates (v1 and v0.2) as `cosign attest --type slsaprovenance1|slsaprovenance02` writes them:
 * the file is read into the in-toto attestation proto (unknown fields dropped, proto3 defaults omitted, timestamps
 * in UTC) and written back (cosign `pkg/cosign/attestation`, in-toto/attestation `predicates/provenance`).
 * @module
 */
import { CountersignError } from '../errors.js'
import { isJSONObject } from '../internal/json.js'
import { normalizeProtoMessage, type ProtoSchema } from './proto-json.js'

/** predicateType of SLSA provenance v1. Exported from `countersign/attestation`. */
export const SLSA_PROVENANCE_V1_PREDICATE_TYPE = 'https://slsa.dev/provenance/v1'
/** predicateType of SLSA provenance v0.2. Exported from `countersign/attestation`. */
export const SLSA_PROVENANCE_V02_PREDICATE_TYPE = 'https://slsa.dev/provenance/v0.2'

/** in-toto `ResourceDescriptor` (attestation v1). */
const RESOURCE_DESCRIPTOR: ProtoSchema = [
  { proto: 'name', kind: 'string' },
  { proto: 'uri', kind: 'string' },
  { proto: 'digest', kind: 'stringMap' },
  { proto: 'content', kind: 'bytes' },
  { proto: 'download_location', kind: 'string' },
  { proto: 'media_type', kind: 'string' },
  { proto: 'annotations', kind: 'struct' },
]

const PROVENANCE_V1: ProtoSchema = [
  {
    proto: 'build_definition',
    kind: {
      message: [
        { proto: 'build_type', kind: 'string' },
        { proto: 'external_parameters', kind: 'struct' },
        { proto: 'internal_parameters', kind: 'struct' },
        { proto: 'resolved_dependencies', kind: { repeated: RESOURCE_DESCRIPTOR } },
      ],
    },
  },
  {
    proto: 'run_details',
    kind: {
      message: [
        {
          proto: 'builder',
          kind: {
            message: [
              { proto: 'id', kind: 'string' },
              { proto: 'version', kind: 'stringMap' },
              { proto: 'builder_dependencies', kind: { repeated: RESOURCE_DESCRIPTOR } },
            ],
          },
        },
        {
          proto: 'metadata',
          kind: {
            message: [
              { proto: 'invocation_id', kind: 'string' },
              { proto: 'started_on', kind: 'timestamp' },
              { proto: 'finished_on', kind: 'timestamp' },
            ],
          },
        },
        { proto: 'byproducts', kind: { repeated: RESOURCE_DESCRIPTOR } },
      ],
    },
  },
]

const DIGEST_SET: ProtoSchema = [
  { proto: 'uri', kind: 'string' },
  { proto: 'digest', kind: 'stringMap' },
]

const PROVENANCE_V02: ProtoSchema = [
  { proto: 'builder', kind: { message: [{ proto: 'id', kind: 'string' }] } },
  { proto: 'build_type', kind: 'string' },
  {
    proto: 'invocation',
    kind: {
      message: [
        { proto: 'config_source', kind: { message: [...DIGEST_SET, { proto: 'entry_point', kind: 'string' }] } },
        { proto: 'parameters', kind: 'struct' },
        { proto: 'environment', kind: 'struct' },
      ],
    },
  },
  { proto: 'build_config', kind: 'struct' },
  {
    proto: 'metadata',
    kind: {
      message: [
        { proto: 'build_invocation_id', kind: 'string' },
        { proto: 'build_started_on', kind: 'timestamp' },
        { proto: 'build_finished_on', kind: 'timestamp' },
        {
          proto: 'completeness',
          kind: {
            message: [
              { proto: 'parameters', kind: 'bool' },
              { proto: 'environment', kind: 'bool' },
              { proto: 'materials', kind: 'bool' },
            ],
          },
        },
        { proto: 'reproducible', kind: 'bool' },
      ],
    },
  },
  { proto: 'materials', kind: { repeated: DIGEST_SET } },
]

/**
 * Normalise a SLSA provenance v1 predicate as cosign does for `--type slsaprovenance1`: `runDetails.metadata.
 * invocationID` is renamed `invocationId` first, then the document is read as the in-toto provenance v1 proto and
 * written back, so unknown fields disappear, empty strings/lists/maps are omitted and timestamps become UTC
 * (`2024-01-02T03:04:05Z`, with 0, 3, 6 or 9 fractional digits).
 *
 * @throws {CountersignError} ERR_INVALID_INPUT when the document is not an object or a field has the wrong type.
 * @example
 * ```ts
 * import { normalizeSLSAProvenanceV1 } from 'countersign/attestation'
 * normalizeSLSAProvenanceV1({ buildDefinition: { buildType: 'https://example.com/t' }, extra: 1 })
 * // { buildDefinition: { buildType: 'https://example.com/t' } }
 * ```
 *
 * Exported from `countersign/attestation`.
 */
export function normalizeSLSAProvenanceV1(predicate: unknown): Record<string, unknown> {
  if (!isJSONObject(predicate)) {
    throw new CountersignError('ERR_INVALID_INPUT', 'provenance predicate: expected a JSON object')
  }
  let doc = predicate
  const run = doc.runDetails
  const metadata = isJSONObject(run) ? run.metadata : undefined
  if (isJSONObject(run) && isJSONObject(metadata) && Object.hasOwn(metadata, 'invocationID')) {
    const { invocationID, ...rest } = metadata
    doc = { ...doc, runDetails: { ...run, metadata: { ...rest, invocationId: invocationID } } }
  }
  return normalizeProtoMessage(doc, PROVENANCE_V1, 'provenance predicate')
}

/**
 * Normalise a SLSA provenance v0.2 predicate as cosign does for `--type slsaprovenance|slsaprovenance02`: read as
 * the in-toto provenance v0.2 proto and written back. Note that the proto's JSON name for
 * `metadata.buildInvocationID` is `buildInvocationId`, so cosign drops the spelling the SLSA v0.2 spec uses; this
 * does the same.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT when the document is not an object or a field has the wrong type.
 * @example
 * ```ts
 * import { normalizeSLSAProvenanceV02 } from 'countersign/attestation'
 * normalizeSLSAProvenanceV02({ builder: { id: 'https://example.com/b' }, buildType: 'x' })
 * ```
 *
 * Exported from `countersign/attestation`.
 */
export function normalizeSLSAProvenanceV02(predicate: unknown): Record<string, unknown> {
  return normalizeProtoMessage(predicate, PROVENANCE_V02, 'provenance predicate')
}

/**
 * An in-toto ResourceDescriptor as SLSA provenance v1 uses it (`content` is base64).
 *
 * Exported from `countersign/attestation`.
 */
export interface SLSAResourceDescriptor {
  readonly name?: string
  readonly uri?: string
  readonly digest?: Readonly<Record<string, string>>
  readonly content?: string
  readonly downloadLocation?: string
  readonly mediaType?: string
  readonly annotations?: Readonly<Record<string, unknown>>
}

/**
 * SLSA provenance v1 (https://slsa.dev/spec/v1.0/provenance), as its JSON. Timestamps are RFC 3339 strings or
 * `Date`s.
 *
 * Exported from `countersign/attestation`.
 */
export interface SLSAProvenanceV1 {
  readonly buildDefinition: {
    readonly buildType: string
    readonly externalParameters: Readonly<Record<string, unknown>>
    readonly internalParameters?: Readonly<Record<string, unknown>>
    readonly resolvedDependencies?: readonly SLSAResourceDescriptor[]
  }
  readonly runDetails: {
    readonly builder: {
      readonly id: string
      readonly version?: Readonly<Record<string, string>>
      readonly builderDependencies?: readonly SLSAResourceDescriptor[]
    }
    readonly metadata?: {
      readonly invocationId?: string
      readonly startedOn?: string | Date
      readonly finishedOn?: string | Date
    }
    readonly byproducts?: readonly SLSAResourceDescriptor[]
  }
}

/**
 * Build a SLSA provenance v1 predicate, in the form cosign writes it (see {@link normalizeSLSAProvenanceV1}). Pass
 * the result as `predicate` to `attestImage` with `predicateType: 'slsaprovenance1'`.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT for a malformed field (e.g. an invalid timestamp).
 * @example
 * ```ts
 * import { createSLSAProvenanceV1 } from 'countersign/attestation'
 * const predicate = createSLSAProvenanceV1({
 *   buildDefinition: { buildType: 'https://example.com/build/v1', externalParameters: { ref: 'main' } },
 *   runDetails: { builder: { id: 'https://example.com/builder' }, metadata: { startedOn: new Date() } },
 * })
 * ```
 *
 * Exported from `countersign/attestation`.
 */
export function createSLSAProvenanceV1(provenance: SLSAProvenanceV1): Record<string, unknown> {
  const iso = (t: string | Date | undefined) => (t instanceof Date ? t.toISOString() : t)
  const md = provenance.runDetails.metadata
  const doc = md
    ? {
        ...provenance,
        runDetails: {
          ...provenance.runDetails,
          metadata: { ...md, startedOn: iso(md.startedOn), finishedOn: iso(md.finishedOn) },
        },
      }
    : provenance
  // Round-trip through JSON so `undefined` members disappear, as they would from a file.
  return normalizeSLSAProvenanceV1(JSON.parse(JSON.stringify(doc)))
}
