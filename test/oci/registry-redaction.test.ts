// A registry and token server that echo every request into their error bodies (test/support/echo-server.ts): no
// credential the client sends (password, user:password and its Basic base64, identity token, registry token, a
// token it was issued) reaches the error in any encoding, whatever the read (manifest, tags, blob, manifest push),
// with the secret placed before, on or past the clipping limits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isCountersignError } from '../../src/errors.js'
import { createSecretSet } from '../../src/http/redact.js'
import type { Credential } from '../../src/oci/auth.js'
import { parseReference, parseRepository } from '../../src/oci/reference.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import { ECHO_ENCODINGS, type EchoServer, startEchoServer } from '../support/echo-server.js'
import { errorText, fakeSecret, leakedSecrets, thrown } from '../support/secret-leaks.js'

const password = fakeSecret('pw-')
const basic: Credential = { username: 'u9', password }
const identityToken = fakeSecret('idt-', 64)
const registryToken = fakeSecret('rt-', 64)
const issuedToken = fakeSecret('issued-', 64)
const everySecret = { password, pair: `u9:${password}`, identityToken, registryToken, issuedToken }

interface Case {
  readonly challenge: 'basic' | 'bearer'
  readonly tokenServer?: 'echo' | 'issue'
  readonly credential: Credential
}

const CASES: Record<string, Case> = {
  'a password sent as Basic auth to the registry': { challenge: 'basic', credential: basic },
  'a password sent to an echoing token server': { challenge: 'bearer', tokenServer: 'echo', credential: basic },
  'an identity token sent in the refresh-token grant': {
    challenge: 'bearer',
    tokenServer: 'echo',
    credential: { identityToken },
  },
  'a registry token sent as Bearer': { challenge: 'bearer', credential: { registryToken } },
  'a token the token server issued, echoed by the registry': {
    challenge: 'bearer',
    tokenServer: 'issue',
    credential: basic,
  },
}

describe('registry errors carry no credential the client sent', () => {
  let echo: EchoServer
  beforeAll(async () => {
    echo = await startEchoServer()
    echo.issuedToken = issuedToken
  })
  afterAll(() => echo?.stop())

  for (const [name, c] of Object.entries(CASES)) {
    it(name, async () => {
      echo.challenge = c.challenge
      echo.tokenServer = c.tokenServer ?? 'echo'
      const ref = parseReference(`${echo.host}/app:v1`)
      const repo = parseRepository(`${echo.host}/app`)
      const reads = {
        fetchManifest: (client: ReturnType<typeof createRegistryClient>) => client.fetchManifest(ref),
        listTags: (client: ReturnType<typeof createRegistryClient>) => client.listTags(repo),
        fetchBlob: (client: ReturnType<typeof createRegistryClient>) =>
          client.fetchBlob(repo, `sha256:${'a'.repeat(64)}`),
        pushManifest: (client: ReturnType<typeof createRegistryClient>) =>
          client.pushManifest(
            ref,
            new TextEncoder().encode(
              '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}',
            ),
            'application/vnd.oci.image.index.v1+json',
          ),
      }
      for (const encoding of ECHO_ENCODINGS) {
        for (const pad of [0, 470, 495]) {
          echo.encoding = encoding
          echo.pad = pad
          for (const [verb, read] of Object.entries(reads)) {
            const client = createRegistryClient({ credentials: async () => c.credential, retry: { attempts: 0 } })
            const e = await thrown(() => read(client))
            expect(isCountersignError(e), `${verb} ${encoding} ${pad}: ${String(e)}`).toBe(true)
            expect(leakedSecrets(errorText(e), everySecret), `${verb} ${encoding} pad ${pad}`).toEqual({})
          }
        }
      }
    })
  }

  it('the echo reaches the message, redacted, and the error keeps its code and details', async () => {
    echo.challenge = 'basic'
    echo.encoding = 'raw'
    echo.pad = 0
    const client = createRegistryClient({ credentials: async () => basic })
    const e = await thrown(() => client.fetchManifest(parseReference(`${echo.host}/app:v1`)))
    expect(e).toMatchObject({ code: 'ERR_OCI_HTTP', details: { status: 400, registryErrors: [{ code: 'DENIED' }] } })
    expect((e as Error).message).toContain('authorization: Basic [REDACTED]')
  })

  it('uses the set it is given: secrets the process registered are redacted too', async () => {
    echo.challenge = 'basic'
    echo.encoding = 'raw'
    const processSecret = fakeSecret('ua-')
    const secrets = createSecretSet([processSecret])
    // A secret the registry did not get from the credential (here: smuggled in the User-Agent) is still redacted.
    const client = createRegistryClient({ credentials: async () => basic, secrets, userAgent: processSecret })
    const e = await thrown(() => client.fetchManifest(parseReference(`${echo.host}/app:v1`)))
    expect(leakedSecrets(errorText(e), { processSecret, password })).toEqual({})
    // The client added the credential it resolved to the given set.
    expect(secrets.redact(password)).toBe('[REDACTED]')
  })
})
