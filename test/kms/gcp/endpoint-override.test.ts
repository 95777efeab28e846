// gcloud's Cloud KMS endpoint override (CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS, the `api_endpoint_overrides/
// cloudkms` property): gcloud takes an absolute http(s) URL ending with '/' and, since the Cloud KMS client's base URL
// has no API version, appends `v1/` itself. The provider must send every request under `<override>v1/…`, including a
// path prefix (a Private Service Connect or proxy path), and sign against the Cloud KMS stand-in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gcpKMSEndpointFromEnvironment } from '../../../src/kms/gcp/index.js'
import { gcpKMSProviderFromEnvironment } from '../../../src/node/gcp-credentials.js'
import { bearerRecordingFetch, signAndVerify } from '../../support/gcp-federation.js'
import { type GCPKMSServer, startGCPKMSServer } from '../../support/gcp-kms-server.js'

const VAR = 'CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS'
const KEY = 'projects/countersign-test/locations/us-east1/keyRings/psc/cryptoKeys/release'
let kms: GCPKMSServer
let version: string

beforeAll(async () => {
  kms = await startGCPKMSServer()
  version = kms.addKey(KEY)
})
afterAll(async () => {
  await kms?.close()
})

describe('CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS', () => {
  it("takes gcloud's form: the base URL without the version, ending with /", () => {
    expect(gcpKMSEndpointFromEnvironment({})).toBeUndefined()
    expect(gcpKMSEndpointFromEnvironment({ [VAR]: '' })).toBeUndefined()
    expect(gcpKMSEndpointFromEnvironment({ [VAR]: 'https://cloudkms-psc1.p.googleapis.com/' })).toBe(
      'https://cloudkms-psc1.p.googleapis.com',
    )
    expect(gcpKMSEndpointFromEnvironment({ [VAR]: 'http://10.0.0.8:8080/kms/' })).toBe('http://10.0.0.8:8080/kms')
    for (const bad of [
      'https://cloudkms.example',
      'https://cloudkms.example/v1/',
      'cloudkms.example/',
      'ftp://cloudkms.example/',
      'https://user:pw@cloudkms.example/',
      'https://cloudkms.example/?x=/',
    ]) {
      expect(() => gcpKMSEndpointFromEnvironment({ [VAR]: bad }), bad).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_INPUT', message: expect.stringContaining(VAR) }),
      )
    }
    expect(() =>
      gcpKMSProviderFromEnvironment({ env: { [VAR]: 'https://cloudkms.example/v1/', GOOGLE_OAUTH_ACCESS_TOKEN: 'x' } }),
    ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }))
  })

  it('every request goes to <override>v1/…, and signing works against the stand-in', async () => {
    const before = kms.requests.length
    const provider = gcpKMSProviderFromEnvironment({
      env: { [VAR]: `${kms.url}/`, GOOGLE_OAUTH_ACCESS_TOKEN: kms.issueToken() },
    })
    await signAndVerify(provider, kms, version)
    const sent = kms.requests.slice(before)
    expect(sent.length).toBeGreaterThanOrEqual(4)
    expect(sent.every((r) => / \/v1\/projects\/countersign-test\/.* 200$/.test(r))).toBe(true)
  })

  it('a path prefix is kept (gcloud appends v1/ to it); the endpoint option wins over the variable', async () => {
    const urls: string[] = []
    const bearers: string[] = []
    const token = kms.issueToken()
    const viaProxy = bearerRecordingFetch(bearers, (url) => {
      urls.push(url)
      return url.replace('/psc-kms/v1/', '/v1/')
    })
    const provider = gcpKMSProviderFromEnvironment({
      env: { [VAR]: `${kms.url}/psc-kms/`, GOOGLE_OAUTH_ACCESS_TOKEN: token },
      fetch: viaProxy,
    })
    await signAndVerify(provider, kms, version)
    expect(urls.length).toBeGreaterThanOrEqual(4)
    for (const u of urls) expect(u.startsWith(`${kms.url}/psc-kms/v1/projects/countersign-test/`), u).toBe(true)
    expect(bearers).toEqual([`Bearer ${token}`])

    const explicit = gcpKMSProviderFromEnvironment({
      endpoint: kms.url,
      env: { [VAR]: 'http://127.0.0.1:1/', GOOGLE_OAUTH_ACCESS_TOKEN: token },
    })
    await signAndVerify(explicit, kms, version)
  })
})
