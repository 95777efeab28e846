import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer as createHttpsServer, type Server } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createNodeFetch } from '../../src/node/fetch.js'
import { computeDigest } from '../../src/oci/digest.js'
import { parseReference } from '../../src/oci/reference.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import { startProxy, type TestProxy } from '../support/proxy.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'

describe('createNodeFetch: HTTP proxies from the environment', () => {
  let reg: TestRegistry
  let proxy: TestProxy
  beforeAll(async () => {
    reg = await startRegistry()
    proxy = await startProxy()
  })
  afterAll(async () => {
    await proxy?.stop()
    await reg?.stop()
  })

  const probe = async (fetch: typeof globalThis.fetch) => {
    const before = proxy.requests.length
    const client = createRegistryClient({ fetch })
    expect(await client.blobExists(parseReference(`${reg.host}/proxy/app`), await computeDigest('x'))).toBe(false)
    return proxy.requests.slice(before)
  }

  test('HTTP_PROXY carries http requests in absolute form', async () => {
    const seen = await probe(createNodeFetch({ env: { HTTP_PROXY: proxy.url } }))
    expect(seen).toHaveLength(1)
    expect(seen[0]).toMatchObject({ method: 'HEAD', absolute: true })
    expect(seen[0]!.path).toMatch(/^\/v2\/proxy\/app\/blobs\/sha256:/)
    // Lower-case variables work too, and an explicit proxy URL needs no environment.
    expect(await probe(createNodeFetch({ env: { http_proxy: proxy.url } }))).toHaveLength(1)
    expect(await probe(createNodeFetch({ proxy: proxy.url, env: {} }))).toHaveLength(1)
  })

  test('NO_PROXY bypasses the proxy; HTTPS_PROXY alone does not proxy http; proxy: false ignores the environment', async () => {
    const port = reg.host.split(':')[1]
    expect(await probe(createNodeFetch({ env: { HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' } }))).toHaveLength(0)
    expect(
      await probe(createNodeFetch({ env: { HTTP_PROXY: proxy.url, NO_PROXY: `example.com, 127.0.0.1:${port}` } })),
    ).toHaveLength(0)
    // A NO_PROXY entry for another port, or a longer name, does not match.
    expect(await probe(createNodeFetch({ env: { HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1:1' } }))).toHaveLength(1)
    expect(await probe(createNodeFetch({ env: { HTTPS_PROXY: proxy.url } }))).toHaveLength(0)
    expect(await probe(createNodeFetch({ proxy: false, env: { HTTP_PROXY: proxy.url } }))).toHaveLength(0)
  })
})

describe('createNodeFetch: mutual TLS', () => {
  let dir: string
  let server: Server
  let host: string
  const files = (name: string) => join(dir, name)
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' })

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-mtls-'))
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
    openssl(
      'req',
      '-x509',
      ...ec,
      '-days',
      '1',
      '-subj',
      '/CN=test-ca',
      '-keyout',
      files('ca.key'),
      '-out',
      files('ca.pem'),
    )
    for (const [name, extra] of [
      ['server', 'subjectAltName=IP:127.0.0.2'],
      ['client', 'extendedKeyUsage=clientAuth'],
    ] as const) {
      openssl('req', ...ec, '-subj', `/CN=${name}`, '-keyout', files(`${name}.key`), '-out', files(`${name}.csr`))
      writeFileSync(files(`${name}.ext`), `${extra}\n`)
      openssl(
        'x509',
        '-req',
        '-in',
        files(`${name}.csr`),
        '-CA',
        files('ca.pem'),
        '-CAkey',
        files('ca.key'),
        '-CAcreateserial',
        '-days',
        '1',
        '-extfile',
        files(`${name}.ext`),
        '-out',
        files(`${name}.pem`),
      )
    }
    const { readFileSync } = await import('node:fs')
    server = createHttpsServer(
      {
        key: readFileSync(files('server.key')),
        cert: readFileSync(files('server.pem')),
        ca: readFileSync(files('ca.pem')),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        // Only reached with a client certificate the CA signed.
        res.writeHead(req.method === 'HEAD' ? 404 : 200).end()
      },
    )
    await new Promise<void>((r) => server.listen(0, '127.0.0.2', r))
    const addr = server.address()
    host = `127.0.0.2:${typeof addr === 'object' && addr !== null ? addr.port : 0}`
  })
  afterAll(async () => {
    server?.closeAllConnections()
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()))
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  test('with the client certificate the request succeeds; without it, ERR_NETWORK', async () => {
    const digest = await computeDigest('x')
    const ref = parseReference(`${host}/mtls/app`)
    const withCert = createRegistryClient({
      fetch: createNodeFetch({ caFile: files('ca.pem'), certFile: files('client.pem'), keyFile: files('client.key') }),
    })
    expect(await withCert.blobExists(ref, digest)).toBe(false)
    const without = createRegistryClient({
      fetch: createNodeFetch({ caFile: files('ca.pem') }),
      retry: { attempts: 0 },
    })
    await expect(without.blobExists(ref, digest)).rejects.toMatchObject({ code: 'ERR_NETWORK' })
    expect(() => createNodeFetch({ certFile: files('client.pem') })).toThrow(TypeError)
    expect(() => createNodeFetch({ caFile: files('missing.pem') })).toThrow(/cannot read the CA certificate file/)
  })
})
