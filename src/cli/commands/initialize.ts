/**
 * `initialize`: set up the TUF repository whose trusted root and signing config the other verbs use (cosign's verb):
 * the public-good mirror with the root shipped in the package, or any mirror with its root.json. Starts the mirror's
 * cache afresh, updates it, remembers the mirror in `remote.json`, and prints what is now trusted.
 * @module
 */
import { createHash } from 'node:crypto'
import { rmSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { CountersignError } from '../../errors.js'
import { createNodeFetch } from '../../node/fetch.js'
import { mirrorCacheDir, writeRemoteConfig } from '../../node/tuf/cache.js'
import { PUBLIC_GOOD_TUF_MIRROR } from '../../node/tuf/mirror.js'
import { createTUFTrustProvider, type TUFTrust } from '../../node/tuf/provider.js'
import { type FlagSpec, stringFlag } from '../args.js'
import type { CliIO } from '../context.js'
import { REPORT_OUTPUT_FLAG, reportFormat, writeReport } from '../flags/output.js'
import { tufSettings } from '../trust-source.js'
import type { Command } from './command.js'

const flags: readonly FlagSpec[] = [
  {
    name: 'mirror',
    type: 'string',
    default: PUBLIC_GOOD_TUF_MIRROR,
    help: 'HTTP(S) base URL of a Sigstore TUF repository',
  },
  { name: 'root', type: 'string', help: "path to the repository's initial root.json (needed for other mirrors)" },
  {
    name: 'root-checksum',
    type: 'string',
    help: 'checksum of the --root file: SHA-256 hex, sha256:<hex> or sha512:<hex>; refused when it differs',
  },
  { name: 'staging', type: 'bool', help: "not supported: use --mirror with the staging repository's --root" },
  REPORT_OUTPUT_FLAG,
]

/** The bytes of `--root`, checked against `--root-checksum` (cosign's message on a mismatch). */
async function readRoot(path: string, checksum: string | undefined, io: CliIO): Promise<Uint8Array> {
  let bytes: Uint8Array
  try {
    bytes = new Uint8Array(await readFile(resolve(io.cwd, path)))
  } catch (cause) {
    throw new CountersignError('ERR_INVALID_INPUT', `reading TUF root ${path}: ${(cause as Error).message}`, { cause })
  }
  if (checksum !== undefined) {
    // cosign's LoadFileOrURLWithChecksum: `HEX` (SHA-256), `sha256:HEX` or `sha512:HEX`.
    const parts = checksum.split(':')
    if (parts.length > 2) {
      throw new CountersignError(
        'ERR_INVALID_INPUT',
        `wrong checksum input format, must have at most 1 colon: ${checksum}`,
      )
    }
    const algorithm = parts.length === 2 ? parts[0]! : 'sha256'
    if (algorithm !== 'sha256' && algorithm !== 'sha512') {
      throw new CountersignError('ERR_INVALID_INPUT', `unsupported checksum algorithm: ${algorithm}`)
    }
    const expected = parts[parts.length - 1]!
    const got = createHash(algorithm).update(bytes).digest('hex')
    if (got !== expected.toLowerCase()) {
      throw new CountersignError(
        'ERR_INVALID_INPUT',
        `incorrect checksum for file ${path}: expected ${expected} but got ${got}`,
      )
    }
  }
  return bytes
}

function date(d: Date): string {
  return Number.isNaN(d.getTime()) ? 'unknown' : d.toISOString()
}

/** What `initialize` prints: the repository, its root and timestamp, the targets and what the trusted root holds. */
function describe(trust: TUFTrust, cacheDir: string): string {
  const root = trust.trustedRoot
  const lines = [
    `TUF repository: ${trust.mirror}`,
    `cache: ${cacheDir}`,
    `root: version ${trust.rootVersion}, expires ${date(trust.rootExpires)}`,
    `timestamp: expires ${date(trust.expires)} (refreshed after that)`,
    'targets:',
    ...trust.targets.map((t) => `  ${t.name}  ${t.length} bytes  sha256:${t.sha256}`),
    `trusted root: ${root.tlogs.length} transparency log(s), ${root.certificateAuthorities.length} certificate authority(ies), ${root.ctlogs.length} CT log(s), ${root.timestampAuthorities.length} timestamp authority(ies)`,
    ...root.tlogs.map((l) => `  log ${l.baseUrl}`),
    ...root.certificateAuthorities.map((c) => `  CA ${c.uri}`),
    ...root.timestampAuthorities.map((t) => `  TSA ${t.uri}`),
  ]
  if (!trust.signingConfig)
    lines.push('signing config: none published (signing needs --signing-config or service URLs)')
  return `${lines.join('\n')}\n`
}

/** An RFC 3339 time, or null where the metadata gave none that parses (the text says `unknown`). */
function jsonDate(d: Date): string | null {
  return Number.isNaN(d.getTime()) ? null : d.toISOString()
}

/**
 * `initialize -o json` (ours: cosign's initialize prints no JSON): what {@link describe} prints, as one object.
 *
 * @example
 * writeReport(io.stdout, initializeReport(await provider.load({ refresh: true }), cacheDir))
 */
export function initializeReport(trust: TUFTrust, cacheDir: string) {
  const root = trust.trustedRoot
  return {
    mirror: trust.mirror,
    cache: cacheDir,
    root: { version: trust.rootVersion, expires: jsonDate(trust.rootExpires) },
    timestamp: { expires: jsonDate(trust.expires) },
    targets: trust.targets.map((t) => ({ name: t.name, size: t.length, digest: `sha256:${t.sha256}` })),
    trustedRoot: {
      tlogs: root.tlogs.map((l) => l.baseUrl),
      certificateAuthorities: root.certificateAuthorities.map((c) => c.uri),
      ctlogs: root.ctlogs.map((l) => l.baseUrl),
      timestampAuthorities: root.timestampAuthorities.map((t) => t.uri),
    },
    signingConfig: trust.signingConfig !== undefined,
  }
}

/** `initialize`. */
export const initializeCommand: Command = {
  name: 'initialize',
  usage: 'countersign initialize [--mirror URL] [--root FILE] [--root-checksum HEX]',
  description:
    'Initialize the TUF repository the trusted root and signing config come from\n\n' +
    '-o json prints one object instead of the text (times RFC 3339, null when unknown):\n' +
    '  {"mirror", "cache", "root": {"version", "expires"}, "timestamp": {"expires"},\n' +
    '   "targets": [{"name", "size", "digest"}], "trustedRoot": {"tlogs", "certificateAuthorities", "ctlogs",\n' +
    '   "timestampAuthorities"}, "signingConfig": bool}',
  flags,
  async run({ flags: f, args }, io) {
    const format = reportFormat(f)
    if (args.length > 0) throw new CountersignError('ERR_INVALID_INPUT', 'initialize takes no arguments')
    if (f.staging === true) {
      throw new CountersignError(
        'ERR_INVALID_INPUT',
        '--staging is not supported: countersign ships no staging root; pass --mirror https://tuf-repo-cdn.sigstage.dev --root FILE',
      )
    }
    const mirror = (stringFlag(f, 'mirror') ?? PUBLIC_GOOD_TUF_MIRROR).replace(/\/+$/, '')
    const rootPath = stringFlag(f, 'root')
    const checksum = stringFlag(f, 'root-checksum')
    if (checksum !== undefined && rootPath === undefined) {
      throw new CountersignError('ERR_INVALID_INPUT', '--root-checksum needs --root')
    }
    if (rootPath === undefined && mirror !== PUBLIC_GOOD_TUF_MIRROR) {
      throw new CountersignError(
        'ERR_INVALID_INPUT',
        `--root is required for a mirror other than ${PUBLIC_GOOD_TUF_MIRROR}`,
      )
    }
    const root = rootPath !== undefined ? await readRoot(rootPath, checksum, io) : undefined
    const { cacheRoot } = tufSettings(io)
    // A fresh start for this mirror (cosign removes the whole TUF_ROOT; other mirrors' caches are left alone here).
    const cacheDir = mirrorCacheDir(cacheRoot, mirror)
    rmSync(cacheDir, { recursive: true, force: true })
    const provider = createTUFTrustProvider({
      mirror,
      cacheDir: cacheRoot,
      fetch: createNodeFetch({ env: io.env }),
      ...(root ? { root } : {}),
    })
    const trust = await provider.load({ refresh: true })
    writeRemoteConfig(cacheRoot, { mirror })
    if (format === 'json') writeReport(io.stdout, initializeReport(trust, cacheDir))
    else io.stdout.write(describe(trust, cacheDir))
    return 0
  },
}
