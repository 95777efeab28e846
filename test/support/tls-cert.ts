/** Self-signed certificates for the loopback HTTPS servers (and token signers) the tests start. */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'

export interface SelfSignedCertOptions {
  /** File stem: writes `<name>.crt` and `<name>.key` (default `tls`). */
  readonly name?: string
  /** Subject CN (default `countersign-test`). */
  readonly commonName?: string
  /** The IP address the certificate names as its subjectAltName (default `127.0.0.1`). */
  readonly address?: string
}

/** Write a P-256 self-signed certificate valid for one day, and its unencrypted key, into `dir`; returns their paths. */
export function makeSelfSignedCert(dir: string, options: SelfSignedCertOptions = {}): { cert: string; key: string } {
  const name = options.name ?? 'tls'
  const cert = join(dir, `${name}.crt`)
  const key = join(dir, `${name}.key`)
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${options.commonName ?? 'countersign-test'}`,
      '-addext',
      `subjectAltName=IP:${options.address ?? '127.0.0.1'}`,
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  )
  return { cert, key }
}
