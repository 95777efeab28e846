/**
 * The keyless verification flags of `verify`, `verify-attestation`, `verify-blob` and `verify-blob-attestation`
 * (the certificate identity and issuer, GitHub workflow claims, trusted root) and how they map onto
 * {@link SigstoreVerificationOptions}, following cosign's mode selection (`cmd/cosign/cli/options/certificate.go`,
 * `cmd/cosign/cli/verify/verify.go`).
 * @module
 */

import { nodeSignatureBackend } from '../../node/signature-backend.js'
import type { SigstoreVerificationOptions } from '../../verifier/sigstore-check.js'
import type { IdentityPolicy } from '../../x509/identity.js'
import { type FlagSpec, type ParsedFlags, stringFlag } from '../args.js'
import { type CliIO, loadTrustedRoot } from '../context.js'
import { useOfflineTrust } from '../trust-source.js'
import { INSECURE_IGNORE_SCT_FLAG, OFFLINE_FLAG, TRUSTED_ROOT_FLAG, USE_SIGNED_TIMESTAMPS_FLAG } from './trust.js'

/**
 * The certificate identity and issuer a keyless signature must carry, exact or as an RE2 pattern.
 *
 * @example
 * const flags: readonly FlagSpec[] = [SIGNING_KEY_FLAG, ...IDENTITY_FLAGS]
 */
export const IDENTITY_FLAGS: readonly FlagSpec[] = [
  { name: 'certificate-identity', type: 'string', help: 'keyless: the identity (SAN) expected in the certificate' },
  {
    name: 'certificate-identity-regexp',
    type: 'string',
    help: 'keyless: RE2 pattern the certificate identity matches',
  },
  { name: 'certificate-oidc-issuer', type: 'string', help: 'keyless: the OIDC issuer expected in the certificate' },
  { name: 'certificate-oidc-issuer-regexp', type: 'string', help: 'keyless: RE2 pattern the OIDC issuer matches' },
]

/** The GitHub Actions claims (Fulcio certificate extensions) a keyless signature may be pinned to. */
const GITHUB_WORKFLOW_FLAGS: readonly FlagSpec[] = [
  { name: 'certificate-github-workflow-trigger', type: 'string', help: 'keyless: expected GitHub workflow trigger' },
  { name: 'certificate-github-workflow-sha', type: 'string', help: 'keyless: expected GitHub workflow commit SHA' },
  { name: 'certificate-github-workflow-name', type: 'string', help: 'keyless: expected GitHub workflow name' },
  {
    name: 'certificate-github-workflow-repository',
    type: 'string',
    help: 'keyless: expected GitHub workflow repository',
  },
  { name: 'certificate-github-workflow-ref', type: 'string', help: 'keyless: expected GitHub workflow ref' },
]

/**
 * Every keyless verification flag (without `--insecure-ignore-tlog`, which each verb places with its own help).
 *
 * @example
 * const flags: readonly FlagSpec[] = [VERIFICATION_KEYS_FLAG, INSECURE_IGNORE_TLOG_FLAG, ...KEYLESS_FLAGS]
 */
export const KEYLESS_FLAGS: readonly FlagSpec[] = [
  ...IDENTITY_FLAGS,
  ...GITHUB_WORKFLOW_FLAGS,
  TRUSTED_ROOT_FLAG,
  OFFLINE_FLAG,
  INSECURE_IGNORE_SCT_FLAG,
  USE_SIGNED_TIMESTAMPS_FLAG,
]

/**
 * The Sigstore options of a verb: an identity policy when no key is given (the library reports cosign's errors
 * for a missing identity or issuer, or for a key together with an identity), and the trusted root whenever it is
 * needed (keyless, or a key without `--insecure-ignore-tlog`).
 *
 * @example
 * const sigstore = await sigstoreOptionsFromFlags(flags, io, keys.length > 0, flags['insecure-ignore-tlog'] === true)
 */
export async function sigstoreOptionsFromFlags(
  f: ParsedFlags,
  io: CliIO,
  hasKey: boolean,
  insecureIgnoreTlog: boolean,
): Promise<SigstoreVerificationOptions> {
  if (f.offline === true) useOfflineTrust(io)
  const subject = stringFlag(f, 'certificate-identity')
  const subjectRegExp = stringFlag(f, 'certificate-identity-regexp')
  const claims = {
    githubWorkflowTrigger: stringFlag(f, 'certificate-github-workflow-trigger'),
    githubWorkflowSha: stringFlag(f, 'certificate-github-workflow-sha'),
    githubWorkflowName: stringFlag(f, 'certificate-github-workflow-name'),
    githubWorkflowRepository: stringFlag(f, 'certificate-github-workflow-repository'),
    githubWorkflowRef: stringFlag(f, 'certificate-github-workflow-ref'),
  }
  const policy: Record<string, string> = {}
  for (const [k, v] of Object.entries({
    subject,
    subjectRegExp,
    issuer: stringFlag(f, 'certificate-oidc-issuer'),
    issuerRegExp: stringFlag(f, 'certificate-oidc-issuer-regexp'),
    ...claims,
  })) {
    if (v !== undefined) policy[k] = v
  }
  // With a key, only identity flags make it a (refused) mixed mode; issuer or workflow flags alone are ignored.
  const keyless = !hasKey || subject !== undefined || subjectRegExp !== undefined
  const needsRoot = keyless || !insecureIgnoreTlog
  return {
    ...(keyless ? { identity: policy as IdentityPolicy } : {}),
    ...(needsRoot ? { trustedRoot: await loadTrustedRoot(stringFlag(f, 'trusted-root'), io) } : {}),
    insecureIgnoreTlog,
    insecureIgnoreSct: f['insecure-ignore-sct'] === true,
    useSignedTimestamps: f['use-signed-timestamps'] === true,
    // Node's synchronous verify is several times faster than Web Crypto here and accepts the same bundles.
    signatureBackend: nodeSignatureBackend,
  }
}

/**
 * cosign's header lines for what was checked (`cmd/cosign/cli/verify/common.go PrintVerificationHeader`).
 *
 * @example
 * io.stderr.write(`${checkedLines(sigstore, keys.length > 0).join('\n')}\n`)
 */
export function checkedLines(options: SigstoreVerificationOptions, hasKey: boolean): string[] {
  const lines: string[] = []
  if (options.insecureIgnoreTlog !== true) {
    lines.push('  - Existence of the claims in the transparency log was verified offline')
  }
  if (hasKey) lines.push('  - The signatures were verified against the specified public key')
  else lines.push('  - The code-signing certificate was verified using trusted certificate authority certificates')
  return lines
}
