/** `attest-blob`: attest a file with an in-toto predicate, writing a Sigstore bundle, as `cosign attest-blob`. @module */
import { writeFile } from 'node:fs/promises'
import { basename, resolve } from 'node:path'
import { resolvePredicateType } from '../../attestation/predicates.js'
import { attestBlob } from '../../blob/attest-blob.js'
import { CountersignError } from '../../errors.js'
import type { FlagSpec } from '../args.js'
import { reportWitnessed, SIGNING_FLAGS, signingSetupFromFlags } from '../signing-flags.js'
import type { Command } from './command.js'
import { readBlob, readInputFile } from './sign-blob.js'

const flags: readonly FlagSpec[] = [
  { name: 'key', type: 'string', help: 'path to the private key file' },
  { name: 'predicate', type: 'string', help: 'path to the predicate file' },
  {
    name: 'type',
    type: 'string',
    default: 'custom',
    help: 'predicate type (slsaprovenance|slsaprovenance02|slsaprovenance1|link|spdx|spdxjson|cyclonedx|vuln|openvex|custom) or a URI',
  },
  { name: 'statement', type: 'string', help: 'path to a complete in-toto statement to sign instead of --predicate' },
  { name: 'bundle', type: 'string', help: 'write the Sigstore bundle to FILE' },
  { name: 'output-attestation', type: 'string', help: 'also write the signed statement to FILE' },
  ...SIGNING_FLAGS,
]

/** `attest-blob`. */
export const attestBlobCommand: Command = {
  name: 'attest-blob',
  usage: 'countersign attest-blob [--key cosign.key] --predicate FILE [--type TYPE] --bundle FILE BLOB',
  description:
    'Attest the supplied blob (a file, or - for stdin) with an in-toto predicate, writing a Sigstore bundle.',
  flags,
  async run({ flags: f, args }, io) {
    if (args.length !== 1) throw new CountersignError('ERR_INVALID_INPUT', 'accepts 1 arg(s), received ' + args.length)
    const statementPath = typeof f.statement === 'string' && f.statement !== '' ? f.statement : undefined
    const predicatePath = typeof f.predicate === 'string' && f.predicate !== '' ? f.predicate : undefined
    if (statementPath === undefined && predicatePath === undefined) {
      throw new CountersignError('ERR_INVALID_INPUT', 'predicate cannot be empty')
    }
    if (typeof f.bundle !== 'string' || f.bundle === '') {
      throw new CountersignError('ERR_INVALID_INPUT', 'must specify --bundle with --new-bundle-format')
    }
    const type = String(f.type)
    resolvePredicateType(type)
    const blobPath = args[0]!
    const statement = statementPath !== undefined ? await readInputFile(statementPath, io) : undefined
    const predicate = predicatePath !== undefined ? await readInputFile(predicatePath, io) : undefined
    const { signer, transparency } = await signingSetupFromFlags(f, io)
    if (statement === undefined && blobPath !== '-') io.stderr.write(`Using payload from: ${blobPath}\n`)
    const data = statement === undefined ? await readBlob(blobPath, io) : new Uint8Array(0)
    const result = await attestBlob(data, signer, {
      subjectName: basename(blobPath),
      predicateType: type,
      ...(predicate ? { predicate } : {}),
      ...(statement ? { statement } : {}),
      ...transparency,
    })
    reportWitnessed(result.witnessed, io)
    await writeFile(resolve(io.cwd, f.bundle), result.bundle, { mode: 0o600 })
    io.stderr.write(`Wrote bundle to file ${f.bundle}\n`)
    if (typeof f['output-attestation'] === 'string') {
      await writeFile(resolve(io.cwd, f['output-attestation']), result.statement, { mode: 0o600 })
      io.stderr.write(`Attestation written in ${f['output-attestation']}\n`)
    }
    return 0
  },
}
