import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { computeDigest } from '../../src/oci/digest.js'
import { OCI_IMAGE_MANIFEST_MEDIA_TYPE } from '../../src/oci/media-types.js'
import { parseReference, withDigest } from '../../src/oci/reference.js'
import { createRegistryClient, type RegistryRequestInfo } from '../../src/oci/registry.js'
import { startTokenServer, type TokenServer } from '../support/bearer.js'
import { tinyImage } from '../support/oci-image.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'

describe('registry client against docker-registry with token (Bearer) auth', () => {
  let dir: string
  let tokens: TokenServer
  let reg: TestRegistry
  const user = { username: 'bob', password: 'b0b-pass' }
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-bearer-'))
    tokens = await startTokenServer({
      dir,
      ...user,
      refreshToken: 'refresh-123',
      grants: { 'bearer/readonly': ['pull'] },
    })
    reg = await startRegistry({ token: tokens })
  })
  afterAll(async () => {
    await reg?.stop()
    await tokens?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  test('push then read: one token per scope, then tokens are reused', async () => {
    const img = await tinyImage('bearer')
    const ref = parseReference(`${reg.host}/bearer/app:v1`)
    const requests: RegistryRequestInfo[] = []
    const client = createRegistryClient({ credentials: async () => user, onRequest: (r) => requests.push(r) })
    await client.pushBlob(ref, img.layer, img.layerDescriptor.mediaType)
    expect(requests.map((r) => `${r.method} ${r.status}`)).toEqual([
      'HEAD 401',
      'GET 200',
      'HEAD 404',
      'POST 202',
      'PUT 201',
    ])
    expect(tokens.requests.at(-1)).toEqual({ method: 'GET', scopes: [`repository:bearer/app:pull,push`], basic: true })
    requests.length = 0
    await client.pushBlob(ref, img.config, img.configDescriptor.mediaType)
    await client.pushManifest(ref, img.manifest, OCI_IMAGE_MANIFEST_MEDIA_TYPE)
    await client.resolve(ref)
    await client.fetchManifest(ref)
    expect(requests.every((r) => r.status !== 401)).toBe(true)
    expect(requests).toHaveLength(6)
    expect(await client.listTags(ref)).toEqual(['v1'])
  })

  test('a fresh reader needs one token exchange for HEAD + GET', async () => {
    const ref = parseReference(`${reg.host}/bearer/app:v1`)
    const requests: RegistryRequestInfo[] = []
    const client = createRegistryClient({ credentials: async () => user, onRequest: (r) => requests.push(r) })
    const d = await client.resolve(ref)
    expect((await client.fetchManifest(ref)).descriptor).toEqual(d)
    expect(requests.map((r) => `${r.method} ${r.status}`)).toEqual(['HEAD 401', 'GET 200', 'HEAD 200', 'GET 200'])
  })

  test('identity tokens use the refresh_token grant', async () => {
    const ref = parseReference(`${reg.host}/bearer/app:v1`)
    const client = createRegistryClient({ credentials: async () => ({ identityToken: 'refresh-123' }) })
    await client.resolve(ref)
    expect(tokens.requests.at(-1)).toMatchObject({
      method: 'POST',
      grant: 'refresh_token',
      scopes: ['repository:bearer/app:pull'],
    })
    const bad = createRegistryClient({ credentials: async () => ({ identityToken: 'nope' }) })
    await expect(bad.resolve(ref)).rejects.toMatchObject({ code: 'ERR_OCI_UNAUTHORIZED' })
  })

  test('wrong password is ERR_OCI_UNAUTHORIZED', async () => {
    const client = createRegistryClient({ credentials: async () => ({ username: 'bob', password: 'wrong' }) })
    const err = await client.fetchManifest(parseReference(`${reg.host}/bearer/app:v1`)).catch((e) => e)
    expect(err.code).toBe('ERR_OCI_UNAUTHORIZED')
    expect(err.message).not.toContain('wrong')
  })

  test('chunked push, cross-repo mount with the source pull scope, and delete with the delete scope', async () => {
    const blob = new Uint8Array(randomBytes(3 * 1024 * 1024))
    const src = parseReference(`${reg.host}/bearer/src`)
    const dst = parseReference(`${reg.host}/bearer/dst`)
    const requests: RegistryRequestInfo[] = []
    const client = createRegistryClient({
      credentials: async () => user,
      chunkSize: 1024 * 1024,
      onRequest: (r) => requests.push(r),
    })
    const desc = await client.pushBlob(src, blob, 'application/octet-stream')
    expect(requests.map((r) => `${r.method} ${r.status}`)).toEqual([
      'HEAD 401',
      'GET 200',
      'HEAD 404',
      'POST 202',
      'PATCH 202',
      'PATCH 202',
      'PATCH 202',
      'PUT 201',
    ])
    requests.length = 0
    const before = tokens.requests.length
    await client.pushBlob(dst, blob, 'application/octet-stream', { mountFrom: src })
    expect(requests.map((r) => `${r.method} ${r.status}`)).toEqual(['HEAD 401', 'GET 200', 'HEAD 404', 'POST 201'])
    expect(tokens.requests.slice(before)).toEqual([
      { method: 'GET', scopes: ['repository:bearer/dst:pull,push', 'repository:bearer/src:pull'], basic: true },
    ])
    const reader = createRegistryClient({ credentials: async () => user })
    expect(Buffer.from(await reader.fetchBlob(dst, desc.digest)).equals(Buffer.from(blob))).toBe(true)

    const img = await tinyImage('bearer-delete')
    const ref = parseReference(`${reg.host}/bearer/dst:gone`)
    await client.pushBlob(ref, img.config, img.configDescriptor.mediaType)
    await client.pushBlob(ref, img.layer, img.layerDescriptor.mediaType)
    const pushed = await client.pushManifest(ref, img.manifest, OCI_IMAGE_MANIFEST_MEDIA_TYPE)
    requests.length = 0
    await client.deleteManifest(withDigest(ref, pushed.digest))
    expect(requests.map((r) => `${r.method} ${r.status}`)).toEqual(['DELETE 401', 'GET 200', 'DELETE 202'])
    expect(tokens.requests.at(-1)?.scopes).toEqual(['repository:bearer/dst:delete'])
    await expect(client.resolve(withDigest(ref, pushed.digest))).rejects.toMatchObject({ code: 'ERR_OCI_NOT_FOUND' })
  })

  test('a pull-only grant can read but not push', async () => {
    const ref = parseReference(`${reg.host}/bearer/readonly`)
    const client = createRegistryClient({ credentials: async () => user })
    const err = await client.pushBlob(ref, new TextEncoder().encode('nope'), 'x').catch((e) => e)
    expect(err.code).toBe('ERR_OCI_UNAUTHORIZED')
    expect(await client.blobExists(ref, await computeDigest('x'))).toBe(false)
  })
})

describe('identity tokens against a token server without the OAuth2 POST', () => {
  let dir: string
  let tokens: TokenServer
  let reg: TestRegistry
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-bearer-get-'))
    tokens = await startTokenServer({ dir, username: 'x', password: 'y', postStatus: 405, anonymousPull: true })
    reg = await startRegistry({ token: tokens })
  })
  afterAll(async () => {
    await reg?.stop()
    await tokens?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  test('POST refused with 405 falls back to GET', async () => {
    const client = createRegistryClient({ credentials: async () => ({ identityToken: 'refresh-xyz' }) })
    const ref = parseReference(`${reg.host}/anon/app`)
    expect(await client.blobExists(ref, await computeDigest('x'))).toBe(false)
    expect(tokens.requests.map((r) => r.method)).toEqual(['POST', 'GET'])
    expect(tokens.requests[1]).toMatchObject({ scopes: ['repository:anon/app:pull'], basic: false })
  })
})
