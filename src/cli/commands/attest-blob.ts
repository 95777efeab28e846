/** `attest-blob`: attest a file with an in-toto predicate, writing a Sigstore bundle, as `cosign attest-blob`. @module */
import { writeFile } from 'node:fs/promises'
import { basename, resolve } from 'node:path'
import { resolvePredicateType } from '../../attestation/predicates.js'
import { attestBlob } from '../../blob/attest-blob.js'
import { CountersignError } from '../../errors.js'
import { type FlagSpec, stringFlag } from '../args.js'
import { PREDICATE_FLAG, PREDICATE_TYPE_FLAG } from '../flags/attestation.js'
import { SIGNING_KEY_FLAG } from '../flags/key.js'
import { REPORT_OUTPUT_FLAG, reportFormat, writeReport } from '../flags/output.js'
import { reportWitnessed, SIGNING_FLAGS, signingSetupFromFlags } from '../flags/signing.js'
import { VERBOSE_FLAG } from '../flags/verbose.js'
import { sha256Digest, witnessReport } from '../report.js'
import type { Command } from './command.js'
import { readBlob, readInputFile } from './sign-blob.js'

const flags: readonly FlagSpec[] = [
  SIGNING_KEY_FLAG,
  PREDICATE_FLAG,
  PREDICATE_TYPE_FLAG,
  { name: 'statement', type: 'string', help: 'path to a complete in-toto statement to sign instead of --predicate' },
  { name: 'bundle', type: 'string', help: 'write the Sigstore bundle to FILE' },
  { name: 'output-attestation', type: 'string', help: 'also write the signed statement to FILE' },
  REPORT_OUTPUT_FLAG,
  ...SIGNING_FLAGS,
  VERBOSE_FLAG,
]

/** `attest-blob`. */
export const attestBlobCommand: Command = {
  name: 'attest-blob',
  usage: 'countersign attest-blob [--key cosign.key] --predicate FILE [--type TYPE] --bundle FILE BLOB',
  description:
    'Attest the supplied blob (a file, or - for stdin) with an in-toto predicate, writing a Sigstore bundle.\n\n' +
    '-o json prints one object (digest is null with --statement, which names its own subjects):\n' +
    '  {"blob", "digest": "sha256:…"|null, "predicateType", "bundle": FILE, "attestationFile"?, "tlogEntries", "timestamps"}',
  flags,
  async run({ flags: f, args }, io) {
    if (args.length !== 1) throw new CountersignError('ERR_INVALID_INPUT', 'accepts 1 arg(s), received ' + args.length)
    const format = reportFormat(f)
    const statementPath = stringFlag(f, 'statement')
    const predicatePath = stringFlag(f, 'predicate')
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
    if (format === 'json') {
      // Ours (cosign's attest-blob prints no JSON).
      writeReport(io.stdout, {
        blob: blobPath,
        digest: statement === undefined ? sha256Digest(data) : null,
        predicateType: result.predicateType,
        bundle: f.bundle,
        ...(typeof f['output-attestation'] === 'string' ? { attestationFile: f['output-attestation'] } : {}),
        ...witnessReport(result.witnessed),
      })
    }
    return 0
  },
}
