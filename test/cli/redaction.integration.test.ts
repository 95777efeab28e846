// The CLI against servers that echo every request into their error answers (test/support/echo-server.ts): for each
// credential source (flags, a Docker config, the environment) no secret reaches stderr or `-o json` output, in any
// encoding. Registry reads (verify, policy verify) with --registry-username/--registry-password, --registry-token
// and Docker config passwords and identity tokens; KMS keys with AWS/Google/Azure/Vault credentials from the
// environment; keyless signing with a token from SIGSTORE_ID_TOKEN or --identity-token.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPair, publicKeyToPEM } from '../../src/keys/index.js'
import { cli } from '../support/cli.js'
import { ECHO_ENCODINGS, type EchoServer, startEchoServer } from '../support/echo-server.js'
import { fakeJWT, fakeSecret, leakedSecrets } from '../support/secret-leaks.js'

let echo: EchoServer
let root: string
let publicKeyPEM: string

beforeAll(async () => {
  echo = await startEchoServer()
  root = mkdtempSync(join(tmpdir(), 'cs-cli-redaction-'))
  publicKeyPEM = publicKeyToPEM((await generateKeyPair()).publicKey)
})
afterAll(async () => {
  await echo?.stop()
  if (root) rmSync(root, { recursive: true, force: true })
})

/** A fresh working directory (also HOME) with cosign.pub, a policy for the echo registry and `dockerConfig`. */
function workdir(dockerConfig?: unknown): string {
  const dir = mkdtempSync(join(root, 'run-'))
  writeFileSync(join(dir, 'cosign.pub'), publicKeyPEM)
  writeFileSync(join(dir, 'blob.txt'), 'hello')
  const pem = publicKeyPEM
    .trim()
    .split('\n')
    .map((l) => `        ${l}`)
    .join('\n')
  writeFileSync(
    join(dir, 'policy.yaml'),
    `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: echo
spec:
  images:
  - glob: "**"
  authorities:
  - name: release
    key:
      data: |
${pem}
`,
  )
  if (dockerConfig !== undefined) {
    mkdirSync(join(dir, '.docker'))
    writeFileSync(join(dir, '.docker', 'config.json'), JSON.stringify(dockerConfig))
  }
  return dir
}

/** Run the command line for every echo encoding and a few paddings; it must fail and print none of `secrets`. */
async function expectNoLeak(
  args: (dir: string) => string[],
  secrets: Record<string, string>,
  setup: { dockerConfig?: unknown; env?: Record<string, string>; challenge?: 'basic' | 'bearer' } = {},
): Promise<void> {
  const dir = workdir(setup.dockerConfig)
  echo.challenge = setup.challenge ?? 'basic'
  const before = echo.requests.length
  for (const encoding of ECHO_ENCODINGS) {
    for (const pad of [0, 290]) {
      echo.encoding = encoding
      echo.pad = pad
      const r = await cli(args(dir), { cwd: dir, env: { COSIGN_PASSWORD: 'pw', ...setup.env } })
      expect(r.code, `${encoding} pad ${pad}: ${r.stderr}`).not.toBe(0)
      // The failure is reported (stderr, or the decision of `-o json`) and explains itself with the echoed text.
      expect(`${r.stdout}${r.stderr}`, `${encoding} pad ${pad}`).toMatch(/failed with HTTP|HTTP \d{3}|refused/)
      expect(leakedSecrets(`${r.stdout}\n${r.stderr}`, secrets), `${encoding} pad ${pad}: ${r.stderr}`).toEqual({})
    }
  }
  // The secrets did reach the echoing server, so the answers held them: the test exposed them and they stayed out.
  const sent = JSON.stringify(echo.requests.slice(before))
  expect(Object.keys(leakedSecrets(sent, secrets)).length, 'no secret was sent').toBeGreaterThan(0)
}

describe('registry credentials', () => {
  const image = () => `${echo.host}/app:v1`
  const password = fakeSecret('flag-pw-')
  const token = fakeSecret('flag-tok-', 56)

  it('--registry-username/--registry-password (verify, and policy verify -o json)', async () => {
    const secrets = { password, pair: `u9:${password}` }
    const flags = ['--registry-username', 'u9', '--registry-password', password]
    await expectNoLeak(() => ['verify', '--key', 'cosign.pub', ...flags, image()], secrets)
    await expectNoLeak(() => ['policy', 'verify', '--policy', 'policy.yaml', '-o', 'json', ...flags, image()], secrets)
  })

  it('--registry-token', async () => {
    await expectNoLeak(
      () => ['verify', '--key', 'cosign.pub', '--registry-token', token, image()],
      { token },
      {
        challenge: 'bearer',
      },
    )
  })

  it('a Docker config password (Basic auth and the token server) and identity token', async () => {
    const dockerPassword = fakeSecret('docker-pw-')
    const pair = `ci:${dockerPassword}`
    const config = { auths: { [echo.host]: { auth: Buffer.from(pair).toString('base64') } } }
    for (const challenge of ['basic', 'bearer'] as const) {
      await expectNoLeak(
        () => ['verify', '--key', 'cosign.pub', image()],
        { dockerPassword, pair },
        {
          dockerConfig: config,
          challenge,
        },
      )
      await expectNoLeak(
        () => ['policy', 'verify', '--policy', 'policy.yaml', '-o', 'json', image()],
        { dockerPassword, pair },
        { dockerConfig: config, challenge },
      )
    }
    const identityToken = fakeSecret('docker-idt-', 64)
    await expectNoLeak(
      () => ['verify', '--key', 'cosign.pub', image()],
      { identityToken },
      { dockerConfig: { auths: { [echo.host]: { identitytoken: identityToken } } }, challenge: 'bearer' },
    )
  })
})

describe('KMS credentials from the environment', () => {
  it('AWS: AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN', async () => {
    const env = {
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE00',
      AWS_SECRET_ACCESS_KEY: fakeSecret('sak/', 40),
      AWS_SESSION_TOKEN: fakeSecret('IQoJb3JpZ2luX2Vj', 160),
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_KMS: `${echo.url}/aws`,
    }
    await expectNoLeak(
      () => ['generate-key-pair', '--kms', 'awskms:///alias/release'],
      { secret: env.AWS_SECRET_ACCESS_KEY, session: env.AWS_SESSION_TOKEN },
      { env },
    )
  })

  it('Google: the client secret and refresh token of GOOGLE_APPLICATION_CREDENTIALS', async () => {
    // The token endpoint (token_uri, on loopback) is asked first and fails: Cloud KMS itself is never contacted.
    const clientSecret = fakeSecret('GOCSPX-', 35)
    const refreshToken = fakeSecret('1//0g', 100)
    const file = join(root, `adc-${Math.random()}.json`)
    writeFileSync(
      file,
      JSON.stringify({
        type: 'authorized_user',
        client_id: 'cid.apps.googleusercontent.com',
        client_secret: clientSecret,
        refresh_token: refreshToken,
        token_uri: `${echo.url}/token`,
      }),
    )
    await expectNoLeak(
      () => ['generate-key-pair', '--kms', 'gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k'],
      { clientSecret, refreshToken },
      { env: { GOOGLE_APPLICATION_CREDENTIALS: file } },
    )
  })

  it('Azure: AZURE_CLIENT_SECRET at the token endpoint', async () => {
    const secret = fakeSecret('Q~', 40)
    await expectNoLeak(
      () => ['generate-key-pair', '--kms', 'azurekms://v.vault.azure.net/release'],
      { secret },
      {
        env: {
          AZURE_TENANT_ID: 'tenant',
          AZURE_CLIENT_ID: 'client',
          AZURE_CLIENT_SECRET: secret,
          AZURE_AUTHORITY_HOST: echo.url,
        },
      },
    )
  })

  it('Vault: VAULT_TOKEN', async () => {
    const token = fakeSecret('hvs.', 95)
    await expectNoLeak(
      () => ['generate-key-pair', '--kms', 'hashivault://release'],
      { token },
      {
        env: { VAULT_ADDR: echo.url, VAULT_TOKEN: token },
      },
    )
  })
})

describe('keyless signing', () => {
  const args = (token?: string) => (dir: string) => [
    'sign-blob',
    '--yes',
    '--fulcio-url',
    echo.url,
    '--rekor-url',
    echo.url,
    '--bundle',
    join(dir, 'out.json'),
    ...(token ? ['--identity-token', token] : []),
    'blob.txt',
  ]

  it('SIGSTORE_ID_TOKEN: the token, its segments and claims never reach stderr', async () => {
    const token = fakeJWT('alice')
    const [header, claims] = token.split('.') as [string, string]
    await expectNoLeak(args(), { token, header, claims }, { env: { SIGSTORE_ID_TOKEN: token } })
  })

  it('--identity-token', async () => {
    const token = fakeJWT('bob')
    await expectNoLeak(args(token), { token, claims: token.split('.')[1]! })
  })
})
