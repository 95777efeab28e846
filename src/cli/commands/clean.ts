/** `clean`: remove an image's signatures, attestations, SBOMs and cosign referrers, as cosign does. @module */
import { type CleanType, cleanImage, cleanPrompt } from '../../artifacts/clean.js'
import { CountersignError } from '../../errors.js'
import { referenceToString } from '../../oci/reference.js'
import type { FlagSpec } from '../args.js'
import { type CliIO, openImage, REGISTRY_FLAGS, signatureRepository } from '../context.js'
import type { Command } from './command.js'

const TYPES: readonly CleanType[] = ['signature', 'attestation', 'referrer', 'sbom', 'all']

const flags: readonly FlagSpec[] = [
  {
    name: 'type',
    type: 'string',
    default: 'all',
    help: 'a type of clean: <signature|attestation|referrer|sbom|all> (sbom is deprecated)',
  },
  { name: 'force', short: 'f', type: 'bool', help: 'do not prompt for confirmation' },
  { name: 'local-image', type: 'bool', help: 'IMAGE is a path to an OCI layout on disk' },
  ...REGISTRY_FLAGS,
]

/** Read one line from the CLI's stdin (the answer to a prompt); "" at end of input. */
async function readLine(io: CliIO): Promise<string> {
  const stdin = io.stdin
  return new Promise((resolve, reject) => {
    let text = ''
    const done = (value: string) => {
      stdin.off('data', onData)
      stdin.off('end', onEnd)
      stdin.off('error', onError)
      stdin.pause()
      resolve(value)
    }
    const onData = (chunk: Buffer | string) => {
      text += chunk.toString()
      const nl = text.indexOf('\n')
      if (nl >= 0) done(text.slice(0, nl))
    }
    const onEnd = () => done(text)
    const onError = (e: Error) => {
      stdin.off('data', onData)
      stdin.off('end', onEnd)
      reject(e)
    }
    stdin.on('data', onData)
    stdin.once('end', onEnd)
    stdin.once('error', onError)
    stdin.resume()
  })
}

/** cosign's `ui.ConfirmContinue`: only `y`/`Y` goes on; without a terminal there is nobody to ask, so refuse. */
async function confirm(io: CliIO, prompt: string): Promise<void> {
  io.stderr.write(`WARNING: ${prompt}\n`)
  if (io.stdin.isTTY !== true) {
    throw new CountersignError(
      'ERR_INVALID_INPUT',
      'refusing to delete without confirmation: stdin is not a terminal; pass -f/--force to skip the prompt',
    )
  }
  io.stderr.write('Are you sure you would like to continue? [y/N] ')
  const answer = (await readLine(io))
    .replace(/[\r\n]+$/, '')
    .trim()
    .toLowerCase()
  if (answer === 'y') return
  if (answer === '' || answer === 'n') throw new CountersignError('ERR_INVALID_INPUT', 'user declined the prompt')
  throw new CountersignError('ERR_INVALID_INPUT', `invalid input ${JSON.stringify(answer)} (allowed values [y, n])`)
}

/** `clean`. */
export const cleanCommand: Command = {
  name: 'clean',
  usage: 'countersign clean [--type signature|attestation|referrer|sbom|all] [-f] IMAGE',
  description: 'Remove all signatures from an image',
  flags,
  async run({ flags: f, args }, io) {
    if (args.length !== 1) throw new CountersignError('ERR_INVALID_INPUT', 'exactly one image is required')
    const type = String(f.type) as CleanType
    if (!TYPES.includes(type)) {
      throw new CountersignError(
        'ERR_INVALID_INPUT',
        `invalid argument "${type}" for "--type" flag: must be one of "signature", "attestation", "referrer", "sbom", or "all"`,
      )
    }
    if (f.force !== true) await confirm(io, cleanPrompt(type))
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
    return 0
  },
}
