/**
 * Policies that name their own certificate authorities (ClusterImagePolicy `keyless.ca-cert`, Kyverno `roots` and
 * `certChain`): the PEM certificates replace the trusted root's CAs; its logs and timestamp authorities stay.
 * @module
 */
import { CountersignError } from '../errors.js'
import { decodePEMBlocks } from '../internal/pem.js'
import type { TrustedRoot } from '../trust/trusted-root.js'

/**
 * `root` with its certificate authorities replaced by the certificates of `pem` (one chain).
 *
 * @throws {CountersignError} ERR_INVALID_INPUT when `pem` is malformed or holds no certificate.
 * @example
 * ```ts
 * const root = withCertificateAuthorities(publicGoodTrustedRoot(), caPEM)
 * ```
 */
export function withCertificateAuthorities(root: TrustedRoot, pem: string): TrustedRoot {
  let certChain: Uint8Array[]
  try {
    certChain = decodePEMBlocks(pem)
      .filter((b) => b.label === 'CERTIFICATE')
      .map((b) => b.bytes)
  } catch (cause) {
    throw new CountersignError('ERR_INVALID_INPUT', (cause as Error).message, { cause })
  }
  if (certChain.length === 0) throw new CountersignError('ERR_INVALID_INPUT', 'holds no certificate')
  return {
    ...root,
    certificateAuthorities: [{ subject: {}, uri: '', certChain, validFor: { start: new Date(0) } }],
  }
}
