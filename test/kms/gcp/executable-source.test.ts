// external_account files whose credential_source is an executable, as golang.org/x/oauth2/google/externalaccount
// runs them: only with GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES=1, without a shell, with the GOOGLE_EXTERNAL_ACCOUNT_*
// variables, killed at timeout_millis, a still-valid output_file used instead of running, and the version 1 JSON
// response checked field by field. The executable is a Node script; the STS and Cloud KMS are loopback stand-ins.
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { createSecretSet } from '../../../src/http/redact.js'
import { createGCPCredentialsFromJSON } from '../../../src/kms/gcp/index.js'
import { createGCPExecutableRunner } from '../../../src/node/gcp-external-account.js'
import { federationStand, JWT_TYPE, signAndVerify } from '../../support/gcp-federation.js'

const AUDIENCE = '//iam.googleapis.com/projects/1234/locations/global/workloadIdentityPools/ci/providers/exe'
const KEY = 'projects/countersign-test/locations/global/keyRings/exe/cryptoKeys/release'
const stand = federationStand({ audience: AUDIENCE, key: KEY, tmpPrefix: 'gcp-executable-' })
const { clock, trusted, subjectTokens, subject, account, providerFor } = stand
const { rejected } = stand.provoked

describe('credential_source executable', () => {
  let script: string
  const response = (r: unknown) =>
    writeFileSync(join(stand.dir, 'exe-response'), typeof r === 'string' ? r : JSON.stringify(r))
  const runs = () =>
    existsSync(join(stand.dir, 'exe-runs'))
      ? readFileSync(join(stand.dir, 'exe-runs'), 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l))
      : []
  const ok = (token: string, extra: Record<string, unknown> = {}) => ({
    version: 1,
    success: true,
    token_type: JWT_TYPE,
    id_token: token,
    expiration_time: Math.floor(clock.now() / 1000) + 3600,
    ...extra,
  })
  const allowed = {
    env: { GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES: '1' },
    runExecutable: createGCPExecutableRunner(),
  }
  const exe = (extra: Record<string, unknown> = {}) => ({
    command: `${process.execPath} ${script} ${stand.dir}`,
    ...extra,
  })

  beforeAll(() => {
    script = join(stand.dir, 'token-helper.mjs')
    writeFileSync(
      script,
      [
        "import { appendFileSync, readFileSync } from 'node:fs'",
        'const dir = process.argv[2]',
        'const e = process.env',
        'const seen = { audience: e.GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE, type: e.GOOGLE_EXTERNAL_ACCOUNT_TOKEN_TYPE, interactive: e.GOOGLE_EXTERNAL_ACCOUNT_INTERACTIVE, email: e.GOOGLE_EXTERNAL_ACCOUNT_IMPERSONATED_EMAIL, output: e.GOOGLE_EXTERNAL_ACCOUNT_OUTPUT_FILE, args: process.argv.slice(3) }',
        "appendFileSync(dir + '/exe-runs', JSON.stringify(seen) + '\\n')",
        "const answer = readFileSync(dir + '/exe-response', 'utf8')",
        "if (answer === 'SLEEP') await new Promise((r) => setTimeout(r, 60_000))",
        "if (answer.startsWith('EXIT')) process.exit(Number(answer.slice(4)))",
        'process.stdout.write(answer)',
      ].join('\n'),
    )
  })

  it('refused unless GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES=1: nothing runs', async () => {
    response(ok(subject()))
    const before = runs().length
    const e = await rejected(
      providerFor(account({ executable: exe() }), [], { runExecutable: createGCPExecutableRunner() }).publicKey(
        `gcpkms://${KEY}`,
      ),
    )
    expect(e).toMatchObject({ code: 'ERR_KMS', details: { reason: 'executable-not-allowed' } })
    expect(e.message).toContain('GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES=1')
    expect(runs().length).toBe(before)
  })

  it('runs without a shell with the GOOGLE_EXTERNAL_ACCOUNT_* variables; its id_token is exchanged', async () => {
    const token = subject()
    response(ok(token))
    const impersonated = {
      service_account_impersonation_url: stand.sts.impersonationURL('exe@p.iam.gserviceaccount.com'),
    }
    stand.sts.addServiceAccount('exe@p.iam.gserviceaccount.com')
    const bearers: string[] = []
    // `$SHELL_MARKER` would only be expanded by a shell: the program must see it literally as an argument.
    const doc = account({ executable: exe({ command: `${exe().command} $SHELL_MARKER` }) }, impersonated)
    await signAndVerify(providerFor(doc, bearers, allowed), stand.kms, stand.version)
    expect(runs().at(-1)).toEqual({
      audience: AUDIENCE,
      type: JWT_TYPE,
      interactive: '0',
      email: 'exe@p.iam.gserviceaccount.com',
      args: ['$SHELL_MARKER'],
    })
    expect(stand.sts.exchanges.at(-1)).toMatchObject({ accepted: true, subjectToken: token })
    expect(bearers).toEqual([`Bearer ${stand.sts.issued.at(-1)}`])
  })

  it('a valid response in output_file is used without running; an expired one runs the executable', async () => {
    const output = join(stand.dir, 'exe-output.json')
    const cached = subject()
    writeFileSync(output, JSON.stringify(ok(cached)))
    response(ok(subject()))
    const before = runs().length
    const doc = account({ executable: exe({ output_file: output }) })
    await signAndVerify(providerFor(doc, [], allowed), stand.kms, stand.version)
    expect(runs().length).toBe(before)
    expect(stand.sts.exchanges.at(-1)!.subjectToken).toBe(cached)
    writeFileSync(output, JSON.stringify(ok(cached, { expiration_time: Math.floor(clock.now() / 1000) - 10 })))
    const fresh = subject()
    response(ok(fresh))
    await signAndVerify(providerFor(doc, [], allowed), stand.kms, stand.version)
    expect(runs().at(-1)).toMatchObject({ output })
    expect(stand.sts.exchanges.at(-1)!.subjectToken).toBe(fresh)
    // With an output file the response must say when it expires.
    response(ok(subject(), { expiration_time: undefined }))
    writeFileSync(output, '')
    const e = await rejected(providerFor(doc, [], allowed).publicKey(`gcpkms://${KEY}`))
    expect(e.message).toContain('lacks "expiration_time"')
  })

  it('bad answers are coded errors that never quote the output', async () => {
    const leaked = subject()
    const cases: [unknown, string][] = [
      [`not json ${leaked}`, 'response is not JSON'],
      [{ success: true, token_type: JWT_TYPE, id_token: leaked }, 'lacks "version"'],
      [{ version: 1, token_type: JWT_TYPE, id_token: leaked }, 'lacks "success"'],
      [
        { version: 1, success: false, code: 'LOGIN_REQUIRED', message: 'run login first' },
        '(LOGIN_REQUIRED) run login first',
      ],
      [{ version: 1, success: false }, 'must include "code" and "message"'],
      [ok(leaked, { version: 2 }), 'unsupported version 2'],
      [ok(leaked, { expiration_time: Math.floor(clock.now() / 1000) - 60 }), 'has expired'],
      [ok(leaked, { token_type: 'urn:ietf:params:oauth:token-type:access_token' }), 'unsupported "token_type"'],
      [ok(leaked, { token_type: undefined }), 'lacks "token_type"'],
      [ok('', {}), 'lacks "id_token"'],
      [{ version: 1, success: true, token_type: 'urn:ietf:params:oauth:token-type:saml2' }, 'lacks "saml_response"'],
      ['EXIT3', 'failed with exit code 3'],
    ]
    for (const [answer, message] of cases) {
      response(answer)
      const e = await rejected(providerFor(account({ executable: exe() }), [], allowed).publicKey(`gcpkms://${KEY}`))
      expect(e.code, message).toBe('ERR_KMS')
      expect(e.message, message).toContain(message)
      expect(e.message).not.toContain(leaked)
    }
    const absent = account({ executable: { command: join(stand.dir, 'no-such-helper') } })
    const notFound = await rejected(providerFor(absent, [], allowed).publicKey(`gcpkms://${KEY}`))
    expect(notFound.details).toMatchObject({ reason: 'executable-not-found' })
  })

  it('a SAML response is exchanged as the subject token', async () => {
    const saml = Buffer.from(`<samlp:Response>${randomBytes(8).toString('hex')}</samlp:Response>`).toString('base64')
    trusted.add(saml)
    subjectTokens.push(saml)
    const type = 'urn:ietf:params:oauth:token-type:saml2'
    const audience = AUDIENCE.replace('exe', 'saml')
    stand.sts.addPool(audience, { subjectTokenType: type, check: (t) => trusted.has(t) })
    response({ version: 1, success: true, token_type: type, saml_response: saml })
    const doc = account({ executable: exe() }, { audience, subject_token_type: type })
    await signAndVerify(providerFor(doc, [], allowed), stand.kms, stand.version)
    expect(stand.sts.exchanges.at(-1)).toMatchObject({ accepted: true, subjectToken: saml, subjectTokenType: type })
  })

  it('is killed at timeout_millis', { timeout: 20_000 }, async () => {
    response('SLEEP')
    const started = Date.now()
    const doc = account({ executable: exe({ timeout_millis: 5000 }) })
    const e = await rejected(providerFor(doc, [], allowed).publicKey(`gcpkms://${KEY}`))
    expect(e).toMatchObject({ code: 'ERR_KMS', details: { reason: 'executable-timeout' } })
    expect(e.message).toContain('timed out after 5000 ms')
    expect(Date.now() - started).toBeLessThan(15_000)
  })

  it('tokens learned are redacted by the shared secret set', async () => {
    const secrets = createSecretSet()
    const token = subject()
    response(ok(token))
    const credentials = createGCPCredentialsFromJSON(account({ executable: exe() }), { ...allowed, secrets })
    const access = await credentials({})
    expect(secrets.redact(`subject ${token} access ${access.token}`)).toBe('subject [REDACTED] access [REDACTED]')
  })
})
