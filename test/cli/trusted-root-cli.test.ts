// `countersign trusted-root create` as cosign v3 users drive it: spec flags (k=v,k=v) naming PEM files, the JSON on
// stdout with a newline or in --out (0600, no newline, overwritten), --with-default-services over the TUF trust
// material (the test run's public-good TUF cache), and cosign's error texts.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { toBase64 } from '../../src/internal/bytes.js'
import { encodePEM } from '../../src/internal/pem.js'
import { PUBLIC_GOOD_TRUSTED_ROOT_JSON, publicGoodTrustedRoot } from '../../src/trust/public-good.js'
import { parseTrustedRoot } from '../../src/trust/trusted-root.js'
import { cli } from '../support/cli.js'

let dir: string
const good = publicGoodTrustedRoot()
const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z')
const run = (args: string[]) => cli(['trusted-root', 'create', ...args], { cwd: dir })

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'trusted-root-cli-'))
  const pem = (label: string, ders: readonly Uint8Array[]) => ders.map((d) => encodePEM(label, d)).join('')
  writeFileSync(join(dir, 'rekor.pub'), pem('PUBLIC KEY', [good.tlogs[0]!.publicKey.rawBytes]))
  writeFileSync(join(dir, 'rekor-v2.pub'), pem('PUBLIC KEY', [good.tlogs[1]!.publicKey.rawBytes]))
  writeFileSync(join(dir, 'ctfe.pub'), pem('PUBLIC KEY', [good.ctlogs[1]!.publicKey.rawBytes]))
  writeFileSync(join(dir, 'fulcio.pem'), pem('CERTIFICATE', good.certificateAuthorities[1]!.certChain))
  writeFileSync(join(dir, 'tsa.pem'), pem('CERTIFICATE', good.timestampAuthorities[0]!.certChain))
  writeFileSync(
    join(dir, 'tsa-reversed.pem'),
    pem('CERTIFICATE', [...good.timestampAuthorities[0]!.certChain].reverse()),
  )
  writeFileSync(join(dir, 'tsa-leaf.pem'), pem('CERTIFICATE', good.timestampAuthorities[0]!.certChain.slice(0, 1)))
})

/** The public-good services as spec flags (files written above); the Rekor v2 log gets its checkpoint origin. */
const publicGoodSpecs = () => [
  '--fulcio',
  `url=https://fulcio.sigstore.dev,certificate-chain=fulcio.pem,start-time=${iso(good.certificateAuthorities[1]!.validFor.start)}`,
  '--rekor',
  `url=https://rekor.sigstore.dev, public-key = rekor.pub ,start-time=${iso(good.tlogs[0]!.publicKey.validFor.start)}`,
  '--rekor',
  `url=https://log2025-1.rekor.sigstore.dev,public-key=rekor-v2.pub,start-time=${iso(good.tlogs[1]!.publicKey.validFor.start)},origin=log2025-1.rekor.sigstore.dev`,
  '--ctfe',
  `url=https://ctfe.sigstore.dev/2022,public-key=ctfe.pub,start-time=${iso(good.ctlogs[1]!.publicKey.validFor.start)}`,
  '--tsa',
  `url=https://timestamp.sigstore.dev/api/v1/timestamp,certificate-chain=tsa.pem,start-time=${iso(good.timestampAuthorities[0]!.validFor.start)}`,
]

describe('countersign trusted-root create', () => {
  test('without flags prints only the media type, with a newline', async () => {
    const r = await run([])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toBe('{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}\n')
  })

  test('spec flags rebuild the public-good entries they name (v1 and v2 log IDs, CA subject, chains)', async () => {
    const r = await run(publicGoodSpecs())
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout.endsWith('}\n')).toBe(true)
    const expected = JSON.parse(PUBLIC_GOOD_TRUSTED_ROOT_JSON)
    expect(JSON.parse(r.stdout)).toEqual({
      ...expected,
      certificateAuthorities: [expected.certificateAuthorities[1]],
      ctlogs: [expected.ctlogs[1]],
    })
  })

  test('--out writes mode 0600 without a newline and overwrites an existing file', async () => {
    const out = join(dir, 'created.json')
    writeFileSync(out, 'old content that is longer than the new one'.repeat(100))
    const r = await run([...publicGoodSpecs(), '--out', 'created.json'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toBe('')
    const text = readFileSync(out, 'utf8')
    expect(text.endsWith('}')).toBe(true)
    expect(parseTrustedRoot(text).tlogs).toEqual(good.tlogs)
    const fresh = join(dir, 'fresh.json')
    expect((await run(['--out', fresh])).code).toBe(0)
    expect(statSync(fresh).mode & 0o777).toBe(0o600)
    const help = await cli(['trusted-root', '--help'], { cwd: dir })
    expect(help.stdout).toMatch(/overwrit/)
  })

  test('--with-default-services copies the TUF trust material; --no-default-* drop parts of it', async () => {
    const all = await run(['--with-default-services'])
    expect(all.code, all.stderr).toBe(0)
    // The test TUF repository serves the public-good root; sigstore-go re-derives the same JSON from it.
    expect(all.stdout).toBe(`${PUBLIC_GOOD_TRUSTED_ROOT_JSON}\n`)
    const some = await run(['--with-default-services', '--no-default-rekor', '--no-default-tsa'])
    expect(some.code, some.stderr).toBe(0)
    expect(Object.keys(JSON.parse(some.stdout))).toEqual(['mediaType', 'certificateAuthorities', 'ctlogs'])
    const none = await run([
      '--with-default-services',
      '--no-default-fulcio',
      '--no-default-ctfe',
      '--no-default-rekor',
      '--no-default-tsa',
    ])
    expect(JSON.parse(none.stdout)).toEqual({ mediaType: good.mediaType })
    // Without --with-default-services the --no-default-* flags change nothing.
    expect((await run(['--no-default-rekor'])).stdout).toBe((await run([])).stdout)
  })

  test('a --rekor key already in the defaults replaces that entry; a new one is added', async () => {
    const r = await run([
      '--with-default-services',
      '--rekor',
      'url=https://rekor.mirror.example.com,public-key=rekor.pub,start-time=2030-01-01T00:00:00Z',
      '--rekor',
      'url=https://v2.example.com,public-key=rekor-v2.pub,start-time=2020-01-01T00:00:00.5Z,origin=v2.example.com',
    ])
    expect(r.code, r.stderr).toBe(0)
    const tlogs = JSON.parse(r.stdout).tlogs
    expect(tlogs.map((l: { baseUrl: string }) => l.baseUrl)).toEqual([
      'https://v2.example.com',
      'https://log2025-1.rekor.sigstore.dev',
      'https://rekor.mirror.example.com',
    ])
    expect(tlogs[0].publicKey.validFor).toEqual({ start: '2020-01-01T00:00:00.500Z' })
    expect(tlogs[2].logId.keyId).toBe(toBase64(good.tlogs[0]!.logId))
  })

  test.each([
    [
      ['--fulcio', 'certificate-chain=fulcio.pem'],
      "parsing fulcio spec: missing or empty required key 'url' in fulcio spec",
    ],
    [
      ['--fulcio', 'url=,certificate-chain=fulcio.pem'],
      "parsing fulcio spec: missing or empty required key 'url' in fulcio spec",
    ],
    [['--tsa', 'url=https://t'], "parsing tsa spec: missing or empty required key 'certificate-chain' in tsa spec"],
    [
      ['--rekor', 'url=https://r,public-key=rekor.pub'],
      "parsing rekor spec: missing or empty required key 'start-time' in tlog spec",
    ],
    [
      ['--ctfe', 'url=https://c,start-time=2025-01-01T00:00:00Z'],
      "parsing ctfe spec: missing or empty required key 'public-key' in tlog spec",
    ],
    [['--rekor', 'url=https://r,public-key'], 'parsing rekor spec: invalid key-value pair: public-key'],
    [
      ['--tsa', 'url=https://t,certificate-chain=tsa-reversed.pem'],
      'parsing tsa spec: first certificate in chain must be a leaf certificate',
    ],
    [
      ['--tsa', 'url=https://t,certificate-chain=tsa-leaf.pem'],
      'parsing tsa spec: certificate chain must have at least two certificates',
    ],
    [
      ['--rekor', 'url=https://r,public-key=rekor.pub,start-time=2025-01-01'],
      'parsing rekor spec: parsing start-time: "2025-01-01" is not an RFC 3339 time',
    ],
    [
      ['--rekor', 'url=https://r,public-key=rekor.pub,start-time=2025-01-01T00:00:00Z,end-time=2024-01-01T00:00:00Z'],
      'parsing rekor spec: end time is before start time',
    ],
    [
      ['--fulcio', 'url=https://f,certificate-chain=fulcio.pem,start-time=2025-01-01T00:00:00.0000001Z'],
      'parsing fulcio spec: parsing start-time: sub-millisecond precision is not supported',
    ],
    [
      ['--rekor', 'url=https://r,public-key=rekor-v2.pub,start-time=2025-01-01T00:00:00Z,origin='],
      'parsing rekor spec: invalid checkpoint origin ""',
    ],
    [
      ['--rekor', 'url=https://r,public-key=fulcio.pem,start-time=2025-01-01T00:00:00Z'],
      'parsing rekor spec: parsing public-key: fulcio.pem',
    ],
    [
      ['--fulcio', 'url=https://f,certificate-chain=rekor.pub'],
      'parsing fulcio spec: parsing Fulcio certificate-chain: rekor.pub',
    ],
    [['--fulcio', 'url=https://f,certificate-chain=missing.pem'], 'parsing fulcio spec: reading missing.pem: ENOENT'],
  ])('%j fails: %s', async (args, message) => {
    const r = await run(args)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`Error: ${message}`)
    expect(r.stdout).toBe('')
  })

  test('other sub-verbs and arguments are refused', async () => {
    expect((await cli(['trusted-root', 'update'], { cwd: dir })).stderr).toMatch(
      /unknown trusted-root command "update"/,
    )
    expect((await cli(['trusted-root'], { cwd: dir })).code).toBe(1)
    expect((await run(['extra'])).stderr).toMatch(/takes no arguments/)
  })
})
