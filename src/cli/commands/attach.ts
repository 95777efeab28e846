/** `attach sbom|signature|attestation`: attach artifacts made elsewhere to an image, as cosign does. @module */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { basename, resolve } from 'node:path'
import { attachSBOM, cosignArtifactType, sbomMediaType } from '../../artifacts/attach-sbom.js'
import { attachAttestations, attachBundle, attachSignature } from '../../artifacts/attach-signature.js'
import { maxAttachmentSize } from '../../artifacts/size-limit.js'
import { CountersignError } from '../../errors.js'
import { openFileContent } from '../../node/file-content.js'
import { SIGSTORE_BUNDLE_MEDIA_TYPE_PREFIX } from '../../oci/media-types.js'
import { referenceToString } from '../../oci/reference.js'
import { type FlagSpec, stringFlag } from '../args.js'
import type { CliIO } from '../context.js'
import { REGISTRY_REFERRERS_MODE_FLAG, referrersMode } from '../flags/attachment.js'
import { REPORT_OUTPUT_FLAG, reportFormat, writeReport } from '../flags/output.js'
import { REGISTRY_FLAGS } from '../flags/registry.js'
import { openImage, signatureRepository } from '../images.js'
import { createProgressBar } from '../progress.js'
import type { Command } from './command.js'

/**
 * The deprecation notice for SBOM attachments: cosign's (`options.SBOMAttachmentDeprecation`) in our words, its first
 * words kept for scripts that look for them.
 */
export const SBOM_DEPRECATION =
  'WARNING: SBOM attachments are deprecated (by cosign since 2024-02-22, see ' +
  'https://github.com/sigstore/cosign/issues/2755) and a countersign release will remove them. ' +
  'Instead, please use SBOM attestations.'

const flags: readonly FlagSpec[] = [
  { name: 'sbom', type: 'string', help: 'sbom: path to the SBOM, or - for stdin' },
  { name: 'type', type: 'string', default: 'spdx', help: 'sbom: type of SBOM (spdx|cyclonedx|syft)' },
  { name: 'input-format', type: 'string', help: 'sbom: SBOM input format (json|xml|text)' },
  REGISTRY_REFERRERS_MODE_FLAG,
  { name: 'signature', type: 'string', help: 'signature: base64 signature file, - for stdin, or the value itself' },
  { name: 'payload', type: 'string', help: 'signature: path to the signed payload, or to a Sigstore bundle' },
  { name: 'bundle', type: 'string', help: 'signature: path to a Sigstore bundle (alias for --payload)' },
  { name: 'certificate', type: 'string', help: 'signature: PEM signing certificate to include' },
  { name: 'certificate-chain', type: 'string', help: 'signature: PEM certificate chain (parent first) to include' },
  { name: 'tsr', type: 'string', help: 'signature: RFC 3161 timestamp response file' },
  { name: 'rekor-response', type: 'string', help: 'signature: file holding the Rekor bundle (rekorBundle)' },
  {
    name: 'attestation',
    type: 'strings',
    noSplit: true,
    help: 'attestation: path to DSSE envelope(s) or a Sigstore bundle; repeat for several',
  },
  REPORT_OUTPUT_FLAG,
  ...REGISTRY_FLAGS,
]

/**
 * Read `path` (relative to the CLI's cwd), or all of stdin for `-`. The result is a view of the Buffer read, not a
 * copy: it may not start at offset 0 of its ArrayBuffer (small Buffers share Node's pool), so callers read it through
 * the view and never through `.buffer` alone, and never write into it.
 */
export async function readInput(path: string, io: CliIO): Promise<Uint8Array> {
  let b: Buffer
  if (path === '-') {
    const chunks: Uint8Array[] = []
    for await (const c of io.stdin as AsyncIterable<Uint8Array | string>) {
      chunks.push(typeof c === 'string' ? new TextEncoder().encode(c) : c)
    }
    b = Buffer.concat(chunks)
  } else {
    b = await readFile(resolve(io.cwd, path))
  }
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}

/** `COSIGN_MAX_ATTACHMENT_SIZE`, with a warning when it does not parse (cosign ignores it silently). */
export function attachmentLimit(io: CliIO): number {
  return maxAttachmentSize(io.env.COSIGN_MAX_ATTACHMENT_SIZE, (m) => io.stderr.write(`WARNING: ${m}\n`))
}

/** Looks like a Sigstore bundle (what cosign's `bundle.LoadJSONFromPath` would accept). */
function isBundleJSON(bytes: Uint8Array): boolean {
  try {
    const doc = JSON.parse(new TextDecoder().decode(bytes)) as { mediaType?: unknown }
    return typeof doc.mediaType === 'string' && doc.mediaType.startsWith(SIGSTORE_BUNDLE_MEDIA_TYPE_PREFIX)
  } catch {
    return false
  }
}

/** `attach`: one verb whose first argument picks `sbom`, `signature` or `attestation`. */
export const attachCommand: Command = {
  name: 'attach',
  usage:
    'countersign attach sbom --sbom FILE [--type spdx|cyclonedx|syft] IMAGE\n' +
    '  countersign attach signature --signature SIG [--payload FILE | --bundle FILE] IMAGE\n' +
    '  countersign attach attestation --attestation FILE... IMAGE',
  subcommands: ['sbom', 'signature', 'attestation'],
  description:
    'Provides utilities for attaching artifacts to other artifacts in a registry\n\n' +
    '-o json prints one object (type "bundle" when attach signature was given a Sigstore bundle):\n' +
    '  {"image", "type": "sbom"|"signature"|"bundle"|"attestation", "attached": [{"reference", "file"?, "mediaType"?}]}',
  flags,
  async run({ flags: f, args }, io) {
    const [sub, image, ...extra] = args
    const format = reportFormat(f)
    // Ours (cosign's attach prints no JSON): what was attached, and where.
    const report = (type: string, attached: readonly Record<string, string>[]) => {
      if (format === 'json') writeReport(io.stdout, { image, type, attached })
      return 0
    }
    if (sub !== 'sbom' && sub !== 'signature' && sub !== 'attestation') {
      throw new CountersignError(
        'ERR_INVALID_INPUT',
        `attach: unknown subcommand ${JSON.stringify(sub ?? '')}; want sbom, signature or attestation`,
      )
    }
    if (image === undefined || extra.length > 0) {
      throw new CountersignError('ERR_INVALID_INPUT', `attach ${sub}: exactly one image is required`)
    }
    const target = openImage(image, f, io)
    const sigRepo = signatureRepository(io)
    const maxSize = attachmentLimit(io)
    const common = {
      store: target.store,
      maxSize,
      ...(sigRepo ? { signatureRepository: sigRepo } : {}),
      ...(io.env.COSIGN_DOCKER_MEDIA_TYPES === '1' ? { dockerMediaTypes: true } : {}),
      onWarning: (m: string) => io.stderr.write(`WARNING: ${m}\n`),
    }

    if (sub === 'sbom') {
      io.stderr.write(`${SBOM_DEPRECATION}\n`)
      const path = stringFlag(f, 'sbom')
      if (path === undefined) throw new CountersignError('ERR_INVALID_INPUT', 'attach sbom: --sbom is required')
      const mode = referrersMode(f, io)
      const mediaType = sbomMediaType(String(f.type), {
        ...(stringFlag(f, 'input-format') ? { inputFormat: stringFlag(f, 'input-format')! } : {}),
        fileName: basename(path),
      })
      io.stderr.write(
        `WARNING: Attaching SBOMs this way does not sign them. To sign them, use 'countersign attest --predicate ${path} --key <key path>'.\n`,
      )
      // A file is streamed from disk (hashed, then uploaded chunk by chunk), never held whole; stdin is read whole.
      const sbom = path === '-' ? await readInput(path, io) : await openFileContent(resolve(io.cwd, path))
      const bar = createProgressBar(io.stderr, 'Uploading SBOM')
      let result: Awaited<ReturnType<typeof attachSBOM>>
      try {
        result = await attachSBOM(target.ref, sbom, {
          ...common,
          mediaType,
          mode: mode === 'oci-1-1' ? 'referrer' : 'legacy',
          onProgress: bar.update,
        })
      } finally {
        bar.finish()
      }
      const from = referenceToString(target.ref)
      io.stderr.write(
        mode === 'oci-1-1'
          ? `Uploading SBOM file for [${from}] to [${referenceToString(result.reference)}] with config.mediaType [${cosignArtifactType('sbom')}] layers[0].mediaType [${mediaType}].\n`
          : `Uploading SBOM file for [${from}] to [${referenceToString(result.reference)}] with mediaType [${mediaType}].\n`,
      )
      return report('sbom', [{ reference: referenceToString(result.reference), file: path, mediaType }])
    }

    if (sub === 'signature') {
      const payloadPath = stringFlag(f, 'bundle') ?? stringFlag(f, 'payload')
      const payload = payloadPath === undefined ? undefined : await readInput(payloadPath, io)
      if (payload !== undefined && isBundleJSON(payload)) {
        const r = await attachBundle(target.ref, payload, common)
        io.stderr.write(`Attached bundle to ${referenceToString(r.reference)}\n`)
        return report('bundle', [{ reference: referenceToString(r.reference), file: payloadPath! }])
      }
      const sigArg = stringFlag(f, 'signature')
      if (sigArg === undefined)
        throw new CountersignError('ERR_INVALID_INPUT', 'attach signature: --signature is required')
      // cosign reads a file (or stdin for -); a value that is no file is taken as the base64 signature itself.
      const isFile = sigArg === '-' || existsSync(resolve(io.cwd, sigArg))
      if (!isFile && !/^[A-Za-z0-9+/=_-]+$/.test(sigArg)) {
        throw new CountersignError(
          'ERR_INVALID_INPUT',
          `--signature ${sigArg}: no such file, and not a base64 signature`,
        )
      }
      const signature = isFile ? new TextDecoder().decode(await readInput(sigArg, io)) : sigArg
      const file = async (name: string) => (stringFlag(f, name) ? readInput(stringFlag(f, name)!, io) : undefined)
      const cert = await file('certificate')
      const chain = await file('certificate-chain')
      const tsr = await file('tsr')
      const rekor = await file('rekor-response')
      const r = await attachSignature(target.ref, signature, {
        ...common,
        ...(payload !== undefined ? { payload } : {}),
        ...(cert !== undefined ? { certificate: new TextDecoder().decode(cert) } : {}),
        ...(chain !== undefined ? { certificateChain: new TextDecoder().decode(chain) } : {}),
        ...(tsr !== undefined ? { rfc3161Timestamp: tsr } : {}),
        ...(rekor !== undefined ? { rekorResponse: rekor } : {}),
      })
      io.stderr.write(`Attached signature to ${referenceToString(r.reference)}\n`)
      return report('signature', [{ reference: referenceToString(r.reference) }])
    }

    const files = f.attestation as string[]
    if (files.length === 0)
      throw new CountersignError('ERR_INVALID_INPUT', 'attach attestation: --attestation is required')
    const attached: Record<string, string>[] = []
    for (const path of files) {
      io.stderr.write(`Using payload from: ${path}`)
      const r = await attachAttestations(target.ref, await readInput(path, io), common)
      io.stderr.write(`\nAttached attestation to ${referenceToString(r.reference)}\n`)
      attached.push({ reference: referenceToString(r.reference), file: path })
    }
    return report('attestation', attached)
  },
}
