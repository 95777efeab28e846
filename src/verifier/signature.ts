/** The artifact checks of bundle verification: the signature over the artifact (or DSSE PAE) and the subject. @module */
import { parseStatement, type Statement, statementHasSubjectDigest } from '../attestation/statement.js'
import type { Bundle } from '../bundle/bundle.js'
import { dssePAE } from '../dsse/pae.js'
import { CountersignError } from '../errors.js'
import { equalBytes, fromHex, toHex } from '../internal/bytes.js'
import { merged } from '../internal/merged.js'
import { rawPublicKey } from '../keys/parse-public.js'
import type { HashAlgorithm, PublicKey, VerifyOptions } from '../keys/types.js'
import { type SignatureBackend, verifySignature } from '../keys/verify.js'
import { sha2Digest } from '../keys/webcrypto.js'
import { IN_TOTO_PAYLOAD_TYPE } from '../oci/media-types.js'
import { sshKeyFingerprint } from './dsse-key-id.js'

/**
 * The artifact: its bytes, or only its digest (`sha256:<hex>` / `sha512:<hex>`).
 *
 * Exported from `countersign/verify`.
 */
export type ArtifactInput = Uint8Array | { readonly digest: string }

const SIG_FAILED = () =>
  new CountersignError('ERR_SIGNATURE_INVALID', 'signature verification failed', { details: { check: 'signature' } })

/** Verify the bundle's signature with `key` against the artifact; `undefined` artifact = no artifact policy. */
export async function checkArtifactSignature(
  bundle: Bundle,
  key: PublicKey,
  artifact: ArtifactInput | undefined,
  backend?: SignatureBackend,
): Promise<void> {
  const c = bundle.content
  if (c.type === 'dsseEnvelope') {
    // verifyDSSE's rule with one key: some signature verifies over the PAE of the exact payload bytes.
    const pae = dssePAE(c.envelope.payloadType, c.envelope.payload)
    let verified = false
    for (const s of c.envelope.signatures) {
      // go-securesystemslib (dsse/verify.go) skips a signature whose key ID is set and is not the key's SSH
      // fingerprint, so sigstore-go refuses it; the key ID is unsigned, but a bundle cosign rejects is rejected here.
      if (s.keyid !== undefined && s.keyid !== sshKeyFingerprint(key)) continue
      if (await verifySignature(key, pae, s.sig, merged(verifyOptionsFor(key), { backend }))) {
        verified = true
        break
      }
    }
    if (!verified) throw SIG_FAILED()
    if (artifact === undefined) return
    if (c.envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
      throw new CountersignError('ERR_DSSE_INVALID', `unsupported DSSE payload type ${c.envelope.payloadType}`)
    }
    const statement = parseStatement(c.envelope.payload)
    if (!(await statementNamesArtifact(statement, artifact))) {
      throw new CountersignError(
        'ERR_CLAIMS_INVALID',
        'provided artifact digest does not match any digest in statement',
        {
          details: { check: 'artifact' },
        },
      )
    }
    return
  }
  if (artifact === undefined) {
    throw new CountersignError('ERR_INVALID_INPUT', 'a message-signature bundle needs the artifact or its digest')
  }
  // The message digest is a hint, never what the signature is checked over, but sigstore-go requires it
  // (pkg/bundle/bundle.go SignatureContent: "missing verification material"; pkg/verify/signature.go: a SHA-2
  // algorithm, and the artifact's digest), so a bundle whose digest was dropped or altered is refused here too.
  const md = c.messageDigest
  if (!md || md.digest.length === 0) {
    throw new CountersignError('ERR_BUNDLE_INVALID', 'the message signature has no message digest', {
      details: { check: 'artifact' },
    })
  }
  const mdHash = hashOf(md.algorithm)
  if (!mdHash) {
    throw new CountersignError(
      'ERR_UNSUPPORTED_ALGORITHM',
      `could not verify message digest algorithm: unsupported digest algorithm ${md.algorithm}`,
      { details: { check: 'artifact' } },
    )
  }
  if (artifact instanceof Uint8Array) {
    if (!equalBytes(await sha2Digest(mdHash, artifact), md.digest)) {
      throw new CountersignError('ERR_CLAIMS_INVALID', 'message digest does not match the artifact', {
        details: { check: 'artifact' },
      })
    }
    const options = merged(verifyOptionsFor(key), { hash: mdHash, backend })
    if (!(await verifySignature(key, artifact, c.signature, options))) throw SIG_FAILED()
    return
  }
  // Only the digest: verify the signature over the prehash (ECDSA; Web Crypto cannot take a prehash).
  const [alg, hex] = splitDigest(artifact.digest)
  const digest = fromHex(hex)
  if (alg !== mdHash || !equalBytes(md.digest, digest)) {
    throw new CountersignError('ERR_CLAIMS_INVALID', 'message digest does not match the artifact digest', {
      details: { check: 'artifact' },
    })
  }
  if (key.algorithm !== 'ecdsa-p256' && key.algorithm !== 'ecdsa-p384' && key.algorithm !== 'ecdsa-p521') {
    throw new CountersignError(
      'ERR_UNSUPPORTED_ALGORITHM',
      `verifying a ${key.algorithm} signature from a digest alone`,
    )
  }
  // Loaded on demand: noble's nist module precomputes tables at import, a cost only this rare path should pay.
  const { p256, p384, p521 } = await import('@noble/curves/nist.js')
  const curve = key.algorithm === 'ecdsa-p256' ? p256 : key.algorithm === 'ecdsa-p384' ? p384 : p521
  let ok = false
  try {
    ok = curve.verify(c.signature, digest, rawPublicKey(key), { prehash: false, format: 'der', lowS: false })
  } catch {
    ok = false
  }
  if (!ok) throw SIG_FAILED()
}

function verifyOptionsFor(key: PublicKey): VerifyOptions {
  switch (key.algorithm) {
    case 'ecdsa-p384':
      return { hash: 'sha384' }
    case 'ecdsa-p521':
      return { hash: 'sha512' }
    default:
      return { hash: 'sha256' }
  }
}

function hashOf(algorithm: string): HashAlgorithm | undefined {
  return ({ SHA2_256: 'sha256', SHA2_384: 'sha384', SHA2_512: 'sha512' } as const)[algorithm as 'SHA2_256']
}

function splitDigest(d: string): [HashAlgorithm | undefined, string] {
  const m = /^(sha256|sha384|sha512):([0-9a-f]+)$/.exec(d)
  if (!m) throw new CountersignError('ERR_INVALID_INPUT', `invalid artifact digest: ${d}`)
  return [m[1] as HashAlgorithm, m[2]!]
}

/** Whether the statement names the artifact: by the given digest, or by its SHA-256 or SHA-512 (computed lazily). */
async function statementNamesArtifact(statement: Statement, artifact: ArtifactInput): Promise<boolean> {
  if (!(artifact instanceof Uint8Array)) return statementHasSubjectDigest(statement, artifact.digest)
  for (const alg of ['sha256', 'sha512'] as const) {
    if (statementHasSubjectDigest(statement, `${alg}:${toHex(await sha2Digest(alg, artifact))}`)) return true
  }
  return false
}
