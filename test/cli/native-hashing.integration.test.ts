/**
 * The CLI hashes large content natively: the verbs that hash a whole file or blob (sign-blob, verify-blob,
 * attest-blob, verify-blob-attestation, attach sbom, download sbom, save, load) never hand it to a portable
 * JavaScript SHA-2 — @noble/hashes (its one-shot functions and its streaming `create()`, the registry client's
 * default blob hasher) or the SDK's own src/internal/sha2.ts, both about a tenth of node:crypto's speed on large
 * inputs (bench/hashing.ts). Both modules are wrapped here, in-process, so every call a verb makes through them is
 * measured; a verb passes when no single hash computation it made in JavaScript took more than 64 KiB, against a
 * 4 MiB file (Merkle nodes, log entry bodies, key IDs and small payloads stay in JavaScript, where they are cheaper
 * than a native call).
 */
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { parseReference } from '../../src/oci/reference.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import { cli } from '../support/cli.js'
import { pushTinyImage } from '../support/oci-image.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'
import { type LocalSigstore, startLocalSigstore } from '../support/sigstore-stack.js'
import { startVaultServer, type VaultServer } from '../support/vault-server.js'

/** Every hash computation made through the wrapped JavaScript SHA-2 modules: which function, how many bytes. */
const portable = vi.hoisted(() => {
  const calls: { name: string; bytes: number }[] = []
  type OneShot = ((msg: Uint8Array, ...rest: unknown[]) => Uint8Array) & {
    create?: (...a: unknown[]) => { update(c: Uint8Array): unknown }
  }
  /** Wrap a one-shot hash (and, for noble's, its `create()`), recording each input's size. */
  const wrap = <F extends OneShot>(name: string, fn: F): F => {
    const wrapped = ((msg: Uint8Array, ...rest: unknown[]) => {
      calls.push({ name, bytes: msg.length })
      return fn(msg, ...rest)
    }) as F
    Object.assign(wrapped, fn)
    const create = fn.create
    if (create !== undefined) {
      wrapped.create = (...a: unknown[]) => {
        const hash = create(...a)
        const call = { name: `${name}.create()`, bytes: 0 }
        calls.push(call)
        const update = hash.update.bind(hash)
        hash.update = (chunk: Uint8Array) => {
          call.bytes += chunk.length
          update(chunk)
          return hash
        }
        return hash
      }
    }
    return wrapped
  }
  return { calls, wrap }
})

vi.mock('@noble/hashes/sha2.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('@noble/hashes/sha2.js')>()
  return {
    ...m,
    sha256: portable.wrap('noble sha256', m.sha256),
    sha384: portable.wrap('noble sha384', m.sha384),
    sha512: portable.wrap('noble sha512', m.sha512),
  }
})

vi.mock('../../src/internal/sha2.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/internal/sha2.js')>()
  return {
    ...m,
    sha256: portable.wrap('internal sha256', m.sha256),
    sha384: portable.wrap('internal sha384', m.sha384),
    sha512: portable.wrap('internal sha512', m.sha512),
    sha256Parts: (parts: readonly Uint8Array[]) => {
      portable.calls.push({ name: 'internal sha256Parts', bytes: parts.reduce((n, p) => n + p.length, 0) })
      return m.sha256Parts(parts)
    },
  }
})

const MiB = 1024 * 1024
const LARGE = 64 * 1024
const env = { COSIGN_PASSWORD: 'native hashing' }
let dir: string
let registry: TestRegistry
let sigstore: LocalSigstore
let vault: VaultServer
const VAULT_TOKEN = 'hvs.native-hashing-token'
let image: string
let services: string[]

/** The JavaScript hash computations of more than 64 KiB made since the last reset. */
const largePortable = () => portable.calls.filter((c) => c.bytes > LARGE)

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cs-native-hashing-'))
  ;[registry, sigstore, vault] = await Promise.all([
    startRegistry(),
    startLocalSigstore(),
    startVaultServer({ tokens: [VAULT_TOKEN] }),
  ])
  sigstore.writeTrustedRoot(join(dir, 'trusted_root.json'))
  services = ['--rekor-url', sigstore.rekor.url, '--trusted-root', 'trusted_root.json']
  writeFileSync(join(dir, 'big.bin'), randomBytes(4 * MiB))
  writeFileSync(join(dir, 'predicate.json'), JSON.stringify({ builder: { id: 'https://example.com/builder' } }))
  writeFileSync(
    join(dir, 'sbom.spdx.json'),
    JSON.stringify({ spdxVersion: 'SPDX-2.3', name: 'big', comment: randomBytes(3 * MiB).toString('hex') }),
  )
  expect((await cli(['generate-key-pair'], { cwd: dir, env })).code).toBe(0)
  // An image whose layer is 4 MiB of incompressible text, for save and load.
  image = `${registry.host}/native/app:v1`
  await pushTinyImage(createRegistryClient(), parseReference(image), randomBytes(3 * MiB).toString('base64'))
}, 120_000)

afterAll(async () => {
  await Promise.all([registry?.stop(), sigstore?.close(), vault?.close()])
  if (dir) rmSync(dir, { recursive: true, force: true })
})

beforeEach(() => {
  portable.calls.length = 0
})

describe('large content is hashed natively by the CLI', () => {
  it('the wrappers see what the verbs hash in JavaScript (the check can fail)', async () => {
    const { sha256 } = await import('@noble/hashes/sha2.js')
    const { sha256Parts } = await import('../../src/internal/sha2.js')
    sha256.create().update(new Uint8Array(LARGE + 1))
    sha256Parts([new Uint8Array(LARGE), new Uint8Array(1)])
    expect(largePortable().map((c) => c.name)).toEqual(['noble sha256.create()', 'internal sha256Parts'])
  })

  it('sign-blob of a 4 MiB file with a key file, logged in Rekor', async () => {
    const sign = await cli(
      ['sign-blob', '--key', 'cosign.key', ...services, '--bundle', 'big.sigstore.json', 'big.bin'],
      {
        cwd: dir,
        env,
      },
    )
    expect(sign.code, sign.stderr).toBe(0)
    expect(largePortable()).toEqual([])
  })

  it('verify-blob of a 4 MiB file against its bundle and Rekor entry', async () => {
    if (!existsSync(join(dir, 'big.sigstore.json'))) {
      const sign = await cli(
        ['sign-blob', '--key', 'cosign.key', ...services, '--bundle', 'big.sigstore.json', 'big.bin'],
        {
          cwd: dir,
          env,
        },
      )
      expect(sign.code, sign.stderr).toBe(0)
    }
    portable.calls.length = 0
    const verify = await cli(
      [
        'verify-blob',
        '--key',
        'cosign.pub',
        '--bundle',
        'big.sigstore.json',
        '--trusted-root',
        'trusted_root.json',
        'big.bin',
      ],
      { cwd: dir },
    )
    expect(verify.code, verify.stderr).toBe(0)
    expect(verify.stderr).toBe('Verified OK\n')
    // The log entry was checked, so its body and Merkle proof were hashed: in JavaScript, as small inputs only.
    expect(portable.calls.length).toBeGreaterThan(0)
    expect(largePortable()).toEqual([])
    // One byte changed at the end of the file: refused.
    const tampered = readFileSync(join(dir, 'big.bin'))
    tampered[tampered.length - 1]! ^= 1
    writeFileSync(join(dir, 'tampered.bin'), tampered)
    const refused = await cli(
      [
        'verify-blob',
        '--key',
        'cosign.pub',
        '--bundle',
        'big.sigstore.json',
        '--trusted-root',
        'trusted_root.json',
        'tampered.bin',
      ],
      { cwd: dir },
    )
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toMatch(/does not match|differs/)
  })

  it('sign-blob of a 4 MiB file with a KMS key (Vault transit, which is sent the digest)', async () => {
    const vaultEnv = { VAULT_ADDR: vault.url, VAULT_TOKEN }
    const gen = await cli(['generate-key-pair', '--kms', 'hashivault://big', '--output-key-prefix', 'vault'], {
      cwd: dir,
      env: vaultEnv,
    })
    expect(gen.code, gen.stderr).toBe(0)
    portable.calls.length = 0
    const sign = await cli(
      ['sign-blob', '--key', 'hashivault://big', '--tlog-upload=false', '--bundle', 'vault.sigstore.json', 'big.bin'],
      { cwd: dir, env: vaultEnv },
    )
    expect(sign.code, sign.stderr).toBe(0)
    const verify = await cli(
      ['verify-blob', '--key', 'vault.pub', '--bundle', 'vault.sigstore.json', '--insecure-ignore-tlog', 'big.bin'],
      { cwd: dir },
    )
    expect(verify.code, verify.stderr).toBe(0)
    expect(largePortable()).toEqual([])
  })

  it('attest-blob and verify-blob-attestation of a 4 MiB file', async () => {
    const ok = await cli(
      [
        'attest-blob',
        '--key',
        'cosign.key',
        ...services,
        '--predicate',
        'predicate.json',
        '--type',
        'custom',
        '--bundle',
        'big.att.json',
        'big.bin',
      ],
      { cwd: dir, env },
    )
    expect(ok.code, ok.stderr).toBe(0)
    const verify = await cli(
      [
        'verify-blob-attestation',
        '--key',
        'cosign.pub',
        '--bundle',
        'big.att.json',
        '--type',
        'custom',
        '--trusted-root',
        'trusted_root.json',
        'big.bin',
      ],
      { cwd: dir },
    )
    expect(verify.code, verify.stderr).toBe(0)
    expect(largePortable()).toEqual([])
  })

  it('attach sbom (a 6 MiB file, streamed) and download sbom', async () => {
    const attach = await cli(['attach', 'sbom', '--sbom', 'sbom.spdx.json', image], {
      cwd: dir,
      env: { COSIGN_MAX_ATTACHMENT_SIZE: '64MiB' },
    })
    expect(attach.code, attach.stderr).toBe(0)
    const download = await cli(['download', 'sbom', image], { cwd: dir, env: { COSIGN_MAX_ATTACHMENT_SIZE: '64MiB' } })
    expect(download.code, download.stderr).toBe(0)
    expect(download.stdoutBytes.length).toBeGreaterThan(6 * MiB)
    expect(largePortable()).toEqual([])
  })

  it('save an image with a 4 MiB layer to a layout, and load it into another repository', async () => {
    const save = await cli(['save', '--dir', 'layout', image], { cwd: dir })
    expect(save.code, save.stderr).toBe(0)
    const load = await cli(['load', '--dir', 'layout', `${registry.host}/native/copy:v1`], { cwd: dir })
    expect(load.code, load.stderr).toBe(0)
    expect(largePortable()).toEqual([])
  })
})
