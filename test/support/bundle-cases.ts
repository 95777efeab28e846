/**
 * One bundle case (test/vectors/bundles/<case>/case.json) turned into the inputs of two verifiers: countersign's
 * `verifyBundle` (the mapping test/verifier/conformance.test.ts uses) and sigstore-js's low-level `Verifier`
 * (`@sigstore/verify`). Shared by the verdict comparison and bench/verify-bundle.ts so both run the same options.
 */
import { createHash, createPublicKey } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { bundleFromJSON } from '@sigstore/bundle'
import { TrustedRoot as TrustedRootMessage } from '@sigstore/protobuf-specs'
import {
  type KeyFinderFunc,
  type Signer,
  type TrustMaterial,
  toSignedEntity,
  toTrustMaterial,
  type VerificationPolicy,
  Verifier,
  type VerifierOptions,
} from '@sigstore/verify'
import { parsePublicKey } from '../../src/keys/index.js'
import { parseTrustedRoot } from '../../src/trust/trusted-root.js'
import type { ArtifactInput } from '../../src/verifier/signature.js'
import type { BundlePolicy, BundleVerifierOptions } from '../../src/verifier/verify-bundle.js'

export const CASES_DIR = new URL('../vectors/bundles/', import.meta.url)

// biome-ignore lint/suspicious/noExplicitAny: case.json is free-form
export type Case = Record<string, any>

export interface LoadedCase {
  readonly name: string
  readonly c: Case
  file(f: string): Buffer
}

/** Every case folder with a case.json, sorted. */
export function caseNames(): string[] {
  return readdirSync(CASES_DIR)
    .filter((d) => existsSync(new URL(`${d}/case.json`, CASES_DIR)))
    .sort()
}

export function loadCase(name: string): LoadedCase {
  const file = (f: string) => readFileSync(new URL(`${name}/${f}`, CASES_DIR))
  return { name, c: JSON.parse(file('case.json').toString('utf8')), file }
}

/**
 * The `countersign verify-bundle` argv (absolute paths) that verifies a keyless case with its artifact file, trusted
 * root and certificate identity, as the CLI tests and bench/cli-start.ts run it.
 */
export function verifyBundleArgs(name: string): string[] {
  const { c } = loadCase(name)
  if (c.key || !c.identity || !c.issuer || !c.artifact) throw new Error(`${name}: not a keyless case with an artifact`)
  const path = (f: string) => fileURLToPath(new URL(`${name}/${f}`, CASES_DIR))
  return [
    'verify-bundle',
    '--bundle',
    path(c.bundle ?? 'bundle.sigstore.json'),
    '--trusted-root',
    path(c.trustedRoot ?? 'trusted_root.json'),
    '--certificate-identity',
    c.identity,
    '--certificate-oidc-issuer',
    c.issuer,
    path(c.artifact),
  ]
}

/** The case verifies the bundle alone (no artifact, no subject check). */
function withoutArtifact(c: Case): boolean {
  return c.checkSubject === false || (typeof c.artifactPolicy === 'string' && c.artifactPolicy.startsWith('none'))
}

// ---------------------------------------------------------------------------------------------------------------
// countersign

export interface CountersignInputs {
  readonly bundle: Uint8Array
  readonly artifact: ArtifactInput | undefined
  readonly policy: BundlePolicy
  readonly options: BundleVerifierOptions
  /** Raw trusted_root.json; parsing it is part of the verdict (a root lacking a validity start is rejected). */
  readonly trustedRoot: Uint8Array
}

/** The options each case.json names, as verifyBundle takes them. */
export function countersignInputs({ c, file }: LoadedCase): CountersignInputs {
  const policy: BundlePolicy = {
    ...(c.key ? { key: parsePublicKey(file(c.key).toString('utf8')) } : {}),
    ...(c.keyValidFor
      ? {
          keyValidFor: {
            start: new Date(c.keyValidFor.start),
            ...(c.keyValidFor.end ? { end: new Date(c.keyValidFor.end) } : {}),
          },
        }
      : {}),
    // Cases without an identity policy are verified the way their source did (sigstore-go WithoutIdentitiesUnsafe);
    // verifyBundle wants that said explicitly (allowAnySubject / allowAnyIssuer).
    ...(!c.key
      ? {
          identity: {
            ...(c.identity ? { subject: c.identity } : {}),
            ...(c.identityRegex ? { subjectRegExp: c.identityRegex } : {}),
            ...(c.issuer ? { issuer: c.issuer } : {}),
            ...(c.issuerRegex ? { issuerRegExp: c.issuerRegex } : {}),
            ...(!c.identity && !c.identityRegex ? { allowAnySubject: true } : {}),
            ...(!c.issuer && !c.issuerRegex ? { allowAnyIssuer: true } : {}),
          },
        }
      : {}),
  }
  const artifact = withoutArtifact(c)
    ? undefined
    : c.artifact
      ? new Uint8Array(file(c.artifact))
      : c.artifactDigest
        ? { digest: c.artifactDigest as string }
        : undefined
  return {
    bundle: new Uint8Array(file(c.bundle ?? 'bundle.sigstore.json')),
    artifact,
    policy,
    options: c.verifierOptions ?? {},
    trustedRoot: new Uint8Array(file(c.trustedRoot ?? 'trusted_root.json')),
  }
}

/** Parse the case's trusted root for countersign. */
export function countersignRoot(inputs: CountersignInputs) {
  return parseTrustedRoot(inputs.trustedRoot)
}

// ---------------------------------------------------------------------------------------------------------------
// sigstore-js

/**
 * A case prepared for sigstore-js. `Verifier.verify` covers signature, certificate chain, SCTs, log entries and
 * timestamps; the policy steps it leaves to its callers are done in {@link SigstoreJsCase.check} the way its
 * high-level `sigstore.verify` and the conformance harness do: regular-expression identities, the RFC 3161-only
 * and integrated-time-only timestamp thresholds (sigstore-js has one threshold for both kinds and rejects any
 * timestamp that does not verify, so "present" equals "verified" once `verify` returned), and the in-toto subject
 * digest of a DSSE bundle (`@sigstore/verify` checks only the envelope signature).
 */
export interface SigstoreJsCase {
  readonly verifier: Verifier
  /** The bundle JSON (parsed once; `bundleFromJSON` + `toSignedEntity` run per verification, as a client would). */
  readonly json: unknown
  /** Artifact bytes for message signatures; undefined when the case gives only a digest or none. */
  readonly artifact: Buffer | undefined
  readonly policy: VerificationPolicy | undefined
  /** Verify once: throws when sigstore-js (plus the caller-side policy steps) rejects. */
  check(): Signer
}

/** Thrown by the caller-side policy steps, so a verdict can say which side rejected. */
export class HarnessPolicyError extends Error {
  override name = 'HarnessPolicyError'
}

function countTimestamps(json: Case): { tsa: number; integrated: number } {
  const vm = json?.verificationMaterial ?? {}
  const tsa = (vm.timestampVerificationData?.rfc3161Timestamps ?? []).length
  const integrated = (vm.tlogEntries ?? []).filter(
    (e: Case) => e.integratedTime && e.integratedTime !== '0' && e.integratedTime !== 0,
  ).length
  return { tsa, integrated }
}

/** `sha256:HEX` / `sha512:HEX` of what the case verifies against, when it names one. */
function expectedSubjectDigest({ c, file }: LoadedCase): { alg: string; hex: string } | undefined {
  if (withoutArtifact(c)) return undefined
  if (c.artifact) return { alg: 'sha256', hex: createHash('sha256').update(file(c.artifact)).digest('hex') }
  if (typeof c.artifactDigest === 'string') {
    const [alg, hex] = c.artifactDigest.split(':')
    if (alg && hex) return { alg, hex: hex.toLowerCase() }
  }
  return undefined
}

function checkSubject(json: Case, want: { alg: string; hex: string }): void {
  const env = json?.dsseEnvelope
  if (env?.payloadType !== 'application/vnd.in-toto+json') {
    throw new HarnessPolicyError(`DSSE payload type ${env?.payloadType} is not an in-toto statement`)
  }
  const statement = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8'))
  const subjects: Case[] = Array.isArray(statement?.subject) ? statement.subject : []
  if (
    !subjects.some((s) => typeof s?.digest?.[want.alg] === 'string' && s.digest[want.alg].toLowerCase() === want.hex)
  ) {
    throw new HarnessPolicyError('artifact digest not in statement subjects')
  }
}

/** Prepare a case for sigstore-js. Throws when sigstore-js cannot even load the trusted root or bundle JSON. */
export function sigstoreJsCase(loaded: LoadedCase): SigstoreJsCase {
  const { c, file } = loaded
  const rootJSON = JSON.parse(file(c.trustedRoot ?? 'trusted_root.json').toString('utf8'))
  // A managed key: sigstore-js asks a key finder for the bundle's hint; the finder answers with the case's key
  // and its validity window (`keyValidFor`), as sigstore-go's NewExpiringKey does.
  let keys: KeyFinderFunc | undefined
  if (c.key) {
    const pem = file(c.key).toString('utf8')
    const start = c.keyValidFor?.start ? new Date(c.keyValidFor.start) : undefined
    const end = c.keyValidFor?.end ? new Date(c.keyValidFor.end) : undefined
    keys = () => ({
      publicKey: createPublicKey(pem),
      validFor: (date: Date) => (!start || start <= date) && (!end || date <= end),
    })
  }
  const trust: TrustMaterial = toTrustMaterial(TrustedRootMessage.fromJSON(rootJSON), keys)

  const vo = c.verifierOptions ?? {}
  const signed: number = vo.signedTimestampThreshold ?? 0
  const integrated: number = vo.integratedTimestampThreshold ?? 0
  const options: VerifierOptions = {
    tlogThreshold: vo.tlogThreshold ?? 1,
    ctlogThreshold: vo.ctlogThreshold ?? 1,
    timestampThreshold: vo.noObserverTimestamps ? 0 : Math.max(vo.observerTimestampThreshold ?? 1, signed, integrated),
  }
  const verifier = new Verifier(trust, options)

  const json = JSON.parse(file(c.bundle ?? 'bundle.sigstore.json').toString('utf8'))
  const artifact = !withoutArtifact(c) && c.artifact ? file(c.artifact) : undefined
  const useIdentity = !c.key
  const policy: VerificationPolicy | undefined =
    useIdentity && (c.identity || c.issuer)
      ? {
          ...(c.identity ? { subjectAlternativeName: c.identity } : {}),
          ...(c.issuer ? { extensions: { issuer: c.issuer } } : {}),
        }
      : undefined
  const subject = json?.dsseEnvelope ? expectedSubjectDigest(loaded) : undefined
  const identityRe = useIdentity && c.identityRegex ? new RegExp(c.identityRegex) : undefined
  const issuerRe = useIdentity && c.issuerRegex ? new RegExp(c.issuerRegex) : undefined

  return {
    verifier,
    json,
    artifact,
    policy,
    check() {
      const signer = verifier.verify(toSignedEntity(bundleFromJSON(json), artifact), policy)
      const counts = countTimestamps(json)
      if (counts.tsa < signed) throw new HarnessPolicyError(`expected ${signed} RFC 3161 timestamps`)
      if (counts.integrated < integrated) throw new HarnessPolicyError(`expected ${integrated} integrated times`)
      const san = signer.identity?.subjectAlternativeName ?? ''
      if (identityRe && !identityRe.test(san)) throw new HarnessPolicyError(`identity regex mismatch: ${san}`)
      const iss = signer.identity?.extensions?.issuer ?? ''
      if (issuerRe && !issuerRe.test(iss)) throw new HarnessPolicyError(`issuer regex mismatch: ${iss}`)
      if (subject) checkSubject(json, subject)
      return signer
    },
  }
}
