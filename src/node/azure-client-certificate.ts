/**
 * Reads `AZURE_CLIENT_CERTIFICATE_PATH` as azidentity's `ParseCertificates` does: a PEM file with the certificate(s)
 * and the private key in any order, or a PKCS#12 file (with `AZURE_CLIENT_CERTIFICATE_PASSWORD`). The key must be
 * RSA (MSAL for Go's `NewCredFromCert`); the certificate it belongs to is put first, the rest follow as its chain.
 * Beyond azidentity: PKCS#12 files OpenSSL 3 writes by default (PBES2/AES-256-CBC, SHA-256 MAC) and encrypted
 * PKCS#8 PEM keys (`ENCRYPTED PRIVATE KEY`) are read; legacy `Proc-Type`/`DEK-Info` PEM encryption is refused as
 * MSAL for Go refuses it.
 *
 * @module
 */
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { CountersignError } from '../errors.js'
import { fromUtf8 } from '../internal/bytes.js'
import { decodePEMBlocks } from '../internal/pem.js'
import type { AzureClientCertificate } from '../kms/azure/client-certificate.js'
import { parsePKCS12 } from './azure-pkcs12.js'

// A certificate file is a few KiB; a larger one is the wrong file.
const MAX_FILE_BYTES = 1 << 20

function invalid(path: string, message: string, cause?: unknown): CountersignError {
  return new CountersignError('ERR_INVALID_INPUT', `Azure client certificate ${path}: ${message}`, {
    ...(cause !== undefined ? { cause } : {}),
  })
}

interface Parsed {
  readonly certificates: Uint8Array[]
  readonly keys: KeyObject[]
}

function fromPEM(path: string, text: string, password: string | undefined): Parsed {
  const certificates: Uint8Array[] = []
  const keys: KeyObject[] = []
  for (const block of decodePEMBlocks(text)) {
    if (block.label === 'CERTIFICATE') {
      certificates.push(block.bytes)
      continue
    }
    if (!/^(?:RSA |ENCRYPTED )?PRIVATE KEY$/.test(block.label)) continue
    if (block.headers['DEK-Info'] !== undefined) {
      throw invalid(
        path,
        'legacy PEM encryption (DEK-Info) is not supported; convert the key with `openssl pkcs8 -topk8` (MSAL for Go refuses it too)',
      )
    }
    const encrypted = block.label === 'ENCRYPTED PRIVATE KEY'
    if (encrypted && !password) {
      throw invalid(path, 'the private key is encrypted; set AZURE_CLIENT_CERTIFICATE_PASSWORD')
    }
    try {
      keys.push(
        createPrivateKey({
          key: Buffer.from(block.bytes),
          format: 'der',
          type: block.label === 'RSA PRIVATE KEY' ? 'pkcs1' : 'pkcs8',
          ...(encrypted ? { passphrase: password } : {}),
        }),
      )
    } catch (cause) {
      throw invalid(path, encrypted ? 'cannot decrypt the private key (wrong password?)' : 'bad private key', cause)
    }
  }
  return { certificates, keys }
}

function fromPKCS12(path: string, bytes: Uint8Array, password: string | undefined): Parsed {
  let contents: ReturnType<typeof parsePKCS12>
  try {
    contents = parsePKCS12(bytes, password ?? '')
  } catch (cause) {
    throw invalid(path, cause instanceof CountersignError ? cause.message : 'not a PEM or PKCS#12 file', cause)
  }
  const keys = contents.privateKeys.map((der) => {
    try {
      return createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' })
    } catch (cause) {
      throw invalid(path, 'bad private key in the PKCS#12 file', cause)
    }
  })
  return { certificates: contents.certificates, keys }
}

/**
 * Read a client certificate file (PEM or PKCS#12) for `createAzureClientCertificateCredentials`.
 *
 * @param path - The file (`AZURE_CLIENT_CERTIFICATE_PATH`).
 * @param password - The PKCS#12 or encrypted-key password (`AZURE_CLIENT_CERTIFICATE_PASSWORD`). Secret.
 * @returns The certificates (the key's own first) and the RSA key as PKCS#8 DER.
 * @throws {CountersignError} ERR_INVALID_INPUT naming the file and what is wrong with it (never the password).
 * @example
 * ```ts
 * import { createAzureClientCertificateCredentials } from 'countersign/kms/azure'
 * import { loadAzureClientCertificate } from 'countersign/node'
 * const credentials = createAzureClientCertificateCredentials({
 *   tenantId,
 *   clientId,
 *   certificate: () => loadAzureClientCertificate('/etc/azure/sp.pem', undefined),
 * })
 * ```
 *
 * Exported from `countersign/node`.
 */
export async function loadAzureClientCertificate(
  path: string,
  password: string | undefined,
): Promise<AzureClientCertificate> {
  let bytes: Uint8Array
  try {
    if ((await stat(path)).size > MAX_FILE_BYTES) throw invalid(path, 'the file is larger than 1 MiB')
    bytes = await readFile(path)
  } catch (cause) {
    if (cause instanceof CountersignError) throw cause
    throw invalid(path, `cannot read the file (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, cause)
  }
  let text: string | undefined
  try {
    text = fromUtf8(bytes)
  } catch {
    // Binary: PKCS#12.
  }
  const parsed =
    text?.includes('-----BEGIN ') === true ? fromPEM(path, text, password) : fromPKCS12(path, bytes, password)
  if (parsed.certificates.length === 0) throw invalid(path, 'no certificate found')
  if (parsed.keys.length === 0) throw invalid(path, 'no private key found')
  if (parsed.keys.length > 1) throw invalid(path, 'more than one private key found')
  const key = parsed.keys[0]!
  if (key.asymmetricKeyType !== 'rsa') throw invalid(path, 'the private key must be an RSA key')
  const own = parsed.certificates.findIndex((der) => {
    try {
      return new X509Certificate(der).checkPrivateKey(key)
    } catch {
      return false
    }
  })
  if (own < 0) throw invalid(path, "the private key doesn't match any certificate")
  const certificates = [parsed.certificates[own]!, ...parsed.certificates.filter((_, i) => i !== own)]
  return { certificates, privateKey: new Uint8Array(key.export({ format: 'der', type: 'pkcs8' })) }
}
