/**
 * A local "Fulcio + Rekor" for legacy keyless tests: an openssl-made CA chain (root, intermediate, leaf with EKU
 * codeSigning, an email SAN and the Fulcio issuer extension 1.3.6.1.4.1.57264.1.1 as raw bytes, like Fulcio v1
 * extensions), a Rekor P-256 key, a trusted root naming both, and a signer producing cosign's `.sig` layer
 * annotations (signature, certificate, chain, bundle = SET over a hashedrekord body).
 */

import { execFileSync } from 'node:child_process'
import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import canonicalize from 'canonicalize'

export const ISSUER = 'https://issuer.example.test'
export const IDENTITY = 'signer@example.test'

export interface LegacyCA {
  readonly dir: string
  readonly trustedRootJSON: string
  readonly leafPEM: string
  readonly chainPEM: string
  readonly leafKey: KeyObject
  /** Sign `payload` as cosign v2 keyless did; overrides let tests break one piece. */
  annotations(
    payload: Uint8Array,
    overrides?: {
      integratedTime?: number
      bodyHashOf?: Uint8Array
      corruptSET?: boolean
      leafPEM?: string
      leafKey?: KeyObject
    },
  ): Record<string, string>
}

function pemToDER(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64')
}

/** Build the CA with openssl (the leaf is valid from now for one day). */
export function makeLegacyCA(): LegacyCA {
  const dir = mkdtempSync(join(tmpdir(), 'cs-legacy-ca-'))
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  const ecKey = (name: string) => run('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', name)
  for (const k of ['root.key', 'inter.key', 'leaf.key', 'rekor.key']) ecKey(k)
  const issuerHex = Buffer.from(ISSUER).toString('hex')
  writeFileSync(
    join(dir, 'ext.cnf'),
    [
      '[req]',
      'distinguished_name=dn',
      '[dn]',
      '[root]',
      'basicConstraints=critical,CA:true',
      'keyUsage=critical,keyCertSign,cRLSign',
      'subjectKeyIdentifier=hash',
      '[inter]',
      'basicConstraints=critical,CA:true,pathlen:0',
      'keyUsage=critical,keyCertSign,cRLSign',
      'extendedKeyUsage=codeSigning',
      'subjectKeyIdentifier=hash',
      'authorityKeyIdentifier=keyid',
      '[leaf]',
      'basicConstraints=critical,CA:false',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=codeSigning',
      `subjectAltName=critical,email:${IDENTITY}`,
      'subjectKeyIdentifier=hash',
      'authorityKeyIdentifier=keyid',
      // Fulcio v1 extensions hold the raw string as extnValue (no DER UTF8String around it).
      `1.3.6.1.4.1.57264.1.1=DER:${issuerHex}`,
      '',
    ].join('\n'),
  )
  run(
    'req',
    '-new',
    '-x509',
    '-key',
    'root.key',
    '-subj',
    '/O=test/CN=test-root',
    '-days',
    '3650',
    '-sha256',
    '-config',
    'ext.cnf',
    '-extensions',
    'root',
    '-out',
    'root.pem',
  )
  run(
    'req',
    '-new',
    '-key',
    'inter.key',
    '-subj',
    '/O=test/CN=test-intermediate',
    '-config',
    'ext.cnf',
    '-out',
    'inter.csr',
  )
  run(
    'x509',
    '-req',
    '-in',
    'inter.csr',
    '-CA',
    'root.pem',
    '-CAkey',
    'root.key',
    '-CAcreateserial',
    '-days',
    '3650',
    '-sha256',
    '-extfile',
    'ext.cnf',
    '-extensions',
    'inter',
    '-out',
    'inter.pem',
  )
  run('req', '-new', '-key', 'leaf.key', '-subj', '/', '-config', 'ext.cnf', '-out', 'leaf.csr')
  run(
    'x509',
    '-req',
    '-in',
    'leaf.csr',
    '-CA',
    'inter.pem',
    '-CAkey',
    'inter.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-sha256',
    '-extfile',
    'ext.cnf',
    '-extensions',
    'leaf',
    '-out',
    'leaf.pem',
  )

  const read = (n: string) => readFileSync(join(dir, n), 'utf8')
  const leafPEM = read('leaf.pem')
  const chainPEM = read('inter.pem') + read('root.pem')
  const rekorPriv = createPrivateKey(read('rekor.key'))
  const rekorSPKI = createPublicKey(rekorPriv).export({ type: 'spki', format: 'der' })
  const logId = createHash('sha256').update(rekorSPKI).digest()
  const leafPriv = createPrivateKey(read('leaf.key'))
  const trustedRootJSON = JSON.stringify({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl: 'https://rekor.example.test',
        hashAlgorithm: 'SHA2_256',
        publicKey: {
          rawBytes: rekorSPKI.toString('base64'),
          keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          validFor: { start: '2020-01-01T00:00:00Z' },
        },
        logId: { keyId: logId.toString('base64') },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: 'test', commonName: 'test-intermediate' },
        uri: 'https://fulcio.example.test',
        certChain: {
          certificates: [
            { rawBytes: pemToDER(read('inter.pem')).toString('base64') },
            { rawBytes: pemToDER(read('root.pem')).toString('base64') },
          ],
        },
        validFor: { start: '2020-01-01T00:00:00Z' },
      },
    ],
    ctlogs: [],
    timestampAuthorities: [],
  })

  return {
    dir,
    trustedRootJSON,
    leafPEM,
    chainPEM,
    leafKey: leafPriv,
    annotations(payload, o = {}) {
      const signature = sign('sha256', payload, o.leafKey ?? leafPriv)
      const certPEM = o.leafPEM ?? leafPEM
      const body = canonicalize({
        apiVersion: '0.0.1',
        kind: 'hashedrekord',
        spec: {
          data: {
            hash: {
              algorithm: 'sha256',
              value: createHash('sha256')
                .update(o.bodyHashOf ?? payload)
                .digest('hex'),
            },
          },
          signature: {
            content: signature.toString('base64'),
            publicKey: { content: Buffer.from(certPEM).toString('base64') },
          },
        },
      })!
      // Now: the leaf's notBefore is when openssl made it, a moment ago.
      const integratedTime = o.integratedTime ?? Math.floor(Date.now() / 1000)
      const setPayload = {
        body: Buffer.from(body).toString('base64'),
        integratedTime,
        logID: logId.toString('hex'),
        logIndex: 42,
      }
      const set = sign('sha256', Buffer.from(canonicalize(setPayload)!), rekorPriv)
      if (o.corruptSET) set.writeUInt8(set[set.length - 1]! ^ 1, set.length - 1)
      return {
        'dev.cosignproject.cosign/signature': signature.toString('base64'),
        'dev.sigstore.cosign/certificate': certPEM,
        'dev.sigstore.cosign/chain': chainPEM,
        'dev.sigstore.cosign/bundle': JSON.stringify({
          SignedEntryTimestamp: set.toString('base64'),
          Payload: setPayload,
        }),
      }
    },
  }
}
