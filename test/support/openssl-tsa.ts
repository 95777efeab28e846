/**
 * A real RFC 3161 TSA for integration tests: the `openssl` CLI makes a root CA (P-384) and a TSA certificate (P-256,
 * EKU timeStamping critical) in a temporary directory, and a loopback node:http server answers
 * `POST application/timestamp-query` by running `openssl ts -reply` on the request. Unlike the @sigstore/mock TSA
 * (JSON requests only) this is an independent implementation speaking the DER protocol cosign uses.
 */
import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** The `openssl ts` configuration (`tsa.cnf`): section `tsa_config` for replies, `tsa_ext` for the TSA certificate. */
const CONFIG = `
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
serial = ./tsaserial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.3.6.1.4.1.57264.2
other_policies = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
[ tsa_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
`

export interface OpenSSLTSA {
  /** The timestamping URL (`http://127.0.0.1:PORT/api/v1/timestamp`; any path is served). */
  readonly url: string
  /** A protobuf-JSON `timestampAuthorities[]` item for a trusted root: chain leaf first, then the root. */
  readonly trustedRootTimestampAuthority: Record<string, unknown>
  /** DER of the TSA signing certificate and of its root. */
  readonly leaf: Uint8Array
  readonly root: Uint8Array
  /** Every request served, e.g. `POST /api/v1/timestamp 200`. */
  readonly requests: readonly string[]
  close(): Promise<void>
}

const derOfPEM = (pem: string) =>
  new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64'))

/** Write `tsa.cnf` (the `openssl ts` configuration) and the serial file `tsaserial` into `dir`. */
export function writeOpenSSLTSAConfig(dir: string): void {
  writeFileSync(join(dir, 'tsa.cnf'), CONFIG)
  writeFileSync(join(dir, 'tsaserial'), '01\n')
}

export interface OpenSSLTSACertificateOptions {
  /** The leaf key, as `openssl req -newkey` arguments (default P-256). */
  readonly leafKey?: readonly string[]
  /** Subject CNs of the TSA certificate and of its root (O is `countersign-test` in both). */
  readonly commonName: string
  readonly rootCommonName: string
}

/**
 * In `dir` (holding {@link writeOpenSSLTSAConfig}'s files): a root CA (P-384) `<name>-ca.crt` / `<name>-ca.key` and
 * the TSA certificate it issues (EKU timeStamping critical) `<name>.crt` / `<name>.key`.
 */
export function makeOpenSSLTSACertificates(dir: string, name: string, options: OpenSSLTSACertificateOptions): void {
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-384',
    '-nodes',
    '-keyout',
    `${name}-ca.key`,
    '-out',
    `${name}-ca.crt`,
    '-days',
    '3650',
    '-subj',
    `/O=countersign-test/CN=${options.rootCommonName}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ])
  openssl([
    'req',
    '-newkey',
    ...(options.leafKey ?? ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256']),
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/O=countersign-test/CN=${options.commonName}`,
  ])
  openssl([
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${name}-ca.crt`,
    '-CAkey',
    `${name}-ca.key`,
    '-CAcreateserial',
    '-out',
    `${name}.crt`,
    '-days',
    '365',
    '-extfile',
    'tsa.cnf',
    '-extensions',
    'tsa_ext',
  ])
}

export interface SelfSignedOpenSSLTSAOptions {
  /** Subject CN (O is `countersign-test`); a self-signed certificate is its own issuer, so this names both. */
  readonly commonName: string
  /** The serial number as `openssl x509 -set_serial` takes it (`0x…` or decimal); default random. */
  readonly serial?: string
  /** A key file in `dir` to certify (another certificate's key); default a new P-256 key `<name>.key`. */
  readonly keyFile?: string
  /** Extension lines replacing `tsa_ext` (critical EKU timeStamping, digitalSignature), e.g. to leave out the EKU. */
  readonly extensions?: readonly string[]
}

/**
 * In `dir` (holding {@link writeOpenSSLTSAConfig}'s files): a self-signed TSA certificate `<name>.crt`, valid for a
 * year, with `tsa_ext`'s extensions (or `extensions`), the kind of certificate a trusted root may name a TSA by alone.
 * Its key is `<name>.key` unless `keyFile` names an existing one. `openssl ts -reply` signs only with a certificate
 * fit for timestamping, so one without the EKU can only be a twin (same key, name and serial) of one that is.
 */
export function makeSelfSignedOpenSSLTSACertificate(
  dir: string,
  name: string,
  options: SelfSignedOpenSSLTSAOptions,
): void {
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  const key = options.keyFile ?? `${name}.key`
  const request = ['-out', `${name}.csr`, '-subj', `/O=countersign-test/CN=${options.commonName}`]
  if (options.keyFile === undefined) {
    openssl([
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      key,
      ...request,
    ])
  } else {
    openssl(['req', '-new', '-key', key, ...request])
  }
  let extensions = ['-extfile', 'tsa.cnf', '-extensions', 'tsa_ext']
  if (options.extensions !== undefined) {
    writeFileSync(join(dir, `${name}-ext.cnf`), `[ ext ]\n${options.extensions.join('\n')}\n`)
    extensions = ['-extfile', `${name}-ext.cnf`, '-extensions', 'ext']
  }
  openssl([
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    // Signed with its own key: issuer = subject.
    '-signkey',
    key,
    ...(options.serial === undefined ? [] : ['-set_serial', options.serial]),
    '-days',
    '365',
    ...extensions,
    '-out',
    `${name}.crt`,
  ])
}

/** Make the CA and TSA certificates and start the server on 127.0.0.1 with a random port. */
export async function startOpenSSLTSA(): Promise<OpenSSLTSA> {
  const dir = mkdtempSync(join(tmpdir(), 'openssl-tsa-'))
  const path = (name: string) => join(dir, name)
  const openssl = (args: string[]) => run('openssl', args, { cwd: dir, maxBuffer: 1024 * 1024 })
  writeOpenSSLTSAConfig(dir)
  makeOpenSSLTSACertificates(dir, 'tsa', { commonName: 'openssl tsa', rootCommonName: 'openssl tsa root' })
  const leaf = derOfPEM(readFileSync(path('tsa.crt'), 'utf8'))
  const root = derOfPEM(readFileSync(path('tsa-ca.crt'), 'utf8'))
  // The trusted-root window opens a minute back, so a verifier's clock slightly behind ours still sees it open.
  const start = new Date(Date.now() - 60_000)

  const requests: string[] = []
  let seq = 0
  // openssl ts -reply increments the serial file: one reply at a time.
  let queue: Promise<unknown> = Promise.resolve()
  const reply = (query: Buffer): Promise<Buffer> => {
    const id = ++seq
    const job = queue.then(async () => {
      const q = path(`q${id}.tsq`)
      const r = path(`r${id}.tsr`)
      await writeFile(q, query)
      try {
        // Arguments are passed as an argv array: nothing from the request reaches a shell.
        // prettier-ignore
        await openssl([
          'ts',
          '-reply',
          '-config',
          'tsa.cnf',
          '-queryfile',
          q,
          '-inkey',
          'tsa.key',
          '-signer',
          'tsa.crt',
          '-chain',
          'tsa-ca.crt',
          '-out',
          r,
        ])
        return await readFile(r)
      } finally {
        await rm(q, { force: true })
        await rm(r, { force: true })
      }
    })
    queue = job.catch(() => undefined)
    return job
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size <= 64 * 1024) chunks.push(c)
    })
    req.on('end', () => {
      const done = (status: number, body: Buffer | string, type = 'text/plain') => {
        requests.push(`${req.method} ${req.url} ${status}`)
        res.writeHead(status, { 'Content-Type': type }).end(body)
      }
      if (req.method !== 'POST') return done(405, 'method not allowed')
      if ((req.headers['content-type'] ?? '').split(';')[0]?.trim() !== 'application/timestamp-query') {
        return done(415, 'content type must be application/timestamp-query')
      }
      if (size > 64 * 1024) return done(413, 'request too large')
      reply(Buffer.concat(chunks)).then(
        (tsr) => done(200, tsr, 'application/timestamp-reply'),
        (e: unknown) => done(400, `openssl ts -reply failed: ${String((e as { stderr?: unknown }).stderr ?? e)}`),
      )
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/timestamp`
  const b64 = (der: Uint8Array) => Buffer.from(der).toString('base64')

  return {
    url,
    leaf,
    root,
    requests,
    trustedRootTimestampAuthority: {
      subject: { organization: 'countersign-test', commonName: 'openssl tsa' },
      uri: url,
      certChain: { certificates: [{ rawBytes: b64(leaf) }, { rawBytes: b64(root) }] },
      validFor: { start: start.toISOString() },
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await queue
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
