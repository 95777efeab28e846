/**
 * cosign's keyless and Sigstore flags, shared by `verify`, `verify-attestation` and `verify-blob`, and how they map
 * onto {@link SigstoreVerificationOptions} (cosign.md §5.1 "Mode selection").
 * @module
 */
import { CountersignError } from '../errors.js'
import type { HashAlgorithm } from '../keys/types.js'
import { nodeSignatureBackend } from '../node/signature-backend.js'
import type { SigstoreVerificationOptions } from '../verifier/sigstore-check.js'
import type { IdentityPolicy } from '../x509/identity.js'
import { type FlagSpec, type ParsedFlags, stringFlag } from './args.js'
import { type CliIO, loadTrustedRoot } from './context.js'

/** The flags (without `--insecure-ignore-tlog`, which each verb already declares). */
export const KEYLESS_FLAGS: readonly FlagSpec[] = [
  { name: 'certificate-identity', type: 'string', help: 'keyless: the identity (SAN) expected in the certificate' },
  {
    name: 'certificate-identity-regexp',
    type: 'string',
    help: 'keyless: RE2 pattern the certificate identity matches',
  },
  { name: 'certificate-oidc-issuer', type: 'string', help: 'keyless: the OIDC issuer expected in the certificate' },
  { name: 'certificate-oidc-issuer-regexp', type: 'string', help: 'keyless: RE2 pattern the OIDC issuer matches' },
  { name: 'certificate-github-workflow-trigger', type: 'string', help: 'keyless: expected GitHub workflow trigger' },
  { name: 'certificate-github-workflow-sha', type: 'string', help: 'keyless: expected GitHub workflow commit SHA' },
  { name: 'certificate-github-workflow-name', type: 'string', help: 'keyless: expected GitHub workflow name' },
  {
    name: 'certificate-github-workflow-repository',
    type: 'string',
    help: 'keyless: expected GitHub workflow repository',
  },
  { name: 'certificate-github-workflow-ref', type: 'string', help: 'keyless: expected GitHub workflow ref' },
  {
    name: 'trusted-root',
    type: 'string',
    help: 'Sigstore trusted_root.json (default: the embedded public-good root)',
  },
  { name: 'insecure-ignore-sct', type: 'bool', help: 'do not require an embedded SCT in the certificate' },
  { name: 'use-signed-timestamps', type: 'bool', help: 'require a verified RFC 3161 timestamp' },
]

/**
 * The Sigstore options of a verb: an identity policy when no key is given (the library reports cosign's errors
 * for a missing identity or issuer, or for a key together with an identity), and the trusted root whenever it is
 * needed (keyless, or a key without `--insecure-ignore-tlog`).
 */
export async function sigstoreOptionsFromFlags(
  f: ParsedFlags,
  io: CliIO,
  hasKey: boolean,
  insecureIgnoreTlog: boolean,
): Promise<SigstoreVerificationOptions> {
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

/** cosign's header lines for what was checked (`cmd/cosign/cli/verify/common.go PrintVerificationHeader`). */
export function checkedLines(options: SigstoreVerificationOptions, hasKey: boolean): string[] {
  const lines: string[] = []
  if (options.insecureIgnoreTlog !== true) {
    lines.push('  - Existence of the claims in the transparency log was verified offline')
  }
  if (hasKey) lines.push('  - The signatures were verified against the specified public key')
  else lines.push('  - The code-signing certificate was verified using trusted certificate authority certificates')
  return lines
}

/** `--signature-digest-algorithm`: sha256 (cosign's default), sha384 or sha512; `undefined` when not given. */
export function digestAlgorithmFlag(value: unknown): HashAlgorithm | undefined {
  if (value === undefined) return undefined
  const hash = String(value)
  if (hash !== 'sha256' && hash !== 'sha384' && hash !== 'sha512') {
    throw new CountersignError('ERR_UNSUPPORTED_ALGORITHM', `unsupported digest algorithm: ${hash}`)
  }
  return hash
}

/** `-o/--output`: json (default) or text. */
export function outputFlag(value: unknown): 'json' | 'text' {
  const output = String(value)
  if (output !== 'json' && output !== 'text') {
    throw new CountersignError('ERR_INVALID_INPUT', `unsupported output format: ${output}`)
  }
  return output
}
