/** Test helpers for the webhook: a self-signed loopback certificate and a small HTTPS client trusting it. */
import { readFileSync } from 'node:fs'
import { request } from 'node:https'
import type { TLSSocket } from 'node:tls'
import { makeSelfSignedCert } from '../support/tls-cert.js'

/** Write `<name>.crt` / `<name>.key` (P-256, SAN IP:127.0.0.1, one day) into `dir`; returns their paths. */
export function makeLoopbackCert(dir: string, name = 'tls'): { cert: string; key: string } {
  return makeSelfSignedCert(dir, { name, commonName: `countersign-webhook-${name}` })
}

export interface HTTPSResult {
  readonly status: number
  readonly text: string
  readonly headers: Record<string, string | string[] | undefined>
  /** SHA-256 fingerprint of the server certificate seen on this connection. */
  readonly peerFingerprint: string
  // biome-ignore lint/suspicious/noExplicitAny: parsed response JSON, inspected by the tests
  json(): any
}

/** One request on a fresh connection, trusting only the PEM certificates in `caFiles`. */
export function httpsRequest(
  url: string,
  options: { method?: string; body?: string | Uint8Array; caFiles: readonly string[]; timeoutMs?: number },
): Promise<HTTPSResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        ca: options.caFiles.map((f) => readFileSync(f)),
        agent: false,
        headers: options.body !== undefined ? { 'content-type': 'application/json' } : {},
        timeout: options.timeoutMs ?? 20_000,
      },
      (res) => {
        const peer = (res.socket as TLSSocket).getPeerCertificate()
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('error', reject)
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          resolve({
            status: res.statusCode ?? 0,
            text,
            headers: res.headers,
            peerFingerprint: peer.fingerprint256 ?? '',
            json: () => JSON.parse(text),
          })
        })
      },
    )
    req.on('timeout', () => req.destroy(new Error('request timed out')))
    req.on('error', reject)
    req.end(options.body)
  })
}

/** Parse one sample of a Prometheus exposition (`name{labels} value`); 0 when absent. */
export function metricValue(text: string, sample: string): number {
  for (const line of text.split('\n')) if (line.startsWith(`${sample} `)) return Number(line.slice(sample.length + 1))
  return 0
}
