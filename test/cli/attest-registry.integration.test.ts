// `attest` / `verify-attestation` against a real docker-registry, in both storage forms.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseDSSEEnvelope } from '../../src/dsse/envelope.js'
import { parseReference } from '../../src/oci/reference.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import { type CliRun, cli } from '../support/cli.js'
import { pushTinyImage } from '../support/oci-image.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'

const env = { COSIGN_PASSWORD: 'pw' }

/** Run a verb in-process with this file's key password. */
const run = (argv: readonly string[], cwd: string, stdin?: string): Promise<CliRun> =>
  cli(argv, { cwd, env, ...(stdin !== undefined ? { stdin } : {}) })

/** The statements printed by verify-attestation (one envelope JSON per line). */
function printed(stdout: string): Record<string, unknown>[] {
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(new TextDecoder().decode(parseDSSEEnvelope(new TextEncoder().encode(line)).payload)))
}

const SLSA1 = JSON.stringify({
  buildDefinition: { buildType: 'https://example.com/build/v1', externalParameters: { ref: 'main' } },
  runDetails: { builder: { id: 'https://example.com/builder' }, metadata: { invocationID: 'run-7' } },
})
const CUSTOM_URI = 'https://example.com/scan/v1'

describe.each([
  { format: 'bundle', flag: '--new-bundle-format=true' },
  { format: 'legacy', flag: '--new-bundle-format=false' },
])('CLI attest / verify-attestation against a real docker-registry ($format)', ({ format, flag }) => {
  let reg: TestRegistry
  let dir: string
  let digest: string
  let image: string

  beforeAll(async () => {
    reg = await startRegistry()
    dir = mkdtempSync(join(tmpdir(), 'cs-attest-'))
    digest = await pushTinyImage(createRegistryClient(), parseReference(`${reg.host}/team/app:v1`), `hello ${format}`)
    image = `${reg.host}/team/app:v1`
    for (const prefix of ['a', 'b']) {
      expect((await cli(['generate-key-pair', '--output-key-prefix', prefix], { cwd: dir, env })).code).toBe(0)
    }
    writeFileSync(join(dir, 'slsa.json'), SLSA1)
    writeFileSync(join(dir, 'scan-1.json'), '{"result":"clean","n":1}')
    writeFileSync(join(dir, 'scan-2.json'), '{"result":"dirty","n":2}')
    writeFileSync(join(dir, 'notjson.txt'), 'this is not JSON')
  })
  afterAll(async () => {
    await reg?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('attests two predicate types and verifies each with --type; refuses a non-JSON predicate', async () => {
    const a = await run(
      [
        'attest',
        '--key',
        'a.key',
        '--tlog-upload=false',
        flag,
        '--type',
        'slsaprovenance1',
        '--predicate',
        'slsa.json',
        image,
      ],
      dir,
    )
    expect(a.code, a.stderr).toBe(0)
    expect(a.stderr).toContain(
      format === 'legacy'
        ? `Pushing attestation to: ${reg.host}/team/app:sha256-${digest.slice(7)}.att`
        : `Pushing attestation to: ${reg.host}/team/app@sha256:`,
    )
    // The predicate from stdin.
    const b = await run(
      [
        'attest',
        '--key',
        'a.key',
        '--tlog-upload=false',
        flag,
        '--type',
        CUSTOM_URI,
        '--predicate',
        '-',
        `${reg.host}/team/app@${digest}`,
      ],
      dir,
      '{"result":"clean","n":1}',
    )
    expect(b.code, b.stderr).toBe(0)
    const bad = await run(
      [
        'attest',
        '--key',
        'a.key',
        '--tlog-upload=false',
        flag,
        '--type',
        CUSTOM_URI,
        '--predicate',
        'notjson.txt',
        image,
      ],
      dir,
    )
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/^Error: invalid JSON payload for predicate type https:\/\/example\.com\/scan\/v1: /)

    const slsa = await run(
      ['verify-attestation', '--key', 'a.pub', '--insecure-ignore-tlog', '--type', 'slsaprovenance1', image],
      dir,
    )
    expect(slsa.code, slsa.stderr).toBe(0)
    expect(slsa.stderr).toContain(`Verification for ${image} --`)
    const statements = printed(slsa.stdout)
    expect(statements).toHaveLength(1)
    expect(statements[0]).toMatchObject({
      _type: 'https://in-toto.io/Statement/v0.1',
      subject: [{ name: `${reg.host}/team/app`, digest: { sha256: digest.slice(7) } }],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: { runDetails: { metadata: { invocationId: 'run-7' } } },
    })
    const custom = await run(
      ['verify-attestation', '--key', 'a.pub', '--insecure-ignore-tlog', '--type', CUSTOM_URI, image],
      dir,
    )
    expect(custom.code, custom.stderr).toBe(0)
    expect(printed(custom.stdout).map((s) => s.predicate)).toEqual([{ n: 1, result: 'clean' }])

    // Default --type is custom: nothing of that type here → cosign's error, exit 1.
    const none = await run(['verify-attestation', '--key', 'a.pub', '--insecure-ignore-tlog', image], dir)
    expect(none.code).toBe(1)
    // The order follows the referrers listing (sorted by manifest digest, which changes with every signature).
    expect([
      `Error: none of the attestations matched the predicate type: custom, found: https://slsa.dev/provenance/v1,${CUSTOM_URI}\n`,
      `Error: none of the attestations matched the predicate type: custom, found: ${CUSTOM_URI},https://slsa.dev/provenance/v1\n`,
    ]).toContain(none.stderr)
    const wrongKey = await run(
      ['verify-attestation', '--key', 'b.pub', '--insecure-ignore-tlog', '--type', CUSTOM_URI, image],
      dir,
    )
    expect(wrongKey.code).toBe(1)
    expect(wrongKey.stderr).toMatch(/^Error: no matching attestations: failed to verify signature/)
  })

  it(`attests a second scan (with --replace in the legacy form) and verifies it`, async () => {
    const r = await run(
      [
        'attest',
        '--key',
        'b.key',
        '--tlog-upload=false',
        flag,
        '--replace',
        '--type',
        CUSTOM_URI,
        '--predicate',
        'scan-2.json',
        image,
      ],
      dir,
    )
    expect(r.code, r.stderr).toBe(0)
    const v = await run(
      ['verify-attestation', '--key', 'a.pub', '--key', 'b.pub', '--insecure-ignore-tlog', '--type', CUSTOM_URI, image],
      dir,
    )
    expect(v.code, v.stderr).toBe(0)
    const predicates = printed(v.stdout).map((s) => s.predicate)
    if (format === 'legacy') {
      // The first scan was replaced; the SLSA attestation is untouched.
      expect(predicates).toEqual([{ n: 2, result: 'dirty' }])
      const slsa = await run(
        ['verify-attestation', '--key', 'a.pub', '--insecure-ignore-tlog', '--type', 'slsaprovenance1', image],
        dir,
      )
      expect(printed(slsa.stdout)).toHaveLength(1)
    } else {
      // cosign v3 ignores --replace for bundles: both scans remain referrers.
      expect(r.stderr).toContain('WARNING: --replace has no effect')
      expect(predicates).toEqual(
        expect.arrayContaining([
          { n: 1, result: 'clean' },
          { n: 2, result: 'dirty' },
        ]),
      )
      expect(predicates).toHaveLength(2)
    }
  })

  it('an image without attestations, and a missing image', async () => {
    await pushTinyImage(createRegistryClient(), parseReference(`${reg.host}/team/other:v1`), 'unattested')
    const none = await run(
      ['verify-attestation', '--key', 'a.pub', '--insecure-ignore-tlog', `${reg.host}/team/other:v1`],
      dir,
    )
    expect(none.code).toBe(1)
    expect(none.stderr).toBe('Error: no matching attestations: no attestations found\n')
    const missing = await run(
      ['verify-attestation', '--key', 'a.pub', '--insecure-ignore-tlog', `${reg.host}/team/nope:v1`],
      dir,
    )
    expect(missing.code).toBe(11)
  })
})
