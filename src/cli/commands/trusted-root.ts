/**
 * `trusted-root create`: write a Sigstore trusted_root.json naming your own Fulcio, Rekor, CT log and TSA, as cosign
 * v3's verb does (sigstore/cosign `cmd/cosign/cli/trustedroot/trustedroot.go`): one repeatable `k=v,k=v` spec flag
 * per service, optionally on top of the current TUF trust material (`--with-default-services`). The JSON itself is
 * built by `createTrustedRoot` (src/trust/create-trusted-root.ts). cosign's hidden deprecated flags
 * (`--certificate-chain`, `--rekor-key`, …) are not offered.
 * @module
 */
import { writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { parseRFC3339 } from '../../attestation/proto-json.js'
import { CountersignError, isCountersignError } from '../../errors.js'
import { fromUtf8 } from '../../internal/bytes.js'
import { parsePublicKey } from '../../keys/parse-public.js'
import {
  createTrustedRoot,
  type TrustedRootAuthorityInput,
  type TrustedRootLogInput,
} from '../../trust/create-trusted-root.js'
import { type TrustedRoot, transparencyLogKey } from '../../trust/trusted-root.js'
import { parseCertificate, parseCertificatePEM } from '../../x509/certificate.js'
import { type FlagSpec, stringFlag } from '../args.js'
import type { CliIO } from '../context.js'
import { cliTrust } from '../trust-source.js'
import type { Command } from './command.js'
import { readInputFile } from './sign-blob.js'

const flags: readonly FlagSpec[] = [
  {
    name: 'fulcio',
    type: 'strings',
    noSplit: true,
    help: 'Fulcio CA as k=v,k=v: url, certificate-chain (PEM: intermediates, then the root) required; start-time (default the root notBefore), end-time optional. Repeatable',
  },
  {
    name: 'rekor',
    type: 'strings',
    noSplit: true,
    help: 'Rekor log as k=v,k=v: url, public-key (PEM), start-time required; end-time, origin (Rekor v2 checkpoint origin) optional. Repeatable',
  },
  {
    name: 'ctfe',
    type: 'strings',
    noSplit: true,
    help: 'CT log as k=v,k=v: url, public-key (PEM), start-time required; end-time, origin (static CT) optional. Repeatable',
  },
  {
    name: 'tsa',
    type: 'strings',
    noSplit: true,
    help: 'timestamp authority as k=v,k=v: url, certificate-chain (PEM: the signing leaf first, the root last) required; start-time (default the leaf notBefore), end-time optional. Repeatable',
  },
  {
    name: 'out',
    type: 'string',
    help: 'write the trusted root to this file (mode 0600; an existing file is overwritten, as cosign does) instead of stdout',
  },
  {
    name: 'with-default-services',
    type: 'bool',
    default: false,
    help: 'start from the current trust material (TUF, as other verbs use it); a --rekor/--ctfe key already there replaces its entry',
  },
  { name: 'no-default-fulcio', type: 'bool', default: false, help: 'with --with-default-services: leave its CAs out' },
  {
    name: 'no-default-ctfe',
    type: 'bool',
    default: false,
    help: 'with --with-default-services: leave its CT logs out',
  },
  { name: 'no-default-tsa', type: 'bool', default: false, help: 'with --with-default-services: leave its TSAs out' },
  {
    name: 'no-default-rekor',
    type: 'bool',
    default: false,
    help: 'with --with-default-services: leave its Rekor logs out',
  },
]

type SpecKind = 'fulcio' | 'rekor' | 'ctfe' | 'tsa'

/** cosign's error for a spec: `parsing <kind> spec: <reason>`. */
function specError(kind: SpecKind, reason: string, cause?: unknown): CountersignError {
  return new CountersignError('ERR_INVALID_INPUT', `parsing ${kind} spec: ${reason}`, cause ? { cause } : undefined)
}

/**
 * cosign's `parseKVs`: split on `,`, then on the first `=`, trimming both sides; the last of a repeated key wins and
 * unknown keys are ignored. So a path cannot hold a comma.
 */
function parseSpec(spec: string): Map<string, string> {
  const kvs = new Map<string, string>()
  for (const pair of spec.split(',')) {
    const eq = pair.indexOf('=')
    if (eq < 0) throw new CountersignError('ERR_INVALID_INPUT', `invalid key-value pair: ${pair}`)
    kvs.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim())
  }
  return kvs
}

function required(kvs: Map<string, string>, keys: readonly string[], what: string): void {
  for (const key of keys) {
    if (!kvs.get(key)) {
      throw new CountersignError('ERR_INVALID_INPUT', `missing or empty required key '${key}' in ${what} spec`)
    }
  }
}

/** Go's `time.Parse(time.RFC3339, …)`; the root holds milliseconds, so finer digits must be zero. */
function parseTime(value: string, name: string): Date {
  const t = parseRFC3339(value)
  if (!t) {
    throw new CountersignError('ERR_INVALID_INPUT', `parsing ${name}: ${JSON.stringify(value)} is not an RFC 3339 time`)
  }
  if (t.nanos % 1_000_000 !== 0) {
    throw new CountersignError('ERR_INVALID_INPUT', `parsing ${name}: sub-millisecond precision is not supported`)
  }
  return new Date(t.utcMillis + t.nanos / 1_000_000)
}

function optionalTime(kvs: Map<string, string>, key: string): Date | undefined {
  const v = kvs.get(key)
  return v ? parseTime(v, key) : undefined
}

async function readCertificates(path: string, what: string, io: CliIO) {
  const bytes = await readInputFile(path, io)
  try {
    return parseCertificatePEM(fromUtf8(bytes, path))
  } catch (cause) {
    throw new CountersignError(
      'ERR_INVALID_INPUT',
      `parsing ${what} certificate-chain: ${path}: ${(cause as Error).message}`,
      {
        cause,
      },
    )
  }
}

async function authoritySpec(kind: 'fulcio' | 'tsa', spec: string, io: CliIO): Promise<TrustedRootAuthorityInput> {
  try {
    const kvs = parseSpec(spec)
    required(kvs, ['url', 'certificate-chain'], kind)
    const certChain = await readCertificates(kvs.get('certificate-chain')!, kind === 'tsa' ? 'TSA' : 'Fulcio', io)
    const start = optionalTime(kvs, 'start-time')
    const end = optionalTime(kvs, 'end-time')
    return { uri: kvs.get('url')!, certChain, ...(start ? { start } : {}), ...(end ? { end } : {}) }
  } catch (e) {
    throw specError(kind, (e as Error).message, e)
  }
}

async function logSpec(kind: 'rekor' | 'ctfe', spec: string, io: CliIO): Promise<TrustedRootLogInput> {
  try {
    const kvs = parseSpec(spec)
    required(kvs, ['url', 'public-key', 'start-time'], 'tlog')
    const path = kvs.get('public-key')!
    const bytes = await readInputFile(path, io)
    let publicKey: TrustedRootLogInput['publicKey']
    try {
      publicKey = parsePublicKey(bytes)
    } catch (cause) {
      throw new CountersignError('ERR_INVALID_INPUT', `parsing public-key: ${path}: ${(cause as Error).message}`, {
        cause,
      })
    }
    const start = parseTime(kvs.get('start-time')!, 'start-time')
    const end = optionalTime(kvs, 'end-time')
    // Present, even empty, means "use the checkpoint ID" to cosign; the builder refuses an empty origin.
    const origin = kvs.get('origin')
    return {
      baseUrl: kvs.get('url')!,
      publicKey,
      start,
      ...(end ? { end } : {}),
      ...(origin !== undefined ? { origin } : {}),
    }
  } catch (e) {
    throw specError(kind, (e as Error).message, e)
  }
}

/** The entries of the current trust material, as cosign copies them from `cosign.TrustedRoot()`. */
function seedFrom(root: TrustedRoot, f: Record<string, unknown>) {
  const authority = (ca: TrustedRoot['certificateAuthorities'][number]): TrustedRootAuthorityInput => ({
    uri: ca.uri,
    certChain: ca.certChain.map((der) => parseCertificate(der)),
    start: ca.validFor.start,
    ...(ca.validFor.end ? { end: ca.validFor.end } : {}),
  })
  const log = (l: TrustedRoot['tlogs'][number]): TrustedRootLogInput => ({
    baseUrl: l.baseUrl,
    // Re-encoded as sigstore-go does: SPKI DER, keyDetails from the key; the log ID is kept.
    publicKey: transparencyLogKey(l).key,
    start: l.publicKey.validFor.start,
    ...(l.publicKey.validFor.end ? { end: l.publicKey.validFor.end } : {}),
    logId: l.logId,
    ...(l.hashAlgorithm === 'SHA2_384' || l.hashAlgorithm === 'SHA2_512' ? { hashAlgorithm: l.hashAlgorithm } : {}),
  })
  return {
    certificateAuthorities: f['no-default-fulcio'] === true ? [] : root.certificateAuthorities.map(authority),
    tlogs: f['no-default-rekor'] === true ? [] : root.tlogs.map(log),
    ctlogs: f['no-default-ctfe'] === true ? [] : root.ctlogs.map(log),
    timestampAuthorities: f['no-default-tsa'] === true ? [] : root.timestampAuthorities.map(authority),
  }
}

/** Which flag gave entry `index` of `list`, after `seeded` entries from the default services. */
const SPEC_OF_LIST: Readonly<Record<string, SpecKind>> = {
  certificateAuthorities: 'fulcio',
  tlogs: 'rekor',
  ctlogs: 'ctfe',
  timestampAuthorities: 'tsa',
}

/** `trusted-root` (one sub-verb: `create`). */
export const trustedRootCommand: Command = {
  name: 'trusted-root',
  usage:
    'countersign trusted-root create [--fulcio SPEC]... [--rekor SPEC]... [--ctfe SPEC]... [--tsa SPEC]... [--with-default-services] [--out FILE]',
  subcommands: ['create'],
  description:
    'Create a Sigstore trusted root (trusted_root.json) for your own services, like cosign trusted-root create. Each service is a repeatable flag taking comma-separated key=value pairs, e.g. --rekor url=https://rekor.example.com,public-key=rekor.pub,start-time=2025-01-01T00:00:00Z. Prints the JSON, or writes it to --out (overwriting it).',
  flags,
  async run({ flags: f, args }, io) {
    const [sub, ...rest] = args
    if (sub !== 'create') {
      throw new CountersignError(
        'ERR_INVALID_INPUT',
        `unknown trusted-root command ${JSON.stringify(sub ?? '')}: use create`,
      )
    }
    if (rest.length > 0) throw new CountersignError('ERR_INVALID_INPUT', 'trusted-root create takes no arguments')
    const seed =
      f['with-default-services'] === true
        ? seedFrom((await cliTrust(io)).trustedRoot, f)
        : { certificateAuthorities: [], tlogs: [], ctlogs: [], timestampAuthorities: [] }
    const specs = (name: SpecKind) => f[name] as string[]
    const input = {
      certificateAuthorities: [
        ...seed.certificateAuthorities,
        ...(await Promise.all(specs('fulcio').map((s) => authoritySpec('fulcio', s, io)))),
      ],
      tlogs: [...seed.tlogs, ...(await Promise.all(specs('rekor').map((s) => logSpec('rekor', s, io))))],
      ctlogs: [...seed.ctlogs, ...(await Promise.all(specs('ctfe').map((s) => logSpec('ctfe', s, io))))],
      timestampAuthorities: [
        ...seed.timestampAuthorities,
        ...(await Promise.all(specs('tsa').map((s) => authoritySpec('tsa', s, io)))),
      ],
    }
    let root: ReturnType<typeof createTrustedRoot>
    try {
      root = createTrustedRoot(input)
    } catch (e) {
      // An entry a flag gave is reported as cosign does, against that flag's spec.
      if (!isCountersignError(e, 'ERR_INVALID_INPUT')) throw e
      const { list, index, reason } = e.details ?? {}
      const kind = typeof list === 'string' ? SPEC_OF_LIST[list] : undefined
      // Entries before `seeded` came from the default services, not from a flag.
      const seeded = kind ? seed[list as keyof typeof seed].length : 0
      if (kind && typeof index === 'number' && index >= seeded) throw specError(kind, String(reason), e)
      throw e
    }
    const json = JSON.stringify(root)
    const out = stringFlag(f, 'out')
    // cosign: os.WriteFile(out, json, 0600) without a newline; fmt.Println to stdout with one.
    if (out) await writeFile(resolve(io.cwd, out), json, { mode: 0o600 })
    else io.stdout.write(`${json}\n`)
    return 0
  },
}
