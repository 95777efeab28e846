/** `clean`: remove an image's signatures, attestations, SBOMs and cosign referrers, as cosign does. @module */
import { type CleanType, cleanImage, cleanPrompt } from '../../artifacts/clean.js'
import { CountersignError } from '../../errors.js'
import { referenceToString } from '../../oci/reference.js'
import type { FlagSpec } from '../args.js'
import { confirmContinue } from '../confirm.js'
import { REPORT_OUTPUT_FLAG, reportFormat, writeReport } from '../flags/output.js'
import { LOCAL_IMAGE_FLAG, REGISTRY_FLAGS } from '../flags/registry.js'
import { openImage, signatureRepository } from '../images.js'
import type { Command } from './command.js'

const TYPES: readonly CleanType[] = ['signature', 'attestation', 'referrer', 'sbom', 'all']

const flags: readonly FlagSpec[] = [
  {
    name: 'type',
    type: 'string',
    default: 'all',
    help: 'a type of clean: <signature|attestation|referrer|sbom|all> (sbom is deprecated)',
    values: TYPES,
  },
  { name: 'force', short: 'f', type: 'bool', help: 'do not prompt for confirmation' },
  REPORT_OUTPUT_FLAG,
  LOCAL_IMAGE_FLAG,
  ...REGISTRY_FLAGS,
]

/** `clean`. */
export const cleanCommand: Command = {
  name: 'clean',
  usage: 'countersign clean [--type signature|attestation|referrer|sbom|all] [-f] IMAGE',
  description:
    'Remove all signatures from an image\n\n' +
    '-o json prints one object (a failed deletion does not fail the verb, as in cosign):\n' +
    '  {"image", "digest", "type", "removed": [{"kind", "reference", "digest"}], "failures": [{"reference", "message"}]}',
  flags,
  async run({ flags: f, args }, io) {
    if (args.length !== 1) throw new CountersignError('ERR_INVALID_INPUT', 'exactly one image is required')
    const format = reportFormat(f)
    const type = String(f.type) as CleanType
    if (!TYPES.includes(type)) {
      throw new CountersignError(
        'ERR_INVALID_INPUT',
        `invalid argument "${type}" for "--type" flag: must be one of "signature", "attestation", "referrer", "sbom", or "all"`,
      )
    }
    if (f.force !== true) {
      await confirmContinue(io, {
        warning: cleanPrompt(type),
        code: 'ERR_INVALID_INPUT',
        noTerminal:
          'refusing to delete without confirmation: stdin is not a terminal; pass -f/--force to skip the prompt',
      })
    }
    const image = args[0]!
    const target = openImage(image, f, io)
    const sigRepo = signatureRepository(io)
    const result = await cleanImage(target.ref, {
      store: target.store,
      type,
      ...(sigRepo ? { signatureRepository: sigRepo } : {}),
      onWarning: (m) => io.stderr.write(`WARNING: ${m}\n`),
    })
    for (const r of result.removed) io.stderr.write(`Removed ${referenceToString(r.reference)} from ${image}\n`)
    for (const e of result.failures) {
      io.stderr.write(`could not delete ${referenceToString(e.reference)} from ${image}:\n${e.message}\n`)
    }
    if (format === 'json') {
      // Ours (cosign's clean prints no JSON).
      writeReport(io.stdout, {
        image,
        digest: result.digest,
        type,
        removed: result.removed.map((r) => ({
          kind: r.kind,
          reference: referenceToString(r.reference),
          digest: r.digest,
        })),
        failures: result.failures.map((e) => ({ reference: referenceToString(e.reference), message: e.message })),
      })
    }
    return 0
  },
}
