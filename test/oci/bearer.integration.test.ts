import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { OCI_IMAGE_MANIFEST_MEDIA_TYPE } from '../../src/oci/media-types.js'
import { parseReference } from '../../src/oci/reference.js'
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
    tokens = await startTokenServer({ dir, ...user, refreshToken: 'refresh-123' })
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
})
