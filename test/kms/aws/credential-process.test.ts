// A profile's credential_process, run as the Go SDK runs it (`sh -c` with the whole line): the JSON Version 1 it
// prints becomes credentials that sign a real KMS request (SigV4 recomputed by the stand-in), expiring ones are
// fetched again five minutes early (injected clock), and failures (exit status, garbage, timeout) are ERR_KMS
// messages that quote neither the process's stdout nor its stderr.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSecretSet } from '../../../src/http/redact.js'
import { createAWSCredentialProcess } from '../../../src/node/aws-credential-process.js'
import { createAWSNodeCredentials } from '../../../src/node/aws-credentials.js'
import { awsHome, manualClock, removeAWSHomes, signThrough, sourceReports } from '../../support/aws-chain.js'
import { type AWSKMSServer, startAWSKMSServer } from '../../support/aws-kms-server.js'

let kms: AWSKMSServer
let work: string
let script: string
const keyA = { accessKeyId: 'AKIAPROCESSKEYA00001', secretAccessKey: 'process-secret-a-0123456789' }
const keyB = { accessKeyId: 'AKIAPROCESSKEYB00002', secretAccessKey: 'process-secret-b-9876543210' }

beforeAll(async () => {
  kms = await startAWSKMSServer({ region: 'eu-central-1' })
  kms.addCredential(keyA)
  kms.addCredential(keyB)
  kms.addKey('ECC_NIST_P256', { alias: 'alias/chain' })
  // A directory with a space: the command line is parsed by the shell, quotes and all.
  work = join(mkdtempSync(join(tmpdir(), 'aws-process-')), 'with space')
  mkdirSync(work)
  script = join(work, 'creds.mjs')
  writeFileSync(
    script,
    `import { appendFileSync, readFileSync } from 'node:fs'
const [mode, dir] = process.argv.slice(2)
appendFileSync(dir + '/runs', mode + '\\n')
if (mode === 'fail') {
  process.stderr.write('could not log in with password ' + process.env.PROCESS_LEAK + '\\n')
  process.exit(3)
}
if (mode === 'sleep') setTimeout(() => {}, 5000)
else process.stdout.write(readFileSync(dir + '/' + mode + '.json', 'utf8'))
`,
  )
})
afterAll(async () => {
  await kms?.close()
  removeAWSHomes()
  rmSync(join(work, '..'), { recursive: true, force: true })
})

const command = (mode: string) => `"${process.execPath}" "${script}" ${mode} "${work}"`
const runs = () => readFileSync(join(work, 'runs'), 'utf8').split('\n').filter(Boolean).length
const output = (mode: string, doc: unknown) => writeFileSync(join(work, `${mode}.json`), JSON.stringify(doc))
const env = { PATH: process.env.PATH, AWS_EC2_METADATA_DISABLED: 'true' }

describe('credential_process', () => {
  it('a profile with credential_process signs a KMS request; the source is reported without the command', async () => {
    output('static', { Version: 1, ...pascal(keyA) })
    const home = awsHome({ config: `[profile proc]\ncredential_process = ${command('static')}\n` })
    const { reports, listener } = sourceReports()
    const credentials = createAWSNodeCredentials({
      env: { ...env, AWS_PROFILE: 'proc' },
      homeDir: home,
      onCredentialSource: listener,
    })
    expect(await signThrough(kms, credentials)).toBe(keyA.accessKeyId)
    await signThrough(kms, credentials)
    expect(reports).toEqual([{ provider: 'aws', source: 'credential_process', detail: 'profile proc' }])
    expect(JSON.stringify(reports)).not.toContain(script)
  })

  it('credentials with an Expiration are fetched again five minutes before it (injected clock)', async () => {
    const clock = manualClock()
    output('expiring', { Version: 1, ...pascal(keyA), Expiration: new Date(clock.ms() + 3600_000).toISOString() })
    const before = runs()
    const provider = createAWSCredentialProcess(command('expiring'), { env, now: clock.now })
    const first = await provider()
    expect(first).toMatchObject({ accessKeyId: keyA.accessKeyId, expiration: new Date(clock.ms() + 3600_000) })
    clock.advance(50 * 60_000) // 10 minutes left
    output('expiring', { Version: 1, ...pascal(keyB), Expiration: new Date(clock.ms() + 3600_000).toISOString() })
    expect(await provider()).toBe(first)
    expect(runs()).toBe(before + 1)
    clock.advance(6 * 60_000) // 4 minutes left: run again
    expect((await provider()).accessKeyId).toBe(keyB.accessKeyId)
    expect(runs()).toBe(before + 2)
  })

  it('a session token travels with the key; its secrets join the secret set', async () => {
    const temp = { accessKeyId: 'ASIAPROCESSTEMP00003', secretAccessKey: 'temp-secret-xyz', sessionToken: 'tok&en/+=' }
    kms.addCredential(temp)
    output('session', { Version: 1, ...pascal(temp), SessionToken: temp.sessionToken })
    const secrets = createSecretSet()
    const provider = createAWSCredentialProcess(command('session'), { env, secrets })
    expect(await signThrough(kms, provider)).toBe(temp.accessKeyId)
    expect(secrets.redact(`x ${temp.secretAccessKey} ${temp.sessionToken}`)).not.toMatch(/temp-secret|tok&en/)
  })

  it('a non-zero exit is ERR_KMS with the exit code; stderr (which may hold a secret) is not quoted', async () => {
    const leak = 'hunter2-process-password'
    const e = await createAWSCredentialProcess(command('fail'), {
      env: { ...env, PROCESS_LEAK: leak },
      label: 'AWS profile "x"',
    })().catch((x) => x)
    expect(e).toMatchObject({ code: 'ERR_KMS', details: { provider: 'aws', exitCode: 3 } })
    expect(e.message).toContain('AWS profile "x": credential_process exited with code 3')
    expect(`${e.message}${JSON.stringify(e.details)}${e.stack}`).not.toContain(leak)
  })

  it('garbage, a wrong Version or missing keys are refused without echoing the output', async () => {
    const cases: [unknown, string][] = [
      [`{"Version": 1, "AccessKeyId": "AKIAX", "SecretAccessKey": "almost-json-secret`, 'not JSON'],
      [{ Version: 2, ...pascal(keyA) }, 'Version 2, not 1'],
      [{ Version: 1, AccessKeyId: keyA.accessKeyId }, 'lacks SecretAccessKey'],
      [{ Version: 1, SecretAccessKey: 'only-the-secret' }, 'lacks AccessKeyId'],
      [{ Version: 1, ...pascal(keyA), Expiration: 'tomorrow' }, 'not an RFC 3339 time'],
      [[1, 2], 'not an object'],
    ]
    for (const [doc, message] of cases) {
      writeFileSync(join(work, 'bad.json'), typeof doc === 'string' ? doc : JSON.stringify(doc))
      const e = await createAWSCredentialProcess(command('bad'), { env })().catch((x) => x)
      expect(e).toMatchObject({ code: 'ERR_KMS', details: { provider: 'aws' } })
      expect(e.message).toContain(message)
      expect(e.message).not.toMatch(/almost-json-secret|only-the-secret|process-secret/)
    }
  })

  it('a process that does not finish is stopped after the timeout', async () => {
    const started = Date.now()
    const e = await createAWSCredentialProcess(command('sleep'), { env, timeoutMs: 300 })().catch((x) => x)
    expect(e).toMatchObject({ code: 'ERR_KMS', details: { timeout: true } })
    expect(e.message).toContain('did not finish within 300 ms')
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('a command that cannot run is an exit code from the shell (127), as with the Go SDK', async () => {
    const e = await createAWSCredentialProcess('/nonexistent/credential-helper --flag', { env })().catch((x) => x)
    expect(e).toMatchObject({ code: 'ERR_KMS', details: { exitCode: 127 } })
  })
})

function pascal(c: { accessKeyId: string; secretAccessKey: string }) {
  return { AccessKeyId: c.accessKeyId, SecretAccessKey: c.secretAccessKey }
}
