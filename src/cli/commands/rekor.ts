/**
 * `rekor get` / `rekor search` / `rekor loginfo`: read a Rekor v1 log as `rekor-cli` does. Entries fetched by `get`
 * are checked against the trusted root before they are shown (verifyTransparencyLogInclusion: signed entry timestamp,
 * inclusion proof, signed checkpoint); an entry from a log the root does not know is refused, not printed.
 * @module
 */
import { hashBytes } from '../../blob/message-digest.js'
import { CountersignError } from '../../errors.js'
import { fromUtf8, toHex } from '../../internal/bytes.js'
import { createNodeFetch } from '../../node/fetch.js'
import { nodeSignatureBackend } from '../../node/signature-backend.js'
import { createRekorClient, DEFAULT_REKOR_URL, type RekorPublicKeyFormat } from '../../rekor/client.js'
import { type RekorLogEntry, toBundleLogEntry } from '../../rekor/log-entry.js'
import { verifyTransparencyLogInclusion } from '../../rekor/verify-entry.js'
import { type FlagSpec, stringFlag, withHelp } from '../args.js'
import { type CliIO, loadTrustedRoot } from '../context.js'
import { TRUSTED_ROOT_FLAG } from '../flags/trust.js'
import type { Command } from './command.js'
import { readInputFile } from './sign-blob.js'

const flags: readonly FlagSpec[] = [
  { name: 'rekor-url', type: 'string', default: DEFAULT_REKOR_URL, help: 'Rekor v1 server' },
  { name: 'uuid', type: 'string', help: 'get: the entry UUID (64 or 80 hex)' },
  { name: 'log-index', type: 'string', help: 'get: the global log index' },
  { name: 'sha', type: 'string', help: 'search: an artifact digest (sha256:HEX, or bare sha256 hex)' },
  { name: 'artifact', type: 'string', help: 'search: a file whose sha256 to look up' },
  { name: 'public-key', type: 'string', help: 'search: a public key or certificate file (PEM)' },
  {
    name: 'pki-format',
    type: 'string',
    default: 'x509',
    help: 'search: format of --public-key (x509, ssh, pgp, minisign, tuf)',
  },
  { name: 'email', type: 'string', help: 'search: an email address in certificates' },
  { name: 'operator', type: 'string', default: 'and', help: 'search: combine criteria with and / or' },
  withHelp(
    TRUSTED_ROOT_FLAG,
    'get: trusted_root.json the entry must verify against (default: from the TUF repository)',
  ),
  {
    name: 'output',
    short: 'o',
    type: 'string',
    default: 'default',
    help: 'default or json',
    values: ['default', 'json'],
  },
]

/** The entry must be in a log of the trusted root: SET, inclusion proof and signed checkpoint (v0.3 bundle rules). */
async function verifiedEntry(entry: RekorLogEntry, trustedRootPath: string | undefined, io: CliIO): Promise<void> {
  const root = await loadTrustedRoot(trustedRootPath, io)
  await verifyTransparencyLogInclusion(toBundleLogEntry(entry), {
    tlogs: root.tlogs,
    bundleVersion: '0.3',
    signatureBackend: nodeSignatureBackend,
  })
}

function describeEntry(entry: RekorLogEntry): Record<string, unknown> {
  let body: unknown
  try {
    body = JSON.parse(fromUtf8(entry.body, 'entry body'))
  } catch {
    body = null
  }
  return {
    UUID: entry.uuid,
    LogIndex: entry.logIndex,
    IntegratedTime: new Date(entry.integratedTime * 1000).toISOString(),
    LogID: toHex(entry.logID),
    Kind: entry.kind,
    APIVersion: entry.apiVersion,
    Body: body,
  }
}

/** `rekor`. */
export const rekorCommand: Command = {
  name: 'rekor',
  usage:
    'countersign rekor (get --uuid U | --log-index N) | (search --sha sha256:HEX | --artifact FILE | --public-key FILE | --email E) | loginfo [--rekor-url URL]',
  subcommands: ['get', 'search', 'loginfo'],
  description: 'Read a Rekor v1 transparency log: fetch (and verify) an entry, search the index, or show the log head.',
  flags,
  async run({ flags: f, args }, io) {
    const [sub, ...rest] = args
    if (rest.length > 0) throw new CountersignError('ERR_INVALID_INPUT', 'unexpected arguments after the subcommand')
    const client = createRekorClient({
      url: stringFlag(f, 'rekor-url') ?? DEFAULT_REKOR_URL,
      fetch: createNodeFetch({ env: io.env }),
      userAgent: 'countersign',
      ...(io.secrets !== undefined ? { secrets: io.secrets } : {}),
    })
    const json = f.output === 'json'
    if (sub === 'get') {
      const uuid = stringFlag(f, 'uuid')
      const index = stringFlag(f, 'log-index')
      if ((uuid === undefined) === (index === undefined)) {
        throw new CountersignError('ERR_INVALID_INPUT', 'get needs exactly one of --uuid and --log-index')
      }
      if (index !== undefined && !/^\d{1,15}$/.test(index)) {
        throw new CountersignError('ERR_INVALID_INPUT', '--log-index must be a non-negative integer')
      }
      const entry = uuid !== undefined ? await client.getEntryByUUID(uuid) : await client.getEntryByIndex(Number(index))
      await verifiedEntry(entry, stringFlag(f, 'trusted-root'), io)
      const shown = describeEntry(entry)
      if (json) io.stdout.write(`${JSON.stringify(shown, null, 2)}\n`)
      else {
        for (const [k, v] of Object.entries(shown)) {
          io.stdout.write(`${k}: ${typeof v === 'string' || typeof v === 'number' ? v : JSON.stringify(v)}\n`)
        }
      }
      return 0
    }
    if (sub === 'search') {
      let hash = stringFlag(f, 'sha')
      const artifact = stringFlag(f, 'artifact')
      if (hash !== undefined && !hash.includes(':')) hash = `sha256:${hash}`
      if (artifact !== undefined) {
        if (hash !== undefined) throw new CountersignError('ERR_INVALID_INPUT', '--sha and --artifact are exclusive')
        hash = `sha256:${toHex(await hashBytes('sha256', await readInputFile(artifact, io)))}`
      }
      const keyPath = stringFlag(f, 'public-key')
      const email = stringFlag(f, 'email')
      const operator = f.operator === 'or' ? 'or' : f.operator === 'and' ? 'and' : undefined
      if (operator === undefined) throw new CountersignError('ERR_INVALID_INPUT', '--operator must be and or or')
      const uuids = await client.searchIndex({
        ...(hash !== undefined ? { hash } : {}),
        ...(keyPath !== undefined
          ? {
              publicKey: {
                format: String(f['pki-format']) as RekorPublicKeyFormat,
                content: await readInputFile(keyPath, io),
              },
            }
          : {}),
        ...(email !== undefined ? { email } : {}),
        operator,
      })
      if (json) io.stdout.write(`${JSON.stringify(uuids, null, 2)}\n`)
      else if (uuids.length === 0) io.stderr.write('no matching entries\n')
      else io.stdout.write(`${uuids.join('\n')}\n`)
      return 0
    }
    if (sub === 'loginfo') {
      const info = await client.getLogInfo()
      const shown = { TreeSize: info.treeSize, RootHash: toHex(info.rootHash), TreeID: info.treeID }
      io.stdout.write(
        json
          ? `${JSON.stringify(shown, null, 2)}\n`
          : `Tree Size: ${shown.TreeSize}\nRoot Hash: ${shown.RootHash}\nTree ID: ${shown.TreeID}\n`,
      )
      return 0
    }
    throw new CountersignError(
      'ERR_INVALID_INPUT',
      `unknown rekor command ${JSON.stringify(sub ?? '')}: use get, search or loginfo`,
    )
  },
}
