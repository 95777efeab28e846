/** A reusable verifier bound to one trusted root. @module */

import { merged } from '../internal/merged.js'
import type { TrustedRoot } from '../trust/trusted-root.js'
import type { ArtifactInput } from './signature.js'
import {
  type BundlePolicy,
  type BundleVerificationResult,
  type BundleVerifierOptions,
  verifyBundle,
} from './verify-bundle.js'

/**
 * A verifier created once per trusted root: the root is parsed once, and the certificates, log keys and imported
 * Web Crypto keys it holds are cached on its objects, so every later `verify` skips that work.
 *
 * Exported from `countersign/verify`.
 */
export interface BundleVerifier {
  verify(
    bundle: Uint8Array | unknown,
    artifact: ArtifactInput | undefined,
    policy: BundlePolicy,
  ): Promise<BundleVerificationResult>
}

/**
 * Create a {@link BundleVerifier} for `trustedRoot` with fixed thresholds.
 *
 * @example
 * ```ts
 * import { createVerifier } from 'countersign/verify'
 * import { publicGoodTrustedRoot } from 'countersign/trust'
 * const verifier = createVerifier(publicGoodTrustedRoot())
 * await verifier.verify(bundleBytes, artifact, { identity: { subject: 'me@example.com', issuer: 'https://accounts.google.com' } })
 * ```
 *
 * Exported from `countersign/verify`.
 */
export function createVerifier(trustedRoot: TrustedRoot, options: BundleVerifierOptions = {}): BundleVerifier {
  return {
    verify: (bundle, artifact, policy) => verifyBundle(bundle, artifact, merged(options, { trustedRoot, policy })),
  }
}
