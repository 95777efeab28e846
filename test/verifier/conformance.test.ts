/**
 * Every bundle case under test/vectors/bundles (upstream sources in its SOURCE.md) must give the verdict its
 * case.json states, with the options it names (verifierOptions, key, identity, keyValidFor, checkSubject).
 */
import { describe, expect, it } from 'vitest'
import type { SignatureBackend } from '../../src/keys/verify.js'
import { nodeSignatureBackend } from '../../src/node/signature-backend.js'
import { verifyBundle } from '../../src/verifier/verify-bundle.js'
import { caseNames, countersignInputs, countersignRoot, loadCase } from '../support/bundle-cases.js'

/**
 * The error code each fail case must fail with: the check its case.json "why" names (reviewed case by case; e.g.
 * a corrupted inclusion proof is ERR_TLOG_INCLUSION_PROOF, a body that logs another signature
 * ERR_TLOG_ENTRY_MISMATCH, an expired leaf ERR_CERT_EXPIRED). `conformance-managed-key-wrong-key_fail` ships a
 * key.pub whose point is not on the curve, so it fails while loading the key.
 */
const FAIL_CODES = new Map<string, string>([
  ['conformance-bundle-empty-certificate-chain_fail', 'ERR_BUNDLE_INVALID'],
  ['conformance-bundle-from-wrong-instance_fail', 'ERR_TLOG_INCLUSION_PROOF'],
  ['conformance-bundle-invalid-base64-signature_fail', 'ERR_BUNDLE_INVALID'],
  ['conformance-bundle-malformed-json_fail', 'ERR_BUNDLE_INVALID'],
  ['conformance-bundle-unknown-version_fail', 'ERR_BUNDLE_INVALID'],
  ['conformance-bundle-with-root-cert_fail', 'ERR_CERT_CHAIN_INVALID'],
  ['conformance-checkpoint-bad-keyhint_fail', 'ERR_TLOG_INCLUSION_PROOF'],
  ['conformance-dsse-invalid-sig_fail', 'ERR_TLOG_ENTRY_MISMATCH'],
  ['conformance-dsse-mismatch-envelope_fail', 'ERR_TLOG_ENTRY_MISMATCH'],
  ['conformance-inclusion-proof-corrupted-hash_fail', 'ERR_TLOG_INCLUSION_PROOF'],
  ['conformance-integrated-time-in-future_fail', 'ERR_CERT_EXPIRED'],
  ['conformance-intoto-expired-certificate_fail', 'ERR_CERT_EXPIRED'],
  ['conformance-intoto-missing-inclusion-proof_fail', 'ERR_TLOG_INCLUSION_PROOF'],
  ['conformance-intoto-set-outside-signing-cert-validity_fail', 'ERR_CERT_EXPIRED'],
  ['conformance-intoto-tsa-timestamp-outside-cert-validity_fail', 'ERR_CERT_EXPIRED'],
  ['conformance-invalid-checkpoint-signature_fail', 'ERR_TLOG_INCLUSION_PROOF'],
  ['conformance-invalid-ct-key_fail', 'ERR_CERT_CHAIN_INVALID'],
  ['conformance-invalid-inclusion-proof_fail', 'ERR_TLOG_INCLUSION_PROOF'],
  ['conformance-managed-key-no-key_fail', 'ERR_POLICY_DENIED'],
  ['conformance-managed-key-wrong-key_fail', 'ERR_KEY_INVALID'],
  ['conformance-rekor2-checkpoint-missing-log-signature_fail', 'ERR_TLOG_INCLUSION_PROOF'],
  ['conformance-rekor2-checkpoint-missing-origin_fail', 'ERR_TLOG_INCLUSION_PROOF'],
  ['conformance-rekor2-checkpoint-missing-root-hash_fail', 'ERR_TLOG_INCLUSION_PROOF'],
  ['conformance-rekor2-checkpoint-no-matching-signature_fail', 'ERR_TLOG_INCLUSION_PROOF'],
  ['conformance-rekor2-dsse-invalid-sig_fail', 'ERR_TLOG_ENTRY_MISMATCH'],
  ['conformance-rekor2-dsse-mismatch-sig_fail', 'ERR_TLOG_ENTRY_MISMATCH'],
  ['conformance-rekor2-no-inclusion-proof_fail', 'ERR_TLOG_INCLUSION_PROOF'],
  ['conformance-rekor2-no-timestamp_fail', 'ERR_TIMESTAMP_INVALID'],
  ['conformance-rekor2-timestamp-outside-trust-root-tsa-validity_fail', 'ERR_TIMESTAMP_INVALID'],
  ['conformance-rekor2-timestamp-outside-tsa-cert-validity_fail', 'ERR_TIMESTAMP_INVALID'],
  ['conformance-rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail', 'ERR_TIMESTAMP_INVALID'],
  ['conformance-rekor2-timestamp-with-incorrect-time_fail', 'ERR_CERT_EXPIRED'],
  ['conformance-signature-mismatch_fail', 'ERR_TLOG_ENTRY_MISMATCH'],
  ['conformance-trust-root-tlog-missing-validity-start_fail', 'ERR_INVALID_INPUT'],
  ['conformance-wrong-hashedrekord-artifact_fail', 'ERR_TLOG_ENTRY_MISMATCH'],
  ['conformance-wrong-hashedrekord-cert-and-sig_fail', 'ERR_TLOG_ENTRY_MISMATCH'],
  ['conformance-wrong-material_fail', 'ERR_TLOG_ENTRY_MISMATCH'],
  ['cosign-oci-attestation-wrong-identity_fail', 'ERR_POLICY_DENIED'],
  ['cosign-oci-attestation-wrong-image_fail', 'ERR_CLAIMS_INVALID'],
  ['sigstore-go-othername-san-email-identity_fail', 'ERR_POLICY_DENIED'],
  ['sigstore-go-public-key-validity-expired-key_fail', 'ERR_CERT_EXPIRED'],
  ['sigstore-js-client-v0.1-message-signature-wrong-artifact_fail', 'ERR_TLOG_ENTRY_MISMATCH'],
  ['sigstore-python-cpython-3.12.5-v0.1-proof-without-checkpoint_fail', 'ERR_TLOG_INCLUSION_PROOF'],
  ['sigstore-python-empty-cert-chain-v0.1_fail', 'ERR_BUNDLE_INVALID'],
  ['sigstore-python-invalid-media-type_fail', 'ERR_BUNDLE_INVALID'],
  ['sigstore-python-no-log-entry_fail', 'ERR_TLOG_INCLUSION_PROOF'],
  ['sigstore-python-tsa-duplicate-timestamps_fail', 'ERR_TIMESTAMP_INVALID'],
  ['sigstore-python-tsa-late-timestamp_fail', 'ERR_TIMESTAMP_INVALID'],
  ['sigstore-python-tsa-no-timestamp-authorities_fail', 'ERR_TIMESTAMP_INVALID'],
  ['sigstore-python-tsa-outside-trust-root-validity_fail', 'ERR_INVALID_INPUT'],
  ['sigstore-python-tsa-too-many-timestamps_fail', 'ERR_TIMESTAMP_INVALID'],
  ['sigstore-python-v0.2-inclusion-proof-without-checkpoint_fail', 'ERR_TLOG_INCLUSION_PROOF'],
])

/** Cases the shared verdict policy lets a client decide either way (shared/README.md). */
const OPTIONAL = new Set(['sigstore-js-client-v0.4-media-type-accepted'])

async function run(name: string, signatureBackend: SignatureBackend | undefined): Promise<unknown> {
  const inputs = countersignInputs(loadCase(name))
  return verifyBundle(inputs.bundle, inputs.artifact, {
    trustedRoot: countersignRoot(inputs),
    policy: inputs.policy,
    ...inputs.options,
    signatureBackend,
  })
}

// Every verdict and failure code must be the same with the default Web Crypto backend and with Node's.
const BACKENDS: readonly [string, SignatureBackend | undefined][] = [
  ['Web Crypto', undefined],
  ['nodeSignatureBackend', nodeSignatureBackend],
]

describe.each(BACKENDS)('Sigstore bundle conformance (test/vectors/bundles), %s', (_, backend) => {
  for (const name of caseNames()) {
    const { c } = loadCase(name)
    const want = OPTIONAL.has(name) ? 'either' : c.expect
    it(`${name} → ${want}`, async () => {
      let outcome: 'pass' | 'fail'
      let error: unknown
      try {
        // Parsing the trusted root and the key are part of the case (a root missing a validity start is rejected).
        await run(name, backend)
        outcome = 'pass'
      } catch (e) {
        outcome = 'fail'
        error = e
      }
      if (want === 'either') return
      const detail = error instanceof Error ? `${(error as { code?: string }).code}: ${error.message}` : ''
      expect(outcome, `${c.why}\n${detail}`).toBe(want)
      if (want === 'fail') expect((error as { code?: string }).code, `${c.why}\n${detail}`).toBe(FAIL_CODES.get(name))
    })
  }
})
