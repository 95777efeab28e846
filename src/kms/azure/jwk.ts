/** Key Vault JSON Web Keys (RFC 7517 as Key Vault returns them) → SubjectPublicKeyInfo. @module */
import { CountersignError } from '../../errors.js'
import { concat, fromBase64 } from '../../internal/bytes.js'
import { encodeInteger, encodeSequence } from '../../internal/der.js'
import { CURVES } from '../../keys/algorithms.js'
import { encodeECSPKI, encodeRSASPKI, parseSPKI } from '../../keys/parse-public.js'
import type { PublicKey } from '../../keys/types.js'

const CURVE_BY_CRV: Readonly<Record<string, keyof typeof CURVES>> = {
  'P-256': 'ecdsa-p256',
  'P-384': 'ecdsa-p384',
  'P-521': 'ecdsa-p521',
}

function member(jwk: Record<string, unknown>, name: string): Uint8Array {
  const v = jwk[name]
  // Key Vault sends base64url without padding; anything else is not a JWK member.
  if (typeof v !== 'string' || !/^[A-Za-z0-9_-]+$/.test(v)) {
    throw new CountersignError('ERR_KMS', `Azure Key Vault key has no valid "${name}"`, {
      details: { provider: 'azurekms', reason: 'bad-response' },
    })
  }
  return fromBase64(v)
}

/**
 * The public key of a Key Vault JWK: `EC`/`EC-HSM` on P-256/P-384/P-521 or `RSA`/`RSA-HSM` (HSM suffixes dropped, as
 * sigstore does). The SPKI is built and then parsed by the strict key parser (point on curve, RSA size policy).
 *
 * @throws {CountersignError} ERR_UNSUPPORTED_ALGORITHM for other key types or curves (e.g. `P-256K`, `oct`).
 */
export function publicKeyFromJWK(jwk: Record<string, unknown>): PublicKey {
  const kty = typeof jwk.kty === 'string' ? jwk.kty.replace(/-HSM$/, '') : ''
  let spki: Uint8Array
  if (kty === 'EC') {
    const crv = typeof jwk.crv === 'string' ? jwk.crv : ''
    const algorithm = Object.hasOwn(CURVE_BY_CRV, crv) ? CURVE_BY_CRV[crv] : undefined
    if (!algorithm) {
      throw new CountersignError(
        'ERR_UNSUPPORTED_ALGORITHM',
        `Azure Key Vault EC curve ${JSON.stringify(crv.slice(0, 20))} is not supported`,
      )
    }
    const curve = CURVES[algorithm]
    const pad = (b: Uint8Array) => {
      if (b.length > curve.size)
        throw new CountersignError('ERR_KMS', 'Azure Key Vault EC coordinate too long', {
          details: { provider: 'azurekms', reason: 'bad-response' },
        })
      return concat(new Uint8Array(curve.size - b.length), b)
    }
    spki = encodeECSPKI(curve, concat(new Uint8Array([4]), pad(member(jwk, 'x')), pad(member(jwk, 'y'))))
  } else if (kty === 'RSA') {
    spki = encodeRSASPKI(encodeSequence(encodeInteger(member(jwk, 'n')), encodeInteger(member(jwk, 'e'))))
  } else {
    throw new CountersignError(
      'ERR_UNSUPPORTED_ALGORITHM',
      `Azure Key Vault key type ${JSON.stringify(String(jwk.kty).slice(0, 20))} cannot sign`,
    )
  }
  try {
    return parseSPKI(spki)
  } catch (cause) {
    if (cause instanceof CountersignError && cause.code === 'ERR_UNSUPPORTED_ALGORITHM') throw cause
    throw new CountersignError('ERR_KMS', 'Azure Key Vault returned an invalid public key', {
      cause,
      details: { provider: 'azurekms', reason: 'bad-response' },
    })
  }
}
