/**
 * What both policy kinds do to verify an authority or attestor: run the image signature or attestation
 * verification and keep what verified, and turn a key resolver's answer into a non-empty key list.
 * @module
 */
import { type SignatureCheck, verifyImage } from '../image/verify.js'
import { type AttestationCheck, verifyImageAttestations } from '../image/verify-attestation.js'
import type { PublicKey } from '../keys/types.js'
import type { Reference } from '../oci/types.js'

/**
 * The verified signatures (`signatures`) or attestations (`attestations`) of the image at `at`.
 *
 * @throws {CountersignError} as {@link verifyImage} and {@link verifyImageAttestations} (no verified one included).
 * @example
 * ```ts
 * const verified = await verifiedChecks('signatures', at, { store, keys })
 * ```
 */
export async function verifiedChecks(
  kind: 'signatures' | 'attestations',
  at: Reference,
  options: Parameters<typeof verifyImage>[1],
): Promise<readonly (SignatureCheck | AttestationCheck)[]> {
  if (kind === 'signatures') return (await verifyImage(at, options)).verified
  return (await verifyImageAttestations(at, options)).verified
}

/**
 * A resolver's keys as a list.
 *
 * @throws {Error} "no public keys" when the resolver returned none; the resolver's own errors as they are.
 * @example
 * ```ts
 * const keys = await resolvedKeyList(() => options.resolveKMSKey!(uri, call))
 * ```
 */
export async function resolvedKeyList(resolve: () => Promise<PublicKey | readonly PublicKey[]>): Promise<PublicKey[]> {
  const got = await resolve()
  const list = Array.isArray(got) ? [...got] : [got as PublicKey]
  if (list.length === 0) throw new Error('no public keys')
  return list
}
