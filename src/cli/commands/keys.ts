/** generate-key-pair, import-key-pair and public-key. @module */
import { readFile, writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { CountersignError } from '../../errors.js'
import { encryptCosignPrivateKey, generateKeyPair, parsePrivateKey, publicKeyToPEM } from '../../keys/index.js'
import { writeKeyPair } from '../../node/key-files.js'
import { readPassword } from '../../node/password.js'
import { nodeScrypt } from '../../node/scrypt.js'
import type { FlagSpec, ParsedFlags } from '../args.js'
import type { CliIO } from '../context.js'
import { SIGNING_KEY_FLAG } from '../flags/key.js'
import { REPORT_OUTPUT_FLAG, reportFormat, writeReport } from '../flags/output.js'
import { VERBOSE_FLAG } from '../flags/verbose.js'
import { loadSigningKey } from '../key-refs.js'
import { createKMSKey, isKMSKey, kmsSigner } from '../kms.js'
import { keyReport } from '../report.js'
import type { Command } from './command.js'

/** Without one of these, existing key files are never replaced. */
const OVERWRITE_FLAGS: readonly FlagSpec[] = [
  { name: 'force', short: 'f', type: 'bool', help: 'overwrite existing key files' },
  { name: 'yes', short: 'y', type: 'bool', help: 'skip confirmation prompts (same as --force for existing files)' },
]

/** `--output` without `-o`: `import-key-pair -o` is cosign's `--output-key-prefix`. */
const { short: _importShort, ...LONG_OUTPUT_FLAG } = REPORT_OUTPUT_FLAG

/** `--force` or `--yes`: existing key files may be replaced. */
function overwriteRequested(flags: ParsedFlags): boolean {
  return flags.force === true || flags.yes === true
}

/** The password of a new encrypted key (COSIGN_PASSWORD, else asked twice on the terminal, else stdin). */
function newKeyPassword(io: CliIO): Promise<Uint8Array> {
  return readPassword({ env: io.env, stdin: io.stdin, stderr: io.stderr as NodeJS.WriteStream, confirm: true })
}

const generateFlags: readonly FlagSpec[] = [
  { name: 'output-key-prefix', type: 'string', default: 'cosign', help: 'name used for generated .pub and .key files' },
  {
    name: 'kms',
    type: 'string',
    help: 'create the key in a KMS (awskms://, gcpkms://, azurekms://, hashivault://) and write only <prefix>.pub',
  },
  ...OVERWRITE_FLAGS,
  REPORT_OUTPUT_FLAG,
  VERBOSE_FLAG,
]

/** `generate-key-pair`: a P-256 key, encrypted cosign-style, written to cosign.key (0600) and cosign.pub. */
export const generateKeyPairCommand: Command = {
  name: 'generate-key-pair',
  usage: 'countersign generate-key-pair [--output-key-prefix cosign] [--force] [--kms URI]',
  description:
    'Generates a key-pair for signing: <prefix>.key (encrypted, mode 0600) and <prefix>.pub.\n\n' +
    '-o json prints one object (absolute paths; privateKeyFile null and kms the URI with --kms):\n' +
    '  {"privateKeyFile", "publicKeyFile", "kms", "algorithm", "hint"}',
  flags: generateFlags,
  async run({ flags }, io) {
    const format = reportFormat(flags)
    const prefix = String(flags['output-key-prefix'])
    if (typeof flags.kms === 'string' && flags.kms !== '') {
      // As cosign: the private key stays in the KMS; only the public key is written.
      const publicKey = await createKMSKey(flags.kms, io)
      const path = resolve(io.cwd, `${prefix}.pub`)
      await writeFile(path, publicKeyToPEM(publicKey), {
        mode: 0o644,
        flag: overwriteRequested(flags) ? 'w' : 'wx',
      }).catch((cause: NodeJS.ErrnoException) => {
        if (cause.code === 'EEXIST') {
          throw new CountersignError('ERR_FILE_EXISTS', `${prefix}.pub already exists; pass --force to overwrite`, {
            cause,
          })
        }
        throw cause
      })
      io.stderr.write(`Public key written to ${prefix}.pub\n`)
      if (format === 'json') {
        writeReport(io.stdout, {
          privateKeyFile: null,
          publicKeyFile: path,
          kms: flags.kms,
          ...keyReport(publicKey),
        })
      }
      return 0
    }
    const password = await newKeyPassword(io)
    const key = await generateKeyPair()
    const written = await writePair(prefix, key, password, overwriteRequested(flags), io)
    if (format === 'json') writeReport(io.stdout, { ...written, kms: null, ...keyReport(key.publicKey) })
    return 0
  },
}

const importFlags: readonly FlagSpec[] = [
  { name: 'key', short: 'k', type: 'string', help: 'import a PEM private key (PKCS#8, SEC1 EC or PKCS#1 RSA)' },
  {
    name: 'output-key-prefix',
    short: 'o',
    type: 'string',
    default: 'import-cosign',
    help: 'name used for the outputs',
  },
  ...OVERWRITE_FLAGS,
  LONG_OUTPUT_FLAG,
]

/** `import-key-pair`: convert a PEM private key to cosign's encrypted format. */
export const importKeyPairCommand: Command = {
  name: 'import-key-pair',
  usage: 'countersign import-key-pair --key key.pem [--output-key-prefix import-cosign]',
  description:
    "Imports a PEM private key and writes it in cosign's encrypted format with its public key.\n\n" +
    '--output json (no -o: that is --output-key-prefix) prints one object (key as given, absolute paths written):\n' +
    '  {"key", "privateKeyFile", "publicKeyFile", "algorithm", "hint"}',
  flags: importFlags,
  async run({ flags }, io) {
    const format = reportFormat(flags)
    const path = flags.key
    if (typeof path !== 'string') throw new CountersignError('ERR_INVALID_INPUT', 'missing --key')
    const key = parsePrivateKey(await readFile(resolve(io.cwd, path), 'utf8'))
    const password = await newKeyPassword(io)
    const written = await writePair(String(flags['output-key-prefix']), key, password, overwriteRequested(flags), io)
    if (format === 'json') writeReport(io.stdout, { key: path, ...written, ...keyReport(key.publicKey) })
    return 0
  },
}

async function writePair(
  prefix: string,
  key: Awaited<ReturnType<typeof generateKeyPair>>,
  password: Uint8Array,
  force: boolean,
  io: CliIO,
): Promise<{ privateKeyFile: string; publicKeyFile: string }> {
  const privatePem = await encryptCosignPrivateKey(key, password, { scrypt: nodeScrypt })
  const written = await writeKeyPair(prefix, privatePem, publicKeyToPEM(key.publicKey), { force, dir: io.cwd })
  io.stderr.write(`Private key written to ${written.privateKeyPath}\nPublic key written to ${written.publicKeyPath}\n`)
  return { privateKeyFile: written.privateKeyPath, publicKeyFile: written.publicKeyPath }
}

const publicKeyFlags: readonly FlagSpec[] = [
  SIGNING_KEY_FLAG,
  { name: 'outfile', type: 'string', help: 'write the public key to this file instead of stdout' },
  REPORT_OUTPUT_FLAG,
  VERBOSE_FLAG,
]

/** `public-key`: print the public key of a private key. */
export const publicKeyCommand: Command = {
  name: 'public-key',
  usage: 'countersign public-key --key cosign.key [--outfile cosign.pub]',
  description:
    'Gets a public key from a private key.\n\n' +
    '-o json prints one object instead of the PEM (outfile null without --outfile, which is still written):\n' +
    '  {"key", "publicKey": PEM, "algorithm", "hint", "outfile"}',
  flags: publicKeyFlags,
  async run({ flags }, io) {
    const format = reportFormat(flags)
    if (typeof flags.key !== 'string') throw new CountersignError('ERR_INVALID_INPUT', 'missing --key')
    // A KMS key's public half comes from the service, as cosign's public-key --key awskms://… does.
    const publicKey = isKMSKey(flags.key)
      ? await (await kmsSigner(flags.key, io)).publicKey()
      : (await loadSigningKey(flags.key, io)).publicKey
    const pem = publicKeyToPEM(publicKey)
    const outfile = typeof flags.outfile === 'string' ? flags.outfile : undefined
    if (outfile !== undefined) {
      await writeFile(resolve(io.cwd, outfile), pem, { mode: 0o644 })
      io.stderr.write(`Public key written to ${outfile}\n`)
    }
    if (format === 'json') {
      writeReport(io.stdout, { key: flags.key, publicKey: pem, ...keyReport(publicKey), outfile: outfile ?? null })
    } else if (outfile === undefined) {
      io.stdout.write(pem)
    }
    return 0
  },
}
