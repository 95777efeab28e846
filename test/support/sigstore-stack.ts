/**
 * The local Sigstore stack the keyless integration tests sign against: the @sigstore/mock Fulcio (certificates and
 * CT log), our faithful Rekor v1 (and, on request, v2) and the real `openssl ts` TSA, with the trusted root that
 * names exactly those, a witness over them and a keyless signer factory. One place, so every test trusts the same
 * services the same way.
 */
import { writeFileSync } from 'node:fs'
import { createFulcioClient } from '../../src/fulcio/client.js'
import { createKeylessSigner, type KeylessSigner } from '../../src/fulcio/keyless-signer.js'
import { createRekorClient } from '../../src/rekor/client.js'
import { createRekorV2Client } from '../../src/rekor/client-v2.js'
import { createTimestampClient } from '../../src/timestamp/client.js'
import { parseTrustedRoot, type TrustedRoot } from '../../src/trust/trusted-root.js'
import type { WitnessOptions } from '../../src/witness/witness.js'
import { type OpenSSLTSA, startOpenSSLTSA } from './openssl-tsa.js'
import { type RekorServer, startRekorServer } from './rekor-server.js'
import { type RekorV2Server, startRekorV2Server } from './rekor-v2-server.js'
import { type SigstoreMock, startSigstoreMock } from './sigstore-mock.js'

export interface LocalSigstoreOptions {
  /** Also start a Rekor v2 log; the trusted root then names both logs. */
  readonly rekorV2?: boolean
  /** The token claim the mock Fulcio certifies (default `email`). */
  readonly fulcioSubjectClaim?: string
}

export interface LocalSigstore {
  /**
   * The @sigstore/mock services: only its Fulcio CA and CT log are trusted (its Rekor and TSA are not named in the
   * trusted root); tokens come from its `identityToken`.
   */
  readonly fulcio: SigstoreMock
  readonly rekor: RekorServer
  /** Present when started with `rekorV2: true`. */
  readonly rekorV2: RekorV2Server | undefined
  readonly tsa: OpenSSLTSA
  /** trusted_root.json (protobuf-JSON): the mock CA and CT log, our Rekor log(s), the openssl TSA. */
  readonly trustedRootJSON: string
  readonly trustedRoot: TrustedRoot
  writeTrustedRoot(path: string): void
  /** CLI flags naming this stack's Fulcio, Rekor (v1) and TSA, and `trustedRoot` (a file naming them). */
  serviceFlags(trustedRoot: string): string[]
  /** Rekor v1 and the TSA. */
  witness(): WitnessOptions
  /** Rekor v2 and the TSA (requires `rekorV2: true`). */
  witnessV2(): WitnessOptions
  /** A keyless signer whose token carries `claims` (over the mock's defaults). */
  keylessSigner(claims?: Record<string, unknown>): KeylessSigner
  close(): Promise<void>
}

/** Start every service on 127.0.0.1 (random ports); the caller must `close()` the stack. */
export async function startLocalSigstore(options: LocalSigstoreOptions = {}): Promise<LocalSigstore> {
  const [fulcio, rekor, rekorV2, tsa] = await Promise.all([
    startSigstoreMock({ fulcioSubjectClaim: options.fulcioSubjectClaim }),
    startRekorServer(),
    options.rekorV2 ? startRekorV2Server() : undefined,
    startOpenSSLTSA(),
  ])
  const mockRoot = JSON.parse(fulcio.trustedRootJSON)
  const trustedRootJSON = JSON.stringify({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [rekor.trustedRootTlog, ...(rekorV2 ? [rekorV2.trustedRootTlog] : [])],
    ctlogs: mockRoot.ctlogs,
    certificateAuthorities: mockRoot.certificateAuthorities,
    timestampAuthorities: [tsa.trustedRootTimestampAuthority],
  })
  const trustedRoot = parseTrustedRoot(trustedRootJSON)
  const witnessWith = (log: WitnessOptions['transparencyLogs']) => ({
    trustedRoot,
    transparencyLogs: log,
    timestampAuthorities: [createTimestampClient({ url: tsa.url })],
  })
  return {
    fulcio,
    rekor,
    rekorV2,
    tsa,
    trustedRootJSON,
    trustedRoot,
    writeTrustedRoot: (path) => writeFileSync(path, trustedRootJSON),
    serviceFlags: (root) => [
      '--fulcio-url',
      fulcio.url,
      '--rekor-url',
      rekor.url,
      '--timestamp-server-url',
      tsa.url,
      '--trusted-root',
      root,
    ],
    witness: () => witnessWith([createRekorClient({ url: rekor.url })]),
    witnessV2() {
      if (!rekorV2) throw new Error('startLocalSigstore: started without rekorV2')
      return witnessWith([createRekorV2Client({ url: rekorV2.url })])
    },
    keylessSigner: (claims) =>
      createKeylessSigner({
        fulcio: createFulcioClient({ url: fulcio.url }),
        identityToken: fulcio.identityToken(claims),
        trustedRoot,
      }),
    async close() {
      await Promise.all([fulcio.close(), rekor.close(), rekorV2?.close(), tsa.close()])
    },
  }
}
