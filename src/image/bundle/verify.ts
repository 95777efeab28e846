/**
 * Bundle-form verification (cosign v3): list the image's referrers, read each Sigstore bundle as received, and
 * check it with the given keys, or with the Sigstore verifier (keyless, or a key with the transparency log)
 * (docs/formats.md §Reading bundle referrers, §Bundle-format checks).
 * @module
 */
import { parseStatement, type Statement, statementHasSubjectDigest } from '../../attestation/statement.js'
import { type Bundle, parseBundle } from '../../bundle/bundle.js'
import { verifyDSSE } from '../../dsse/verify.js'
import { mapLimit } from '../../internal/concurrency.js'
import { IN_TOTO_PAYLOAD_TYPE } from '../../oci/media-types.js'
import { listReferrers } from '../../oci/referrers.js'
import type { Descriptor, Repository, StoreCallOptions } from '../../oci/types.js'
import { hasAnnotations } from '../../signature/annotations.js'
import { bundleLayer } from '../../signature/bundle-referrer.js'
import { verificationMode, verifySigstoreBundle } from '../../verifier/sigstore-check.js'
import { deliveryFailure } from '../registry-failure.js'
import { checkSigner } from '../signer-check.js'
import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  type SignatureCheck,
  type SkippedReferrer,
  type VerifyImageOptions,
} from '../verify.js'

/** Find the bundles attached to `digest` and check each; referrers that are not valid bundles are skipped. */
export async function checkBundles(
  repo: Repository,
  digest: string,
  options: VerifyImageOptions,
  call: StoreCallOptions,
): Promise<{ readonly checks: readonly SignatureCheck[]; readonly skipped: readonly SkippedReferrer[] }> {
  // No artifactType filter: cosign counts any valid bundle ≥ v0.3, whatever its artifact type.
  const referrers = await listReferrers(options.store, repo, digest, call)
  const found = await mapLimit(referrers, options.maxWorkers ?? 10, (d) => readBundle(repo, d, options, call))
  const checks: SignatureCheck[] = []
  const skipped: SkippedReferrer[] = []
  for (let i = 0; i < found.length; i++) {
    const f = found[i]!
    if ('reason' in f) skipped.push({ descriptor: referrers[i]!, reason: f.reason })
    else checks.push(await checkBundle(f.bundle, f.layer, referrers[i]!, digest, options))
  }
  return { checks, skipped }
}

async function readBundle(
  repo: Repository,
  referrer: Descriptor,
  options: VerifyImageOptions,
  call: StoreCallOptions,
): Promise<{ bundle: Bundle; layer: Descriptor } | { reason: string }> {
  // What is being fetched: the referrer manifest, then its bundle layer.
  let fetching: Descriptor = referrer
  try {
    const { manifest } = await options.store.fetchManifest({ ...repo, digest: referrer.digest }, call)
    const layer = bundleLayer(manifest)
    if (!layer) return { reason: 'not a Sigstore bundle referrer' }
    fetching = layer
    const bytes = await options.store.fetchBlob(repo, layer.digest, {
      ...call,
      maxSize: options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
    })
    const bundle = parseBundle(bytes)
    if (bundle.version !== '0.3') return { reason: `bundle v${bundle.version} is older than v0.3` }
    return { bundle, layer }
  } catch (e) {
    // A registry that failed to deliver stops the verification (it says nothing about the signature); what it
    // delivered and is not a usable bundle is skipped, as cosign skips it.
    const stop = deliveryFailure(e, fetching)
    if (stop) throw stop
    return { reason: e instanceof Error ? e.message : String(e) }
  }
}

async function checkBundle(
  bundle: Bundle,
  layer: Descriptor,
  referrer: Descriptor,
  digest: string,
  options: VerifyImageOptions,
): Promise<SignatureCheck> {
  const base = { format: 'bundle' as const, layer, referrer, bundle }
  const fail = (reason: string, extra?: Partial<SignatureCheck>): SignatureCheck => ({
    ...base,
    ...extra,
    verified: false,
    reasons: [reason],
  })
  if (bundle.content.type !== 'dsseEnvelope') return fail('bundle holds a message signature, not an image signature')
  const envelope = bundle.content.envelope
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    return fail(`invalid payloadType ${envelope.payloadType} on envelope. Expected ${IN_TOTO_PAYLOAD_TYPE}`)
  }
  const payload = envelope.payload
  // The image digest is the artifact: verifyBundle checks the in-toto subject as cosign's WithArtifactDigest does.
  const who = await checkSigner(verificationMode(options), {
    byKey: () => verifyDSSE(envelope, options.keys, { hash: options.hash ?? 'sha256', ...options.verifyOptions }),
    keyFailure: 'failed to verify signature',
    bySigstore: (mode) => verifySigstoreBundle(bundle, { digest }, options, mode),
  })
  if ('reason' in who) return fail(who.reason, { payload })
  const signer = who.signer
  const keyIndex = signer.keyIndex
  let statement: Statement
  try {
    statement = parseStatement(payload)
  } catch (e) {
    return fail((e as Error).message, { payload, ...signer })
  }
  const found = { payload, ...(keyIndex !== undefined ? { keyIndex } : {}), ...signer, statement }
  if (!statementHasSubjectDigest(statement, digest)) {
    return fail('provided artifact digests do not match digests in statement', found)
  }
  const hex = digest.slice(digest.indexOf(':') + 1)
  const subject = statement.subject.find((s) => Object.values(s.digest ?? {}).includes(hex))
  if (!hasAnnotations(subject?.annotations, options.annotations)) return fail('missing or incorrect annotation', found)
  return { ...base, ...found, verified: true, reasons: [] }
}
