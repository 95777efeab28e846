/** `attest`: attest images by key or keyless, as `cosign attest`. @module */
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { resolvePredicateType } from '../../attestation/predicates.js'
import { CountersignError } from '../../errors.js'
import { attestImage } from '../../image/attest.js'
import { referenceToString } from '../../oci/reference.js'
import type { FlagSpec } from '../args.js'
import { type CliIO, openImage, REGISTRY_FLAGS, signatureRepository } from '../context.js'
import { reportWitnessed, SIGNING_FLAGS, signingSetupFromFlags } from '../signing-flags.js'
import type { Command } from './command.js'

const flags: readonly FlagSpec[] = [
  { name: 'key', type: 'string', help: 'path to the private key file' },
  { name: 'predicate', type: 'string', help: "path to the predicate file ('-' reads stdin)" },
  {
    name: 'type',
    type: 'string',
    default: 'custom',
    help: 'predicate type (slsaprovenance|slsaprovenance02|slsaprovenance1|link|spdx|spdxjson|cyclonedx|vuln|openvex|custom) or a URI',
  },
  { name: 'replace', type: 'bool', help: 'legacy format: replace attestations of the same predicate type' },
  {
    name: 'new-bundle-format',
    type: 'bool',
    default: true,
    help: 'store a Sigstore bundle as an OCI 1.1 referrer (cosign v3 default; false: legacy .att tag)',
  },
  {
    name: 'record-creation-timestamp',
    type: 'bool',
    help: "legacy format: set the attestation image's creation time to now",
  },
  { name: 'local-image', type: 'bool', help: 'IMAGE is a path to an OCI layout on disk' },
  ...SIGNING_FLAGS,
  ...REGISTRY_FLAGS,
]

/** `attest`. */
export const attestCommand: Command = {
  name: 'attest',
  usage: 'countersign attest [--key cosign.key] --predicate FILE [--type TYPE] IMAGE...',
  description:
    'Attest the supplied container images with an in-toto predicate. IMAGE is a registry reference or oci:DIR[:tag|@digest].',
  flags,
  async run({ flags: f, args }, io) {
    if (args.length === 0) throw new CountersignError('ERR_INVALID_INPUT', 'at least one image is required')
    if (typeof f.predicate !== 'string' || f.predicate === '') {
      throw new CountersignError('ERR_INVALID_INPUT', 'predicate cannot be empty')
    }
    const type = String(f.type)
    resolvePredicateType(type)
    const predicate = await readPredicate(f.predicate, io)
    const legacy = f['new-bundle-format'] === false
    const { signer, transparency } = await signingSetupFromFlags(f, io, { legacy })
    const sigRepo = signatureRepository(io)
    for (const image of args) {
      const target = openImage(image, f, io)
      const result = await attestImage(target.ref, signer, {
        store: target.store,
        predicateType: type,
        predicate,
        format: legacy ? 'legacy' : 'bundle',
        ...transparency,
        replace: f.replace === true,
        ...(f['record-creation-timestamp'] === true ? { created: new Date() } : {}),
        ...(io.env.COSIGN_DOCKER_MEDIA_TYPES === '1' ? { dockerMediaTypes: true } : {}),
        ...(sigRepo ? { signatureRepository: sigRepo } : {}),
        onWarning: (m) => io.stderr.write(`WARNING: ${m}\n`),
      })
      io.stderr.write(`Pushing attestation to: ${referenceToString(result.attestationReference)}\n`)
      reportWitnessed(result.witnessed, io)
      if (f.verbose === true && !target.layout) io.stderr.write(`${target.requests()} registry requests\n`)
    }
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
