// Sigstore services and OIDC endpoints that echo every request into their error answers
// (test/support/echo-server.ts): no token the client sends (an OIDC token to Fulcio, the GitHub Actions request
// token, an authorization code and PKCE verifier, a gateway token in front of Rekor or a TSA) reaches the error, in
// any encoding, on either side of the clipping limits. Fulcio's case is the regression of the token's claims that
// survived because the OIDC redaction ran after the message was clipped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isCountersignError } from '../../src/errors.js'
import { createFulcioClient } from '../../src/fulcio/client.js'
import { createSecretSet } from '../../src/http/redact.js'
import { exchangeAuthorizationCode } from '../../src/oidc/authorization-code.js'
import { githubActionsIdentityToken } from '../../src/oidc/providers.js'
import { createRekorClient } from '../../src/rekor/client.js'
import { createTimestampClient } from '../../src/timestamp/client.js'
import { ECHO_ENCODINGS, type EchoServer, startEchoServer } from '../support/echo-server.js'
import { errorText, fakeJWT, fakeSecret, leakedSecrets, thrown } from '../support/secret-leaks.js'

const PADS = [0, 150, 285, 295, 320]
const noRetry = { retry: { attempts: 0 } }

/** Run `call` against every encoding and padding; each must fail with a coded error that leaks none of `secrets`. */
async function expectNoLeak(
  echo: EchoServer,
  secrets: Record<string, string>,
  call: () => Promise<unknown>,
  code: string,
): Promise<void> {
  for (const encoding of ECHO_ENCODINGS) {
    for (const pad of PADS) {
      echo.encoding = encoding
      echo.pad = pad
      const e = await thrown(call)
      expect(isCountersignError(e) && e.code, `${encoding} pad ${pad}: ${String(e)}`).toBe(code)
      expect(leakedSecrets(errorText(e), secrets), `${encoding} pad ${pad}`).toEqual({})
    }
  }
}

/** A fetch in front of a gateway that wants its own token (the caller puts it in the client's secret set). */
function gatewayFetch(token: string): typeof fetch {
  return (input, init) => {
    const headers = new Headers(init?.headers)
    headers.set('authorization', `Bearer ${token}`)
    return fetch(input, { ...init, headers })
  }
}

describe('service clients never echo a secret they sent', () => {
  let echo: EchoServer
  beforeAll(async () => {
    echo = await startEchoServer()
  })
  afterAll(() => echo?.stop())

  it('Fulcio: the identity token (whole, its segments, its claims) in no encoding', async () => {
    const identityToken = fakeJWT('alice')
    const [header, claims, signature] = identityToken.split('.') as [string, string, string]
    const fulcio = createFulcioClient({ url: echo.url, ...noRetry })
    await expectNoLeak(
      echo,
      { identityToken, header, claims, signature },
      () =>
        fulcio.createSigningCertificate({
          identityToken,
          publicKey: new Uint8Array(91).fill(4),
          proofOfPossession: new Uint8Array(70).fill(7),
        }),
      'ERR_FULCIO_HTTP',
    )
    // The reason is still shown, with the token replaced.
    echo.encoding = 'raw'
    echo.pad = 0
    const e = (await thrown(() =>
      fulcio.createSigningCertificate({
        identityToken,
        publicKey: new Uint8Array(1),
        proofOfPossession: new Uint8Array(1),
      }),
    )) as Error
    expect(e.message).toContain('"oidcIdentityToken":"[REDACTED]"')
  })

  it('Rekor and a TSA behind a gateway: the gateway token the fetch adds, given in `secrets`', async () => {
    const gateway = fakeSecret('gw-', 48)
    const options = { fetch: gatewayFetch(gateway), secrets: createSecretSet([gateway]), ...noRetry }
    const rekor = createRekorClient({ url: echo.url, ...options })
    await expectNoLeak(echo, { gateway }, () => rekor.getLogInfo(), 'ERR_REKOR_HTTP')
    await expectNoLeak(echo, { gateway }, () => rekor.searchIndex({ email: 'a@example.com' }), 'ERR_REKOR_HTTP')
    const tsa = createTimestampClient({ url: `${echo.url}/timestamp`, ...options })
    await expectNoLeak(echo, { gateway }, () => tsa.timestamp(new Uint8Array([1, 2, 3])), 'ERR_TIMESTAMP_HTTP')
  })

  it('GitHub Actions OIDC: the request token of ACTIONS_ID_TOKEN_REQUEST_TOKEN', async () => {
    const requestToken = fakeSecret('ghs_', 40)
    const provider = githubActionsIdentityToken({
      env: {
        ACTIONS_ID_TOKEN_REQUEST_URL: `${echo.url}/github-oidc?api-version=2.0`,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken,
      },
      ...noRetry,
    })
    await expectNoLeak(echo, { requestToken }, () => provider(), 'ERR_OIDC_TOKEN')
  })

  it('OIDC token endpoint: the authorization code and the PKCE verifier', async () => {
    const code = fakeSecret('code-', 43)
    const codeVerifier = fakeSecret('verifier-', 64)
    const request = {
      url: `${echo.url}/authorize`,
      issuer: echo.url,
      tokenEndpoint: `${echo.url}/oauth/token`,
      clientId: 'sigstore',
      redirectUri: 'http://localhost:1234/auth/callback',
      state: 'state',
      nonce: 'nonce',
      codeVerifier,
    }
    await expectNoLeak(echo, { code, codeVerifier }, () => exchangeAuthorizationCode(request, code), 'ERR_OIDC_LOGIN')
  })
})
