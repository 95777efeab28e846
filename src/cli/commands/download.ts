/** `download signature|sbom|attestation`: print what is attached to an image, as cosign does. @module */
import { writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import {
  downloadAttestations,
  downloadSBOM,
  downloadSignatures,
  formatDownloadedAttestations,
  formatDownloadedSignatures,
} from '../../artifacts/download.js'
import { CountersignError } from '../../errors.js'
import { type FlagSpec, stringFlag } from '../args.js'
import { REPORT_OUTPUT_FLAG, reportFormat } from '../flags/output.js'
import { LOCAL_IMAGE_FLAG, REGISTRY_FLAGS } from '../flags/registry.js'
import { openImage, signatureRepository } from '../images.js'
import { createProgressBar } from '../progress.js'
import { attachmentLimit, SBOM_DEPRECATION } from './attach.js'
import type { Command } from './command.js'

const flags: readonly FlagSpec[] = [
  { name: 'predicate-type', type: 'string', help: 'attestation: only this predicate type (URI or cosign short name)' },
  {
    name: 'platform',
    type: 'string',
    help: 'sbom/attestation: the image of this platform (os/arch[/variant]) of an index',
  },
  { name: 'output-file', type: 'string', help: 'write the output to this file instead of stdout' },
  REPORT_OUTPUT_FLAG,
  LOCAL_IMAGE_FLAG,
  ...REGISTRY_FLAGS,
]

/** `download`: one verb whose first argument picks `signature`, `sbom` or `attestation`. */
export const downloadCommand: Command = {
  name: 'download',
  usage:
    'countersign download signature IMAGE\n' +
    '  countersign download sbom [--platform os/arch] IMAGE\n' +
    '  countersign download attestation [--predicate-type TYPE] [--platform os/arch] IMAGE',
  subcommands: ['signature', 'sbom', 'attestation'],
  description:
    'Provides utilities for downloading artifacts and attached artifacts in a registry\n\n' +
    'signature and attestation print one JSON object per line, as cosign does; -o json prints them as one JSON array\n' +
    "instead (each element byte for byte cosign's line; [] when there are none). sbom prints the SBOM itself (no -o json).",
  flags,
  async run({ flags: f, args }, io) {
    const [sub, image, ...extra] = args
    const format = reportFormat(f)
    if (sub !== 'signature' && sub !== 'sbom' && sub !== 'attestation') {
      throw new CountersignError(
        'ERR_INVALID_INPUT',
        `download: unknown subcommand ${JSON.stringify(sub ?? '')}; want signature, sbom or attestation`,
      )
    }
    if (image === undefined || extra.length > 0) {
      throw new CountersignError('ERR_INVALID_INPUT', `download ${sub}: exactly one image is required`)
    }
    if (sub === 'sbom' && format === 'json') {
      throw new CountersignError('ERR_INVALID_INPUT', 'download sbom prints the SBOM itself; -o json is not supported')
    }
    const target = openImage(image, f, io)
    const sigRepo = signatureRepository(io)
    const platform = stringFlag(f, 'platform')
    const options = {
      store: target.store,
      maxSize: attachmentLimit(io),
      ...(sigRepo ? { signatureRepository: sigRepo } : {}),
      ...(platform !== undefined && sub !== 'signature' ? { platform } : {}),
    }
    const chunks: Uint8Array[] = []
    const out = (s: string | Uint8Array) => chunks.push(typeof s === 'string' ? new TextEncoder().encode(s) : s)
    // cosign's JSON lines, or (-o json) the same values as the elements of one array, each kept byte for byte.
    const lines = (items: readonly string[]) => {
      if (format === 'json') out(items.length === 0 ? '[]\n' : `[\n${items.join(',\n')}\n]\n`)
      else for (const line of items) out(`${line}\n`)
    }

    if (sub === 'signature') {
      lines(formatDownloadedSignatures(await downloadSignatures(target.ref, options)))
    } else if (sub === 'attestation') {
      const predicateType = stringFlag(f, 'predicate-type')
      const found = await downloadAttestations(target.ref, { ...options, ...(predicateType ? { predicateType } : {}) })
      lines(formatDownloadedAttestations(found))
    } else {
      io.stderr.write(`${SBOM_DEPRECATION}\n`)
      io.stderr.write(
        "WARNING: Downloading SBOMs this way does not ensure its authenticity. If you want to ensure a tamper-proof SBOM, download it using 'countersign download attestation <image uri>'.\n",
      )
      const bar = createProgressBar(io.stderr, 'Downloading SBOM')
      let sbom: Awaited<ReturnType<typeof downloadSBOM>>
      try {
        sbom = await downloadSBOM(target.ref, { ...options, onProgress: bar.update })
      } finally {
        bar.finish()
      }
      io.stderr.write(`Found SBOM of media type: ${sbom.mediaType}\n`)
      out(sbom.data)
    }
    const data = Buffer.concat(chunks)
    if (typeof f['output-file'] === 'string' && f['output-file'] !== '') {
      await writeFile(resolve(io.cwd, f['output-file']), data)
    } else {
      io.stdout.write(data)
    }
    return 0
  },
}
