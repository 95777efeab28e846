/**
 * cosign's signing flags shared by `sign`, `attest`, `sign-blob` and `attest-blob`: which signer (a key file, or
 * keyless through an OIDC token and Fulcio), which Sigstore services witness the signature (signing config or
 * explicit URLs), and cosign's privacy confirmation before an identity goes to a public log.
 * @module
 */
import { readFile, stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { Signer, SigningAlgorithm } from '../../contracts/signer.js'
import type { WitnessResult } from '../../contracts/witness-result.js'
import { CountersignError } from '../../errors.js'
import { createKeylessSigner } from '../../fulcio/keyless-signer.js'
import { createNodeFetch } from '../../node/fetch.js'
import { loginInteractively } from '../../node/oidc-login.js'
import { detectIdentityToken, staticIdentityToken } from '../../oidc/providers.js'
import { createKeySigner } from '../../signers/key-signer.js'
import { publicGoodTrustedRoot } from '../../trust/public-good.js'
import { parseSigningConfig } from '../../trust/signing-config.js'
import { createSigstoreServices } from '../../witness/services.js'
import type { TransparencyOptions } from '../../witness/signing.js'
import { type FlagSpec, type ParsedFlags, stringFlag, withHelp } from '../args.js'
import { confirmContinue } from '../confirm.js'
import { type CliIO, loadTrustedRoot } from '../context.js'
import { loadSigningKey } from '../key-refs.js'
import { isKMSKey, kmsSigner } from '../kms.js'
import { cliTrust } from '../trust-source.js'
import { INSECURE_IGNORE_SCT_FLAG, TRUSTED_ROOT_FLAG } from './trust.js'

/**
 * The signing flags (each verb adds `--key` and its own): transparency upload, keyless token and login, Sigstore
 * services, and the trusted root their answers are checked against.
 *
 * @example
 * const flags: readonly FlagSpec[] = [SIGNING_KEY_FLAG, ...SIGNING_FLAGS, ...REGISTRY_FLAGS]
 */
export const SIGNING_FLAGS: readonly FlagSpec[] = [
  { name: 'tlog-upload', type: 'bool', default: true, help: 'upload the signature to the transparency log' },
  { name: 'yes', short: 'y', type: 'bool', help: 'skip confirmation prompts (the transparency-log privacy notice)' },
  { name: 'identity-token', type: 'string', help: 'keyless: an OIDC identity token, or a file holding one' },
  { name: 'oidc-issuer', type: 'string', help: 'keyless: OIDC provider for the interactive login' },
  { name: 'oidc-client-id', type: 'string', default: 'sigstore', help: 'keyless: OIDC client ID' },
  {
    name: 'oidc-disable-ambient-providers',
    type: 'bool',
    help: 'keyless: do not take tokens from the environment (GitHub Actions, SIGSTORE_ID_TOKEN)',
  },
  { name: 'fulcio-url', type: 'string', help: 'Fulcio URL (instead of the signing config)' },
  { name: 'rekor-url', type: 'string', help: 'Rekor v1 URL (instead of the signing config)' },
  {
    name: 'timestamp-server-url',
    type: 'string',
    help: 'RFC 3161 timestamp authority URL (instead of the signing config)',
  },
  {
    name: 'signing-config',
    type: 'string',
    help: 'Sigstore signing_config.json naming the services (default: from the TUF repository)',
  },
  {
    name: 'use-signing-config',
    type: 'bool',
    default: true,
    help: 'take services from the signing config (false: the URL flags and cosign defaults)',
  },
  withHelp(
    TRUSTED_ROOT_FLAG,
    'Sigstore trusted_root.json that service answers are verified against (default: from the TUF repository)',
  ),
  withHelp(INSECURE_IGNORE_SCT_FLAG, 'keyless: do not require an SCT in the Fulcio certificate'),
]

/** cosign's privacy statement (`cmd/cosign/cli/sign/privacy`), shown before an identity is logged publicly. */
const PRIVACY_STATEMENT = `
	The sigstore service, hosted by sigstore a Series of LF Projects, LLC, is provided pursuant to the Hosted Project Tools Terms of Use, available at https://lfprojects.org/policies/hosted-project-tools-terms-of-use/.
	Note that if your submission includes personal data associated with this signed artifact, it will be part of an immutable record.
	This may include the email address associated with the account with which you authenticate your contractual Agreement.
	This information will be used for signing this artifact and will be stored in public transparency logs and cannot be removed later, and is subject to the Immutable Record notice at https://lfprojects.org/policies/hosted-project-tools-immutable-records/.

By typing 'y', you attest that (1) you are not submitting the personal data of any other person; and (2) you understand and agree to the statement and the Agreement terms at the URLs listed above.`

/** What a signing verb needs. */
export interface SigningSetup {
  readonly signer: Signer
  readonly transparency: TransparencyOptions
  readonly keyless: boolean
}

/** What the verb knows before the flags are read. */
export interface SigningSetupOptions {
  /** Legacy `.sig`/`.att` storage: only Rekor v1 evidence fits its annotations. */
  readonly legacy?: boolean
  /** The key scheme to sign with, from the key (blob signing picks Ed25519 vs Ed25519ph). */
  readonly algorithm?: (key: Awaited<ReturnType<typeof loadSigningKey>>) => SigningAlgorithm | undefined
}

/** `--identity-token`: a token, or the path of a file holding one (cosign accepts both). */
async function explicitToken(value: string, io: CliIO): Promise<string> {
  if (/^[\w-]+\.[\w-]+\.[\w-]*$/.test(value.trim())) return value.trim()
  const path = resolve(io.cwd, value)
  try {
    if ((await stat(path)).isFile()) return (await readFile(path, 'utf8')).trim()
  } catch {
    // Not a file either: report it as a malformed token below, without echoing it.
  }
  throw new CountersignError('ERR_OIDC_TOKEN', '--identity-token is neither a JWT nor a readable file')
}

/**
 * Build the signer and transparency options from the flags. Keyless signing (no `--key`) takes the token from
 * `--identity-token`, then the environment (GitHub Actions, `SIGSTORE_ID_TOKEN`), then an interactive browser login
 * on a terminal; before an identity is logged, cosign's privacy notice must be confirmed (or `--yes`).
 *
 * @example
 * const { signer, transparency } = await signingSetupFromFlags(flags, io, { legacy: true })
 */
export async function signingSetupFromFlags(
  f: ParsedFlags,
  io: CliIO,
  options: SigningSetupOptions = {},
): Promise<SigningSetup> {
  const tlogUpload = f['tlog-upload'] !== false
  const fetch = createNodeFetch({ env: io.env })
  const keyPath = stringFlag(f, 'key')
  const rootPath = stringFlag(f, 'trusted-root')
  // A key signature that is not logged needs no trust material: no TUF look-up for it (the quick start's case).
  const needsTrust = tlogUpload || keyPath === undefined
  const trust = needsTrust && !rootPath ? await cliTrust(io) : undefined
  const trustedRoot = trust?.trustedRoot ?? (rootPath ? await loadTrustedRoot(rootPath, io) : publicGoodTrustedRoot())
  const urls = {
    fulcioUrl: stringFlag(f, 'fulcio-url'),
    rekorUrl: stringFlag(f, 'rekor-url'),
    oidcIssuer: stringFlag(f, 'oidc-issuer'),
    timestampServerUrl: stringFlag(f, 'timestamp-server-url'),
  }
  const configPath = stringFlag(f, 'signing-config')
  // cosign v3 refuses --tlog-upload=false together with its default signing config; like cosign v2 we then take
  // services from the flags only (a TSA only when --timestamp-server-url names one), so nothing else is contacted.
  const explicit =
    f['use-signing-config'] === false ||
    Object.values(urls).some((v) => v !== undefined) ||
    (!tlogUpload && configPath === undefined)
  if (explicit && configPath !== undefined) {
    throw new CountersignError('ERR_INVALID_INPUT', '--signing-config cannot be combined with service URL flags')
  }
  const signingConfig =
    configPath !== undefined ? parseSigningConfig(await readFile(resolve(io.cwd, configPath))) : undefined
  const services = createSigstoreServices({
    fetch,
    userAgent: 'countersign',
    ...(io.secrets !== undefined ? { secrets: io.secrets } : {}),
    trustedRoot,
    ...(options.legacy ? { rekorVersions: [1] } : {}),
    ...(explicit
      ? { urls: Object.fromEntries(Object.entries(urls).filter(([, v]) => v !== undefined)) }
      : signingConfig
        ? { signingConfig }
        : trust?.signingConfig
          ? { signingConfig: trust.signingConfig }
          : {}),
  })
  const transparency: TransparencyOptions = { tlogUpload, witness: services.witness }

  if (keyPath !== undefined && isKMSKey(keyPath)) {
    return { signer: await kmsSigner(keyPath, io), transparency, keyless: false }
  }
  if (keyPath !== undefined) {
    const key = await loadSigningKey(keyPath, io)
    const algorithm = options.algorithm?.(key)
    return { signer: createKeySigner(key, algorithm ? { algorithm } : {}), transparency, keyless: false }
  }

  if (!services.fulcio) {
    throw new CountersignError('ERR_INVALID_INPUT', 'keyless signing needs a Fulcio URL: the signing config names none')
  }
  if (tlogUpload && f.yes !== true) {
    await confirmContinue(io, {
      notice: PRIVACY_STATEMENT,
      code: 'ERR_CONFIRMATION_REQUIRED',
      noTerminal:
        'uploading an identity to the public transparency log needs confirmation and stdin is not a terminal; pass --yes (-y)',
    })
  }
  const token = await identityToken(f, io, fetch, services.oidcIssuer)
  // Wherever it came from (flag, file, environment, login), the token is now one of the run's secrets.
  io.secrets?.add(token)
  const signer = createKeylessSigner({
    fulcio: services.fulcio,
    identityToken: token,
    trustedRoot,
    ...(io.secrets !== undefined ? { secrets: io.secrets } : {}),
    ...(f['insecure-ignore-sct'] === true ? { ctlogThreshold: 0 } : {}),
  })
  io.stderr.write('Generating ephemeral keys...\nRetrieving signed certificate...\n')
  return { signer, transparency, keyless: true }
}

async function identityToken(
  f: ParsedFlags,
  io: CliIO,
  fetch: typeof globalThis.fetch,
  issuer: string | undefined,
): Promise<string> {
  const flag = stringFlag(f, 'identity-token')
  if (flag !== undefined) return staticIdentityToken(await explicitToken(flag, io))()
  if (f['oidc-disable-ambient-providers'] !== true) {
    const detected = detectIdentityToken({
      env: io.env,
      fetch,
      userAgent: 'countersign',
      ...(io.secrets !== undefined ? { secrets: io.secrets } : {}),
    })
    if (detected) return detected.getToken()
  }
  if (io.stdin.isTTY !== true) {
    throw new CountersignError(
      'ERR_OIDC_TOKEN',
      'no identity token: pass --identity-token, set SIGSTORE_ID_TOKEN, run in GitHub Actions with id-token: write, or sign on a terminal to log in',
    )
  }
  return loginInteractively({
    issuer: stringFlag(f, 'oidc-issuer') ?? issuer ?? 'https://oauth2.sigstore.dev/auth',
    clientId: stringFlag(f, 'oidc-client-id') ?? 'sigstore',
    output: (line: string) => io.stderr.write(`${line}\n`),
    fetch,
  })
}

/**
 * cosign's note per logged entry (`tlog entry created with index: N`) and per timestamp.
 *
 * @example
 * reportWitnessed(result.witnessed, io)
 */
export function reportWitnessed(witnessed: WitnessResult | undefined, io: CliIO): void {
  for (const e of witnessed?.verifiedEntries ?? []) {
    io.stderr.write(`tlog entry created with index: ${e.entry.logIndex}\n`)
  }
  for (const t of witnessed?.verifiedTimestamps ?? []) {
    io.stderr.write(`timestamp from ${t.authority.uri || 'the timestamp authority'}: ${t.time.toISOString()}\n`)
  }
}
