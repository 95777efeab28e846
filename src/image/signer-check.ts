/**
 * Who signed one image signature or attestation: the given keys offline, or the Sigstore check (keyless, or a key
 * with the transparency log). Shared by the bundle form, the legacy `.sig` form and legacy `.att` attestations, so
 * the three agree on which failures become a per-signature reason and which propagate.
 * @module
 */
import { CountersignError } from '../errors.js'
import type { VerificationMode } from '../verifier/sigstore-check.js'
import type { Certificate } from '../x509/certificate.js'
import type { CertificateIdentity } from '../x509/identity.js'

/** What a verified signature says about its signer: the key that verified it, or the certificate and identity. */
export interface SignerFacts {
  readonly keyIndex?: number
  readonly certificate?: Certificate
  readonly identity?: CertificateIdentity
}

/** How to check one signature in each mode. */
export interface SignerCheckSteps {
  /** Offline key verification: the index of the key that verified, or -1. */
  readonly byKey: () => Promise<number>
  /** The reason recorded when no key verifies (cosign's wording differs between payload kinds). */
  readonly keyFailure: string
  /** The Sigstore check for `mode`; throws a CountersignError saying why it failed. */
  readonly bySigstore: (mode: Exclude<VerificationMode, 'key-offline'>) => Promise<SignerFacts>
}

/**
 * Run the check `mode` selects. A failed check is a reason for this one signature (others may still verify), so a
 * CountersignError becomes `{ reason }`; anything else is a bug or an abort and propagates.
 *
 * @example
 * ```ts
 * const who = await checkSigner(verificationMode(options), {
 *   byKey: () => verifyDSSE(envelope, options.keys, { hash: 'sha256' }),
 *   keyFailure: 'failed to verify signature',
 *   bySigstore: (mode) => verifySigstoreBundle(bundle, { digest }, options, mode),
 * })
 * if ('reason' in who) return fail(who.reason)
 * ```
 */
export async function checkSigner(
  mode: VerificationMode,
  steps: SignerCheckSteps,
): Promise<{ readonly signer: SignerFacts } | { readonly reason: string }> {
  if (mode === 'key-offline') {
    const keyIndex = await steps.byKey()
    return keyIndex < 0 ? { reason: steps.keyFailure } : { signer: { keyIndex } }
  }
  try {
    const r = await steps.bySigstore(mode)
    return {
      signer: {
        ...(r.keyIndex !== undefined ? { keyIndex: r.keyIndex } : {}),
        ...(r.certificate ? { certificate: r.certificate } : {}),
        ...(r.identity ? { identity: r.identity } : {}),
      },
    }
  } catch (e) {
    if (!(e instanceof CountersignError)) throw e
    return { reason: e.message }
  }
}
