/**
 * Self-signed certificates for the loopback HTTPS servers (and token signers) the tests start, and a small CA issuing
 * leaf certificates (for servers that check client certificates).
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface SelfSignedCertOptions {
  /** File stem: writes `<name>.crt` and `<name>.key` (default `tls`). */
  readonly name?: string
  /** Subject CN (default `countersign-test`). */
  readonly commonName?: string
  /** The whole subject as `openssl req -subj` takes it (`/O=…/CN=…`), instead of `commonName`. */
  readonly subject?: string
  /** The IP address the certificate names as its subjectAltName (default `127.0.0.1`). */
  readonly address?: string
  /** Extension lines (`openssl req -addext`) instead of the subjectAltName of `address`. */
  readonly extensions?: readonly string[]
}

function openssl(args: readonly string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' })
}

/** `openssl req` arguments that make a new P-256 key and write it, unencrypted, to `keyFile`. */
export function newP256KeyArgs(keyFile: string): string[] {
  return ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile]
}

/** Write a P-256 self-signed certificate valid for one day, and its unencrypted key, into `dir`; returns their paths. */
export function makeSelfSignedCert(dir: string, options: SelfSignedCertOptions = {}): { cert: string; key: string } {
  const name = options.name ?? 'tls'
  const cert = join(dir, `${name}.crt`)
  const key = join(dir, `${name}.key`)
  const subject = options.subject ?? `/CN=${options.commonName ?? 'countersign-test'}`
  const extensions = options.extensions ?? [`subjectAltName=IP:${options.address ?? '127.0.0.1'}`]
  openssl([
    'req',
    '-x509',
    ...newP256KeyArgs(key),
    '-days',
    '1',
    '-subj',
    subject,
    ...extensions.flatMap((e) => ['-addext', e]),
    '-out',
    cert,
  ])
  return { cert, key }
}

/** A test certificate authority: its certificate and key files, and the directory it issues into. */
export interface TestCA {
  readonly cert: string
  readonly key: string
  readonly dir: string
  readonly name: string
}

/** A P-256 CA valid for a day, subject `O=<name>, CN=<name>-ca`: `<name>-ca.crt` / `<name>-ca.key` in `dir`. */
export function makeCA(dir: string, name: string): TestCA {
  const { cert, key } = makeSelfSignedCert(dir, {
    name: `${name}-ca`,
    subject: `/O=${name}/CN=${name}-ca`,
    extensions: ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign'],
  })
  return { cert, key, dir, name }
}

export interface IssueCertOptions {
  /** The subject CN and the only subjectAltName (a DNS name). */
  readonly san: string
  /** The extended key usage (default `serverAuth,clientAuth`). */
  readonly eku?: string
}

/** A P-256 leaf signed by `ca`, valid for a day: `<file>.crt` / `<file>.key` in the CA's directory. */
export function issueCert(ca: TestCA, file: string, options: IssueCertOptions): { cert: string; key: string } {
  const cert = join(ca.dir, `${file}.crt`)
  const key = join(ca.dir, `${file}.key`)
  const csr = join(ca.dir, `${file}.csr`)
  const ext = join(ca.dir, `${file}.ext`)
  writeFileSync(
    ext,
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage=${options.eku ?? 'serverAuth,clientAuth'}`,
      `subjectAltName=DNS:${options.san}`,
      '',
    ].join('\n'),
  )
  openssl(['req', '-new', ...newP256KeyArgs(key), '-subj', `/CN=${options.san}`, '-out', csr])
  const signing = ['-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-days', '1', '-extfile', ext]
  openssl(['x509', '-req', '-in', csr, ...signing, '-out', cert])
  return { cert, key }
}
