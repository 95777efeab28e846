/**
 * Valid seed inputs for the fuzz targets, read from test/vectors (through test/support/bundle-cases.ts for the
 * conformance bundles and their trusted roots). Only cases expected to pass are seeds: a mutant of a valid input
 * reaches the checks behind the parsers, a mutant of a broken one mostly does not.
 *
 * @module
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fromBase64 } from '../../src/internal/bytes.js'
import type { TrustedRoot } from '../../src/trust/trusted-root.js'
import {
  type CountersignInputs,
  caseNames,
  countersignInputs,
  countersignRoot,
  loadCase,
} from '../support/bundle-cases.js'

export const VECTORS = resolve(import.meta.dirname, '../vectors')

export function vector(rel: string): Buffer {
  return readFileSync(join(VECTORS, rel))
}

export function vectorText(rel: string): string {
  return vector(rel).toString('utf8')
}

/** Files of a vector folder, sorted, filtered by `match`. */
export function vectorFiles(dir: string, match: RegExp): string[] {
  return readdirSync(join(VECTORS, dir))
    .filter((f) => match.test(f))
    .sort()
    .map((f) => join(dir, f))
}

/** Cases a client may decide either way (test/verifier/conformance.test.ts); not seeds. */
const OPTIONAL_CASES = new Set(['sigstore-js-client-v0.4-media-type-accepted'])

/** A conformance bundle that verifies, with everything its case.json says to verify it with. */
export interface BundleSeed {
  readonly name: string
  readonly inputs: CountersignInputs
  readonly root: TrustedRoot
  /** The bundle JSON, decoded. */
  readonly json: Record<string, unknown>
}

let bundleCache: BundleSeed[] | undefined

/** Every passing case of test/vectors/bundles. */
export function bundleSeeds(): BundleSeed[] {
  bundleCache ??= caseNames()
    .filter((n) => !n.endsWith('_fail') && !OPTIONAL_CASES.has(n))
    .map((name) => {
      const inputs = countersignInputs(loadCase(name))
      return {
        name,
        inputs,
        root: countersignRoot(inputs),
        json: JSON.parse(new TextDecoder().decode(inputs.bundle)) as Record<string, unknown>,
      }
    })
  return bundleCache
}

// biome-ignore lint/suspicious/noExplicitAny: bundle JSON is walked by field name
type AnyJSON = any

/** The bytes an RFC 3161 timestamp in a bundle covers: the signature (message signature or first DSSE one). */
export function timestampedData(bundle: AnyJSON): Uint8Array {
  const sig = bundle.messageSignature?.signature ?? bundle.dsseEnvelope?.signatures?.[0]?.sig
  return fromBase64(sig)
}

/** Every RFC 3161 token of a bundle, base64-decoded. */
export function bundleTimestamps(bundle: AnyJSON): Uint8Array[] {
  const list: AnyJSON[] = bundle.verificationMaterial?.timestampVerificationData?.rfc3161Timestamps ?? []
  return list.map((t) => fromBase64(t.signedTimestamp))
}

/** The DER certificates of a bundle: leaf first (v0.3 `certificate`, or v0.1/v0.2 `x509CertificateChain`). */
export function bundleCertificates(bundle: AnyJSON): Uint8Array[] {
  const vm = bundle.verificationMaterial ?? {}
  if (vm.certificate?.rawBytes) return [fromBase64(vm.certificate.rawBytes)]
  const chain: AnyJSON[] = vm.x509CertificateChain?.certificates ?? []
  return chain.map((c) => fromBase64(c.rawBytes))
}

/** The DSSE envelope JSON objects of the bundles that carry one. */
export function bundleEnvelopes(): Record<string, unknown>[] {
  return bundleSeeds().flatMap((s) => (s.json.dsseEnvelope ? [s.json.dsseEnvelope as Record<string, unknown>] : []))
}

/** `-----BEGIN label-----` PEM of `der`, 64 characters a line. */
export function toPEM(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64')
  const lines = b64.match(/.{1,64}/g) ?? []
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`
}
