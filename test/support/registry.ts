/** Start a real `docker-registry` (distribution 2.8) on 127.0.0.1 for integration tests. */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createNodeFetch } from '../../src/node/fetch.js'
import { makeSelfSignedCert } from './tls-cert.js'

export interface TestRegistry {
  /** `127.0.0.1:<port>` */
  readonly host: string
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  /** Temp dir holding config, storage and htpasswd. */
  readonly dir: string
  stop(): Promise<void>
}

export interface StartRegistryOptions {
  /** Serve HTTPS with a fresh self-signed certificate on this loopback address (not 127.0.0.1, which clients treat as plain HTTP). */
  readonly tls?: { readonly address: string }
  /** Enable htpasswd basic auth with this single user. */
  readonly auth?: { readonly username: string; readonly password: string }
  /** Enable distribution token auth against this token server (see bearer.ts). */
  readonly token?: {
    readonly realm: string
    readonly service: string
    readonly issuer: string
    readonly certPath: string
  }
}

export const REGISTRY_BINARY = '/usr/bin/docker-registry'

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

function configYAML(
  dir: string,
  port: number,
  htpasswd: string | undefined,
  token: StartRegistryOptions['token'],
  tls?: { address: string; cert: string; key: string },
): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'storage')}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: ${tls?.address ?? '127.0.0.1'}:${port}`,
    '  secret: countersign-test-secret',
  ]
  if (tls) lines.push('  tls:', `    certificate: ${tls.cert}`, `    key: ${tls.key}`)
  if (htpasswd !== undefined) {
    lines.push('auth:', '  htpasswd:', '    realm: countersign-test', `    path: ${htpasswd}`)
  } else if (token !== undefined) {
    lines.push(
      'auth:',
      '  token:',
      `    realm: ${token.realm}`,
      `    service: ${token.service}`,
      `    issuer: ${token.issuer}`,
      `    rootcertbundle: ${token.certPath}`,
    )
  }
  return `${lines.join('\n')}\n`
}

async function waitUntilUp(url: string, child: ChildProcess, stderr: () => string, caFile?: string): Promise<void> {
  const probe = caFile ? createNodeFetch({ caFile }) : fetch
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}: ${stderr()}`)
    try {
      const res = await probe(`${url}/v2/`)
      await res.body?.cancel()
      if (res.status === 200 || res.status === 401) return
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`docker-registry did not come up: ${stderr()}`)
}

/** Start a registry on a free loopback port with a temporary storage directory. */
export async function startRegistry(options: StartRegistryOptions = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-registry-'))
  let htpasswd: string | undefined
  if (options.auth) {
    htpasswd = join(dir, 'htpasswd')
    const line = execFileSync('htpasswd', ['-Bbn', options.auth.username, options.auth.password], { encoding: 'utf8' })
    writeFileSync(htpasswd, line)
  }
  let tls: { address: string; cert: string; key: string } | undefined
  if (options.tls) {
    tls = { address: options.tls.address, ...makeSelfSignedCert(dir, { address: options.tls.address }) }
  }
  for (let attempt = 0; ; attempt++) {
    const port = await freePort()
    const config = join(dir, 'config.yml')
    writeFileSync(config, configYAML(dir, port, htpasswd, options.token, tls))
    const child = spawn(REGISTRY_BINARY, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    child.stderr?.on('data', (c: Buffer) => {
      if (err.length < 20_000) err += c.toString('utf8')
    })
    const host = `${tls?.address ?? '127.0.0.1'}:${port}`
    const url = `${tls ? 'https' : 'http'}://${host}`
    try {
      await waitUntilUp(url, child, () => err, tls?.cert)
    } catch (e) {
      child.kill('SIGKILL')
      if (attempt < 2 && /address already in use/.test(err)) continue
      rmSync(dir, { recursive: true, force: true })
      throw e
    }
    return {
      host,
      url,
      dir,
      async stop() {
        if (child.exitCode === null) {
          const exited = new Promise((r) => child.once('exit', r))
          child.kill('SIGTERM')
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
          await exited
          clearTimeout(timer)
        }
        rmSync(dir, { recursive: true, force: true })
      },
    }
  }
}
