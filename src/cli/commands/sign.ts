/** `sign`: sign images by key or keyless, as a bundle referrer (cosign v3) or in the legacy `.sig` format. @module */
import { writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { CountersignError } from '../../errors.js'
import { signImage } from '../../image/sign.js'
import { toBase64 } from '../../internal/bytes.js'
import { referenceToString } from '../../oci/reference.js'
import { ciAnnotations } from '../../signature/ci-annotations.js'
import type { FlagSpec } from '../args.js'
import { openImage, signatureRepository } from '../context.js'
import { ANNOTATIONS_FLAG, annotationsFromFlags } from '../flags/annotations.js'
import {
  creationTimeFromFlags,
  legacyFormatRequested,
  NEW_BUNDLE_FORMAT_FLAG,
  RECORD_CREATION_TIMESTAMP_FLAG,
} from '../flags/attachment.js'
import { SIGNING_KEY_FLAG } from '../flags/key.js'
import { LOCAL_IMAGE_FLAG, REGISTRY_FLAGS, reportRegistryRequests } from '../flags/registry.js'
import { reportWitnessed, SIGNING_FLAGS, signingSetupFromFlags } from '../flags/signing.js'
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
  LOCAL_IMAGE_FLAG,
  ...SIGNING_FLAGS,
  ...REGISTRY_FLAGS,
]

/** `sign`. */
export const signCommand: Command = {
  name: 'sign',
  usage: 'countersign sign [--key cosign.key] [-a key=value]... IMAGE...',
  description:
    'Sign the supplied container images. IMAGE is a registry reference or oci:DIR[:tag|@digest] for an OCI layout.',
  flags,
  async run({ flags: f, args }, io) {
    if (args.length === 0) throw new CountersignError('ERR_INVALID_INPUT', 'at least one image is required')
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
      signatures.push(toBase64(result.signature))
      payloads.push(new TextDecoder().decode(result.payload))
    }
    if (typeof f['output-signature'] === 'string')
      await writeFile(resolve(io.cwd, f['output-signature']), signatures.join('\n'))
    if (typeof f['output-payload'] === 'string')
      await writeFile(resolve(io.cwd, f['output-payload']), payloads.join('\n'))
    return 0
  },
}
