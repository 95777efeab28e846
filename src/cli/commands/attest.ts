/** `attest`: attest images by key or keyless, as `cosign attest`. @module */
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { resolvePredicateType } from '../../attestation/predicates.js'
import { CountersignError } from '../../errors.js'
import { attestImage } from '../../image/attest.js'
import { referenceToString } from '../../oci/reference.js'
import { type FlagSpec, withHelp } from '../args.js'
import type { CliIO } from '../context.js'
import {
  creationTimeFromFlags,
  legacyFormatRequested,
  NEW_BUNDLE_FORMAT_FLAG,
  RECORD_CREATION_TIMESTAMP_FLAG,
} from '../flags/attachment.js'
import { PREDICATE_FLAG, PREDICATE_TYPE_FLAG } from '../flags/attestation.js'
import { SIGNING_KEY_FLAG } from '../flags/key.js'
import { REPORT_OUTPUT_FLAG, reportFormat, writeReport } from '../flags/output.js'
import { LOCAL_IMAGE_FLAG, REGISTRY_FLAGS, reportRegistryRequests } from '../flags/registry.js'
import { reportWitnessed, SIGNING_FLAGS, signingSetupFromFlags } from '../flags/signing.js'
import { openImage, signatureRepository } from '../images.js'
import { witnessReport } from '../report.js'
import type { Command } from './command.js'

const flags: readonly FlagSpec[] = [
  SIGNING_KEY_FLAG,
  withHelp(PREDICATE_FLAG, "path to the predicate file ('-' reads stdin)"),
  PREDICATE_TYPE_FLAG,
  { name: 'replace', type: 'bool', help: 'legacy format: replace attestations of the same predicate type' },
  withHelp(
    NEW_BUNDLE_FORMAT_FLAG,
    'store a Sigstore bundle as an OCI 1.1 referrer (cosign v3 default; false: legacy .att tag)',
  ),
  withHelp(RECORD_CREATION_TIMESTAMP_FLAG, "legacy format: set the attestation image's creation time to now"),
  REPORT_OUTPUT_FLAG,
  LOCAL_IMAGE_FLAG,
  ...SIGNING_FLAGS,
  ...REGISTRY_FLAGS,
]

/** `attest`. */
export const attestCommand: Command = {
  name: 'attest',
  usage: 'countersign attest [--key cosign.key] --predicate FILE [--type TYPE] IMAGE...',
  description:
    'Attest the supplied container images with an in-toto predicate. IMAGE is a registry reference or oci:DIR[:tag|@digest].\n\n' +
    '-o json prints one array, an element per image:\n' +
    '  [{"image", "digest", "format": "bundle"|"legacy", "predicateType", "reference", "tlogEntries", "timestamps"}]',
  flags,
  async run({ flags: f, args }, io) {
    if (args.length === 0) throw new CountersignError('ERR_INVALID_INPUT', 'at least one image is required')
    const format = reportFormat(f)
    if (typeof f.predicate !== 'string' || f.predicate === '') {
      throw new CountersignError('ERR_INVALID_INPUT', 'predicate cannot be empty')
    }
    const type = String(f.type)
    resolvePredicateType(type)
    const predicate = await readPredicate(f.predicate, io)
    const legacy = legacyFormatRequested(f)
    const { signer, transparency } = await signingSetupFromFlags(f, io, { legacy })
    const sigRepo = signatureRepository(io)
    const report: Record<string, unknown>[] = []
    for (const image of args) {
      const target = openImage(image, f, io)
      const result = await attestImage(target.ref, signer, {
        store: target.store,
        predicateType: type,
        predicate,
        format: legacy ? 'legacy' : 'bundle',
        ...transparency,
        replace: f.replace === true,
        ...creationTimeFromFlags(f),
        ...(io.env.COSIGN_DOCKER_MEDIA_TYPES === '1' ? { dockerMediaTypes: true } : {}),
        ...(sigRepo ? { signatureRepository: sigRepo } : {}),
        onWarning: (m) => io.stderr.write(`WARNING: ${m}\n`),
      })
      io.stderr.write(`Pushing attestation to: ${referenceToString(result.attestationReference)}\n`)
      reportWitnessed(result.witnessed, io)
      reportRegistryRequests(target, f, io)
      // Ours (cosign's attest prints no JSON): one element per image.
      report.push({
        image,
        digest: result.digest,
        format: result.format,
        predicateType: result.predicateType,
        reference: referenceToString(result.attestationReference),
        ...witnessReport(result.witnessed),
      })
    }
    if (format === 'json') writeReport(io.stdout, report)
    return 0
  },
}

/** The predicate file's bytes; `-` reads all of stdin, as cosign does. */
async function readPredicate(path: string, io: CliIO): Promise<Uint8Array> {
  if (path !== '-') return new Uint8Array(await readFile(resolve(io.cwd, path)))
  const chunks: Buffer[] = []
  for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  return new Uint8Array(Buffer.concat(chunks))
}
