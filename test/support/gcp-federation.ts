/**
 * Helpers shared by the Google federation and impersonation tests: a fetch that records the bearer every Cloud KMS
 * `asymmetricSign` request carried, a sign-and-verify round trip against the Cloud KMS stand-in (the signature is
 * checked with node:crypto and the key's PEM from the stand-in, independently of the SDK), an injectable clock, the
 * claims of an unsigned JWT, and the external_account set-up of the file, url and executable source tests.
 */
import { verify as nodeVerify, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect } from 'vitest'
import {
  createGCPCredentialsFromJSON,
  createGCPKMSProvider,
  type GCPCredentialOptions,
  type GCPKMSProvider,
} from '../../src/kms/gcp/index.js'
import { readGCPCredentialSourceFile } from '../../src/node/gcp-external-account.js'
import { type GCPKMSServer, startGCPKMSServer } from './gcp-kms-server.js'
import { type GCPSTSServer, startGCPSTSServer } from './gcp-sts-server.js'
import { type ProvokedErrors, recordProvokedErrors } from './provoked-errors.js'

/** The subject token type of an OIDC ID token. */
export const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt'

/** A fetch that forwards to the global one and records the Authorization header of each asymmetricSign call. */
export function bearerRecordingFetch(bearers: string[], rewrite?: (url: string) => string): typeof fetch {
  return async (input, init) => {
    const url = input instanceof Request ? input.url : String(input)
    if (url.endsWith(':asymmetricSign')) bearers.push(new Headers(init?.headers).get('authorization') ?? '')
    return fetch(rewrite ? rewrite(url) : input, init)
  }
}

/** Sign `data` through `provider` with the key `versionName` and check the DER signature with node:crypto. */
export async function signAndVerify(
  provider: GCPKMSProvider,
  kms: GCPKMSServer,
  versionName: string,
  data = new TextEncoder().encode(`payload ${Math.random()}`),
): Promise<void> {
  const signer = await provider.createSigner(`gcpkms://${versionName}`)
  const signature = await signer.sign(data)
  expect(nodeVerify('sha256', data, kms.publicKeyPEM(versionName), signature)).toBe(true)
}

/** A clock tests move by hand (milliseconds). */
export interface TestClock {
  readonly now: () => number
  advance(ms: number): void
}

export function testClock(start = Date.now()): TestClock {
  let t = start
  return {
    now: () => t,
    advance: (ms) => {
      t += ms
    },
  }
}

/** The claims of a JWT (no signature check: the GitHub stand-in's tokens are unsigned). */
export function jwtClaims(token: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString())
  } catch {
    return undefined
  }
}

/** Stand-ins and builders of an external_account test file; `kms`, `sts`, `dir` and `version` exist from beforeAll. */
export interface FederationStand {
  readonly clock: TestClock
  readonly provoked: ProvokedErrors
  /** Subject tokens the pool accepts. */
  readonly trusted: Set<string>
  /** Every subject token the file made or used, none of which may appear in a provoked error. */
  readonly subjectTokens: string[]
  readonly kms: GCPKMSServer
  readonly sts: GCPSTSServer
  /** A temporary directory for token files, removed after all tests. */
  readonly dir: string
  /** The version name of the key `key`. */
  readonly version: string
  /** A new JWT-shaped subject token the pool trusts. */
  subject(): string
  /** An external_account file for the stand's pool with this `credential_source`. */
  account(source: Record<string, unknown>, extra?: Record<string, unknown>): Record<string, unknown>
  /** Credential options with the Node file reader, the stand's clock and no back-off sleeps. */
  hosted(extra?: GCPCredentialOptions): GCPCredentialOptions
  /** A Cloud KMS provider against the stand-in with the credentials of `doc`, recording its bearers. */
  providerFor(doc: Record<string, unknown>, bearers?: string[], extra?: GCPCredentialOptions): GCPKMSProvider
}

/**
 * Start a Cloud KMS and an STS stand-in (one workload identity pool for `audience`, trusting the tokens `subject()`
 * makes) before all tests of the file, add the key `key`, and check after all of them that no provoked error
 * carries a subject or access token.
 */
export function federationStand(options: {
  readonly audience: string
  readonly key: string
  /** Prefix of the temporary directory. */
  readonly tmpPrefix: string
  /** The pool echoes the subject token in its errors (a hostile STS). */
  readonly echoSubjectToken?: boolean
}): FederationStand {
  const clock = testClock()
  const provoked = recordProvokedErrors()
  const trusted = new Set<string>()
  const subjectTokens: string[] = []
  const noSleep = { sleep: async () => {} }
  let kms: GCPKMSServer
  let sts: GCPSTSServer
  let dir: string
  let version: string
  beforeAll(async () => {
    kms = await startGCPKMSServer()
    sts = await startGCPSTSServer({ issue: (s) => kms.issueToken(s), now: clock.now })
    sts.addPool(options.audience, {
      subjectTokenType: JWT_TYPE,
      check: (t) => trusted.has(t),
      ...(options.echoSubjectToken ? { echoSubjectToken: true } : {}),
    })
    version = kms.addKey(options.key)
    dir = mkdtempSync(join(tmpdir(), options.tmpPrefix))
  })
  afterAll(async () => {
    provoked.expectNoSecrets(/ya29\./, [...subjectTokens, ...sts.issued])
    rmSync(dir, { recursive: true, force: true })
    await Promise.all([kms?.close(), sts?.close()])
  })
  const hosted = (extra: GCPCredentialOptions = {}): GCPCredentialOptions => ({
    readFile: readGCPCredentialSourceFile,
    now: clock.now,
    ...noSleep,
    ...extra,
  })
  return {
    clock,
    provoked,
    trusted,
    subjectTokens,
    get kms() {
      return kms
    },
    get sts() {
      return sts
    },
    get dir() {
      return dir
    },
    get version() {
      return version
    },
    subject() {
      const t = `eyJhbGciOiJSUzI1NiJ9.${randomBytes(24).toString('base64url')}.sig`
      trusted.add(t)
      subjectTokens.push(t)
      return t
    },
    account: (source, extra = {}) => ({
      type: 'external_account',
      audience: options.audience,
      subject_token_type: JWT_TYPE,
      token_url: sts.tokenURL,
      credential_source: source,
      ...extra,
    }),
    hosted,
    providerFor: (doc, bearers = [], extra = {}) =>
      createGCPKMSProvider({
        endpoint: kms.url,
        credentials: createGCPCredentialsFromJSON(doc, hosted(extra)),
        now: clock.now,
        fetch: bearerRecordingFetch(bearers),
        ...noSleep,
      }),
  }
}
