/**
 * A real {@link ImageCheck} built from what exists today: `verifyImage` by key against a registry. The policy
 * evaluator's `createPolicyImageCheck` replaces it in production; the webhook tests only need the contract.
 */
import type { ImageCheck } from '../../src/admission/types.js'
import { isCountersignError } from '../../src/errors.js'
import { verifyImage } from '../../src/image/verify.js'
import type { PublicKey } from '../../src/keys/index.js'
import { parseReference } from '../../src/oci/reference.js'
import type { OCIStore } from '../../src/oci/types.js'

/** Verdicts (not errors): the image is there and unsigned, wrongly signed, or missing. */
const POLICY_FAILURES = [
  'ERR_NO_SIGNATURES',
  'ERR_NO_MATCHING_SIGNATURES',
  'ERR_OCI_NOT_FOUND',
  'ERR_OCI_REFERENCE_INVALID',
]

export interface KeyCheckOptions {
  readonly store: OCIStore
  readonly keys: readonly PublicKey[]
  /** Called once per verification that reached the registry (not for cache hits). */
  readonly onVerify?: (image: string) => void
}

export function createKeyImageCheck(options: KeyCheckOptions): ImageCheck {
  return async (image, context) => {
    let ref: ReturnType<typeof parseReference>
    try {
      ref = parseReference(image)
    } catch (e) {
      return { image, allowed: false, warnings: [], reasons: [(e as Error).message] }
    }
    options.onVerify?.(image)
    try {
      const result = await verifyImage(ref, {
        store: options.store,
        keys: options.keys,
        insecureIgnoreTlog: true,
        ...(context.signal ? { signal: context.signal } : {}),
      })
      return { image, allowed: true, digest: result.digest, warnings: [], reasons: [] }
    } catch (e) {
      if (isCountersignError(e) && POLICY_FAILURES.includes(e.code))
        return { image, allowed: false, warnings: [], reasons: e.message.split(/\n\s*/) }
      throw e
    }
  }
}
