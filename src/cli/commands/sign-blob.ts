/**
 * `sign-blob`: sign files by key (file or KMS) or keyless, with cosign v3's outputs (Sigstore bundle, or the older
 * bundle and signature).
 * @module
 */
import { readFile, writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { serializeLegacyBlobBundle } from '../../blob/legacy-blob-bundle.js'
import { blobSigningAlgorithm, signBlob } from '../../blob/sign-blob.js'
import { CountersignError } from '../../errors.js'
import { toBase64, utf8 } from '../../internal/bytes.js'
import { encodePEM } from '../../internal/pem.js'
import { parsePublicKey } from '../../keys/parse-public.js'
import { publicKeyToPEM } from '../../keys/to-pem.js'
import { BUNDLE_ANNOTATION } from '../../signature/annotations.js'
import { legacyWitnessAnnotations } from '../../signature/witness-annotations.js'
import { type FlagSpec, withHelp } from '../args.js'
import type { CliIO } from '../context.js'
import { legacyFormatRequested, NEW_BUNDLE_FORMAT_FLAG } from '../flags/attachment.js'
import { SIGNING_KEY_FLAG } from '../flags/key.js'
import { REPORT_OUTPUT_FLAG, reportFormat, writeReport } from '../flags/output.js'
import { SIGNING_FLAGS, signingSetupFromFlags } from '../flags/signing.js'
import { VERBOSE_FLAG } from '../flags/verbose.js'
import { sha256Digest, witnessReport } from '../report.js'
import type { Command } from './command.js'

const flags: readonly FlagSpec[] = [
  SIGNING_KEY_FLAG,
  { name: 'bundle', type: 'string', help: 'write everything required to verify the blob to a FILE' },
  withHelp(
    NEW_BUNDLE_FORMAT_FLAG,
    'write a Sigstore bundle to --bundle (cosign v3 default; false: the older bundle plus a printed signature)',
  ),
  { name: 'output-signature', type: 'string', help: 'write the signature to FILE (not with --new-bundle-format)' },
  { name: 'output', type: 'string', help: 'deprecated alias of --output-signature' },
  { name: 'b64', type: 'bool', default: true, help: 'base64-encode the printed or written signature' },
  { name: 'output-certificate', type: 'string', help: 'keyless: write the signing certificate (PEM) to FILE' },
  // --output is cosign's (deprecated) signature file, so the report format is --output-format here; -o is free.
  { ...REPORT_OUTPUT_FLAG, name: 'output-format' },
  ...SIGNING_FLAGS,
  VERBOSE_FLAG,
]

/** Read an input file; a missing or unreadable file is a coded error naming it. */
export async function readInputFile(path: string, io: CliIO): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(resolve(io.cwd, path)))
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code ?? (cause as Error).message
    throw new CountersignError('ERR_INVALID_INPUT', `reading ${path}: ${reason}`, { cause, details: { path } })
  }
}

/** Read a blob argument: a file, or `-` for standard input. */
export async function readBlob(path: string, io: CliIO): Promise<Uint8Array> {
  if (path !== '-') return readInputFile(path, io)
  const chunks: Uint8Array[] = []
  for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? utf8(chunk) : new Uint8Array(chunk))
  return new Uint8Array(Buffer.concat(chunks))
}

/** `sign-blob`. */
export const signBlobCommand: Command = {
  name: 'sign-blob',
  usage: 'countersign sign-blob [--key cosign.key] --bundle FILE BLOB...',
  description:
    'Sign the supplied blob (a file, or - for stdin), writing a Sigstore bundle or printing the signature.\n\n' +
    '-o json (--output-format json; --output is the deprecated signature file) prints one array, an element per blob,\n' +
    'with the signature in it instead of on its own:\n' +
    '  [{"blob", "digest": "sha256:…", "bundle": FILE|null, "signature": BASE64, "signatureFile"?, "certificateFile"?,\n' +
    '    "tlogEntries", "timestamps"}]',
  flags,
  async run({ flags: f, args }, io) {
    if (args.length === 0) {
      throw new CountersignError('ERR_INVALID_INPUT', 'requires at least 1 arg(s), only received 0')
    }
    const format = reportFormat(f, 'output-format')
    const report: Record<string, unknown>[] = []
    const newBundle = !legacyFormatRequested(f)
    const bundlePath = typeof f.bundle === 'string' ? f.bundle : undefined
    if (newBundle && bundlePath === undefined) {
      throw new CountersignError('ERR_INVALID_INPUT', 'must specify --bundle with --new-bundle-format')
    }
    const warn = (m: string) => io.stderr.write(`WARNING: ${m}\n`)
    const output = typeof f.output === 'string' ? f.output : undefined
    let outputSignature = typeof f['output-signature'] === 'string' ? f['output-signature'] : undefined
    if (newBundle && outputSignature !== undefined) {
      warn('--output-signature is deprecated when using --new-bundle-format and will be ignored')
    }
    if (newBundle && output !== undefined)
      warn('--output is deprecated when using --new-bundle-format and will be ignored')
    if (output !== undefined) {
      io.stderr.write(
        "WARNING: the '--output' flag is deprecated and will be removed in the future. Use '--output-signature'\n",
      )
      outputSignature = output
    }
    // cosign rewrites the same output files for every blob; refuse instead of keeping only the last one.
    if (args.length > 1 && (bundlePath !== undefined || (!newBundle && outputSignature !== undefined))) {
      throw new CountersignError('ERR_INVALID_INPUT', '--bundle and --output-signature take one blob at a time')
    }
    const tlogUpload = f['tlog-upload'] !== false
    const { signer, transparency } = await signingSetupFromFlags(f, io, {
      legacy: !newBundle,
      algorithm: (key) => blobSigningAlgorithm(key.publicKey, { tlogUpload }),
    })
    const b64 = f.b64 !== false
    for (const blob of args) {
      if (blob !== '-') io.stderr.write(`Using payload from: ${blob}\n`)
      const data = await readBlob(blob, io)
      const result = await signBlob(data, signer, transparency)
      const material = await signer.keyMaterial()
      // Ours (cosign's sign-blob prints no JSON).
      const item: Record<string, unknown> = {
        blob,
        digest: sha256Digest(data),
        bundle: bundlePath ?? null,
        signature: toBase64(result.signature),
        ...(newBundle || outputSignature === undefined ? {} : { signatureFile: outputSignature }),
        ...(typeof f['output-certificate'] === 'string' ? { certificateFile: f['output-certificate'] } : {}),
        ...witnessReport(result.witnessed),
      }
      report.push(item)
      if (typeof f['output-certificate'] === 'string') {
        if (material.type !== 'x509')
          throw new CountersignError('ERR_INVALID_INPUT', 'no certificate: signed with a key')
        await writeFile(resolve(io.cwd, f['output-certificate']), encodePEM('CERTIFICATE', material.chain[0]!), {
          mode: 0o600,
        })
        io.stderr.write(`Wrote certificate to file ${f['output-certificate']}\n`)
      }
      if (newBundle) {
        await writeFile(resolve(io.cwd, bundlePath!), result.bundle, { mode: 0o600 })
        io.stderr.write(`Wrote bundle to file ${bundlePath}\n`)
        continue
      }
      if (bundlePath !== undefined) {
        // cosign v3 (--new-bundle-format=false) puts the public key PEM into `cert` when there is no certificate.
        const cert =
          material.type === 'x509'
            ? encodePEM('CERTIFICATE', material.chain[0]!)
            : publicKeyToPEM(parsePublicKey(material.spki))
        const rekorBundle = legacyWitnessAnnotations(material, result.witnessed)[BUNDLE_ANNOTATION]
        const legacy = serializeLegacyBlobBundle({
          base64Signature: toBase64(result.signature),
          cert: toBase64(utf8(cert)),
          ...(rekorBundle ? { rekorBundle: JSON.parse(rekorBundle) } : {}),
        })
        await writeFile(resolve(io.cwd, bundlePath), legacy, { mode: 0o600 })
        io.stderr.write(`Wrote bundle to file ${bundlePath}\n`)
      }
      const sig = b64 ? utf8(toBase64(result.signature)) : result.signature
      if (outputSignature !== undefined) {
        await writeFile(resolve(io.cwd, outputSignature), sig, { mode: 0o600 })
        io.stderr.write(`Wrote signature to file ${outputSignature}\n`)
      } else if (format === 'text') {
        io.stdout.write(b64 ? `${toBase64(result.signature)}\n` : sig)
      }
    }
    if (format === 'json') writeReport(io.stdout, report)
    return 0
  },
}
