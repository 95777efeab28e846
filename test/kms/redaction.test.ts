// KMS stand-ins that echo every request into their error answers (test/support/echo-server.ts): AWS KMS and STS,
// Google Cloud KMS and its token endpoint, Azure Key Vault and Entra's token endpoint, Vault and its AppRole login.
// No credential the provider sends (session token, secret key, bearer token, client secret, refresh token, web
// identity token, Vault token, AppRole secret ID) reaches the error in any encoding; errors keep ERR_KMS and their
// details. The AWS case is the regression of AWS_SESSION_TOKEN echoed into an error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isCountersignError } from '../../src/errors.js'
import { createAWSKMSProvider } from '../../src/kms/aws/provider.js'
import { createWebIdentityCredentials } from '../../src/kms/aws/web-identity.js'
import { createAzureClientCredentials } from '../../src/kms/azure/credentials.js'
import { createAzureKMSProvider } from '../../src/kms/azure/provider.js'
import { createGCPCredentialsFromJSON } from '../../src/kms/gcp/credentials.js'
import { createGCPKMSProvider } from '../../src/kms/gcp/provider.js'
import { createHashiVaultKMSProvider } from '../../src/kms/hashivault/provider.js'
import { ECHO_ENCODINGS, type EchoServer, startEchoServer } from '../support/echo-server.js'
import { errorText, fakeJWT, fakeSecret, leakedSecrets, thrown } from '../support/secret-leaks.js'

const noRetry = { retry: { attempts: 0 }, sleep: async () => {} }
const GCP_KEY = 'gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1'

async function expectNoLeak(
  echo: EchoServer,
  secrets: Record<string, string>,
  call: () => Promise<unknown>,
): Promise<void> {
  for (const encoding of ECHO_ENCODINGS) {
    for (const pad of [0, 120, 195, 290]) {
      echo.encoding = encoding
      echo.pad = pad
      const e = await thrown(call)
      expect(isCountersignError(e, 'ERR_KMS'), `${encoding} pad ${pad}: ${String(e)}`).toBe(true)
      expect(leakedSecrets(errorText(e), secrets), `${encoding} pad ${pad}`).toEqual({})
    }
  }
}

describe('KMS errors carry no credential the provider sent', () => {
  let echo: EchoServer
  beforeAll(async () => {
    echo = await startEchoServer()
  })
  afterAll(() => echo?.stop())

  it('AWS KMS: the session token and secret key of the credentials', async () => {
    const credentials = {
      accessKeyId: 'AKIAEXAMPLEEXAMPLE00',
      secretAccessKey: fakeSecret('sak/', 40),
      sessionToken: fakeSecret('IQoJb3JpZ2luX2VjE', 120),
    }
    const aws = createAWSKMSProvider({ endpoint: `${echo.url}/aws`, region: 'us-east-1', credentials, ...noRetry })
    const { secretAccessKey, sessionToken } = credentials
    await expectNoLeak(echo, { secretAccessKey, sessionToken }, () => aws.publicKey('awskms:///alias/release'))
    echo.encoding = 'raw'
    echo.pad = 0
    const e = await thrown(() => aws.publicKey('awskms:///alias/release'))
    expect(e).toMatchObject({ details: { provider: 'aws', status: 400, awsError: 'AccessDeniedException' } })
    expect((e as Error).message).toMatch(
      /^AWS KMS GetPublicKey failed with HTTP 400: AccessDeniedException: x-amz-security-token: \[REDACTED\] /,
    )
  })

  it('AWS STS: the web identity token', async () => {
    const token = fakeJWT('ci')
    const credentials = createWebIdentityCredentials({
      roleArn: 'arn:aws:iam::123456789012:role/signer',
      token: async () => token,
      endpoint: `${echo.url}/sts`,
      ...noRetry,
    })
    await expectNoLeak(echo, { token }, () => credentials())
  })

  it('Google Cloud KMS: the bearer token, and the client secret and refresh token at the token endpoint', async () => {
    const accessToken = fakeSecret('ya29.', 90)
    const gcp = createGCPKMSProvider({ endpoint: echo.url, accessToken, ...noRetry })
    await expectNoLeak(echo, { accessToken }, () => gcp.publicKey(GCP_KEY))
    const clientSecret = fakeSecret('GOCSPX-', 35)
    const refreshToken = fakeSecret('1//0g', 100)
    const viaToken = createGCPKMSProvider({
      endpoint: echo.url,
      credentials: createGCPCredentialsFromJSON(
        {
          type: 'authorized_user',
          client_id: 'cid.apps.googleusercontent.com',
          client_secret: clientSecret,
          refresh_token: refreshToken,
          token_uri: `${echo.url}/token`,
        },
        noRetry,
      ),
      ...noRetry,
    })
    await expectNoLeak(echo, { clientSecret, refreshToken }, () => viaToken.publicKey(GCP_KEY))
  })

  it('Azure Key Vault: the bearer token, and the client secret at the Entra token endpoint', async () => {
    const accessToken = fakeJWT('kv')
    const azure = createAzureKMSProvider({ endpoint: echo.url, accessToken, ...noRetry })
    await expectNoLeak(echo, { accessToken }, () => azure.publicKey('azurekms://v.vault.azure.net/release'))
    const clientSecret = fakeSecret('Q~', 40)
    const source = createAzureClientCredentials({
      tenantId: 'tenant',
      clientId: 'client',
      clientSecret,
      authorityHost: echo.url,
      ...noRetry,
    })
    await expectNoLeak(echo, { clientSecret }, () => source({}))
  })

  it('Vault: the token, and the AppRole secret ID at login', async () => {
    const token = fakeSecret('hvs.', 95)
    const vault = createHashiVaultKMSProvider({ address: echo.url, token, ...noRetry })
    await expectNoLeak(echo, { token }, () => vault.publicKey('hashivault://release'))
    const secretId = fakeSecret('sid-', 36)
    const appRole = createHashiVaultKMSProvider({
      address: echo.url,
      appRole: { roleId: 'role', secretId },
      ...noRetry,
    })
    await expectNoLeak(echo, { secretId }, () => appRole.publicKey('hashivault://release'))
  })
})
