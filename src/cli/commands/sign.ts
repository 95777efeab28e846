/** `sign`: sign images by key or keyless, as a bundle referrer (cosign v3) or in the legacy `.sig` format. @module */
import { writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { CountersignError } from '../../errors.js'
import { type SignImageResult, signImage } from '../../image/sign.js'
import { toBase64 } from '../../internal/bytes.js'
import { referenceToString } from '../../oci/reference.js'
import { ciAnnotations } from '../../signature/ci-annotations.js'
import type { FlagSpec } from '../args.js'
import { ANNOTATIONS_FLAG, annotationsFromFlags } from '../flags/annotations.js'
import {
  creationTimeFromFlags,
  legacyFormatRequested,
  NEW_BUNDLE_FORMAT_FLAG,
  RECORD_CREATION_TIMESTAMP_FLAG,
} from '../flags/attachment.js'
import { SIGNING_KEY_FLAG } from '../flags/key.js'
import { REPORT_OUTPUT_FLAG, reportFormat, writeReport } from '../flags/output.js'
import { LOCAL_IMAGE_FLAG, REGISTRY_FLAGS, reportRegistryRequests } from '../flags/registry.js'
import { reportWitnessed, SIGNING_FLAGS, signingSetupFromFlags } from '../flags/signing.js'
import { openImage, signatureRepository } from '../images.js'
import { witnessReport } from '../report.js'
import type { Command } from './command.js'

const flags: readonly FlagSpec[] = [
  SIGNING_KEY_FLAG,
  ANNOTATIONS_FLAG,
  {
    name: 'ci-annotations',
    type: 'bool',
    help: 'also sign the CI provenance (GitHub Actions / GitLab CI: repo, sha, ref, workflow, run); -a wins on conflicts',
  },
  NEW_BUNDLE_FORMAT_FLAG,
  { name: 'recursive', short: 'r', type: 'bool', help: 'if IMAGE is an index, also sign every manifest in it' },
  {
    name: 'sign-container-identity',
    type: 'string',
    help: 'docker-reference to put in the payload instead of the image',
  },
  RECORD_CREATION_TIMESTAMP_FLAG,
  { name: 'output-signature', type: 'string', help: 'write the base64 signature to this file' },
  { name: 'output-payload', type: 'string', help: 'write the signed payload to this file' },
  REPORT_OUTPUT_FLAG,
  LOCAL_IMAGE_FLAG,
  ...SIGNING_FLAGS,
  ...REGISTRY_FLAGS,
]

/** `sign`. */
export const signCommand: Command = {
  name: 'sign',
  usage: 'countersign sign [--key cosign.key] [-a key=value]... IMAGE...',
  description:
    'Sign the supplied container images. IMAGE is a registry reference or oci:DIR[:tag|@digest] for an OCI layout.\n\n' +
    '-o json prints one array, an element per signed manifest (with --recursive, every manifest below an index):\n' +
    '  [{"image", "digest", "format": "bundle"|"legacy", "reference", "pushed", "tlogEntries", "timestamps"}]',
  flags,
  async run({ flags: f, args }, io) {
    if (args.length === 0) throw new CountersignError('ERR_INVALID_INPUT', 'at least one image is required')
    const format = reportFormat(f)
    const report: SignReport[] = []
    const annotations = {
      ...(f['ci-annotations'] === true ? ciAnnotations(io.env) : {}),
      ...annotationsFromFlags(f),
    }
    const legacy = legacyFormatRequested(f)
    const { signer, transparency } = await signingSetupFromFlags(f, io, { legacy })
    const signatures: string[] = []
    const payloads: string[] = []
    for (const image of args) {
      const target = openImage(image, f, io)
      const result = await signImage(target.ref, signer, {
        store: target.store,
        format: legacy ? 'legacy' : 'bundle',
        ...transparency,
        ...(f.recursive === true ? { recursive: true } : {}),
        annotations,
        ...(typeof f['sign-container-identity'] === 'string' ? { identity: f['sign-container-identity'] } : {}),
        ...creationTimeFromFlags(f),
        ...(io.env.COSIGN_DOCKER_MEDIA_TYPES === '1' ? { dockerMediaTypes: true } : {}),
        ...(signatureRepository(io) ? { signatureRepository: signatureRepository(io)! } : {}),
        onWarning: (m) => io.stderr.write(`WARNING: ${m}\n`),
      })
      io.stderr.write(
        result.deduplicated
          ? `Signature already present at ${referenceToString(result.signatureReference)}, nothing pushed\n`
          : `Pushing signature to: ${referenceToString(result.signatureReference)}\n`,
      )
      reportWitnessed(result.witnessed, io)
      reportRegistryRequests(target, f, io)
      report.push(...signReport(image, result))
      signatures.push(toBase64(result.signature))
      payloads.push(new TextDecoder().decode(result.payload))
    }
    if (typeof f['output-signature'] === 'string')
      await writeFile(resolve(io.cwd, f['output-signature']), signatures.join('\n'))
    if (typeof f['output-payload'] === 'string')
      await writeFile(resolve(io.cwd, f['output-payload']), payloads.join('\n'))
    if (format === 'json') writeReport(io.stdout, report)
    return 0
  },
}

/** One element of `sign -o json` (ours: cosign has no JSON output for sign). */
interface SignReport {
  readonly image: string
  readonly digest: string
  readonly format: SignImageResult['format']
  /** Where the signature is: the referrer manifest by digest (bundle) or the `.sig` tag (legacy). */
  readonly reference: string
  /** False when an equal signature was already there (legacy form), so nothing was written. */
  readonly pushed: boolean
  readonly tlogEntries: ReturnType<typeof witnessReport>['tlogEntries']
  readonly timestamps: ReturnType<typeof witnessReport>['timestamps']
}

/** The report of one signed image, then of every manifest below it (`--recursive`; `children` is already flat). */
function signReport(image: string, result: SignImageResult): SignReport[] {
  return [result, ...(result.children ?? [])].map((r) => ({
    image,
    digest: r.digest,
    format: r.format,
    reference: referenceToString(r.signatureReference),
    pushed: !r.deduplicated,
    ...witnessReport(r.witnessed),
  }))
}
