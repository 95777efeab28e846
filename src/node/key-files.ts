/** Read and write cosign key files (`cosign.key` 0600, `cosign.pub` 0644). @module */
import { randomBytes } from 'node:crypto'
import { type FileHandle, open, readFile, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, resolve } from 'node:path'
import { CountersignError, isCountersignError } from '../errors.js'
import { isCosignEncryptedKey } from '../keys/cosign-encrypted-format.js'
import { parsePrivateKey } from '../keys/parse-private.js'
import { parsePublicKey } from '../keys/parse-public.js'
import type { PrivateKey, PublicKey } from '../keys/types.js'
import { nodeScrypt } from './scrypt.js'

/**
 * Options for {@link writeKeyPair}.
 *
 * @example
 * ```ts
 * import { writeKeyPair } from 'countersign/node'
 * await writeKeyPair('cosign', privatePem, publicPem, { force: true, dir: '/keys' })
 * ```
 *
 * Exported from `countersign/node`.
 */
export interface WriteKeyPairOptions {
  /** Replace existing files (atomically). Default `false`: existing files are an error. */
  readonly force?: boolean
  /** Directory for the files. Default `process.cwd()`. */
  readonly dir?: string
}

/**
 * Where {@link writeKeyPair} wrote the files.
 *
 * @example
 * ```ts
 * const { privateKeyPath, publicKeyPath } = await writeKeyPair('cosign', privatePem, publicPem)
 * ```
 *
 * Exported from `countersign/node`.
 */
export interface WriteKeyPairResult {
  readonly privateKeyPath: string
  readonly publicKeyPath: string
}

const PRIVATE_MODE = 0o600
const PUBLIC_MODE = 0o644

function errno(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

function fileError(action: string, path: string, cause: unknown): CountersignError {
  if (isCountersignError(cause)) return cause
  if (errno(cause) === 'EEXIST') {
    return new CountersignError('ERR_FILE_EXISTS', `${path} already exists (use force to overwrite)`, {
      cause,
      details: { path },
    })
  }
  const reason = errno(cause) ?? (cause instanceof Error ? cause.message : 'unknown error')
  return new CountersignError('ERR_INVALID_INPUT', `cannot ${action} ${path}: ${reason}`, { cause, details: { path } })
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch (error) {
    if (errno(error) === 'ENOENT') return false
    throw fileError('check', path, error)
  }
}

async function writeAndClose(handle: FileHandle, data: string, mode: number): Promise<void> {
  try {
    await handle.writeFile(data, 'utf8')
    // The open() mode is filtered by the umask; set it explicitly so the key is never group/world readable.
    await handle.chmod(mode)
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Create `path`, failing if it exists; on any error nothing is left behind. */
async function writeExclusive(path: string, data: string, mode: number): Promise<void> {
  let handle: FileHandle
  try {
    handle = await open(path, 'wx', mode)
  } catch (error) {
    throw fileError('create', path, error)
  }
  try {
    await writeAndClose(handle, data, mode)
  } catch (error) {
    await rm(path, { force: true })
    throw fileError('write', path, error)
  }
}

/** Replace `path` atomically: write a sibling temp file, then rename over the target. */
async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const temp = resolve(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    await writeAndClose(await open(temp, 'wx', mode), data, mode)
    await rename(temp, path)
  } catch (error) {
    await rm(temp, { force: true })
    throw fileError('write', path, error)
  }
}

/**
 * Write a key pair as `<prefix>.key` (mode 0600) and `<prefix>.pub` (mode 0644), like `cosign generate-key-pair`.
 * Without `force`, an existing file is an error and nothing is written; with `force`, each file is replaced
 * atomically. If writing the public key fails after the private key was created, the private key is removed again.
 *
 * @param prefix - File name prefix (cosign's `--output-key-prefix`, default `cosign`).
 * @param privatePem - Encrypted private key PEM (from `encryptCosignPrivateKey`).
 * @param publicPem - Public key PEM (from `publicKeyToPEM`).
 * @param options - Overwrite and directory.
 * @returns The absolute paths written.
 * @throws {CountersignError} ERR_FILE_EXISTS naming the file when it exists and `force` is not set;
 *   ERR_INVALID_INPUT for an empty prefix or an I/O failure.
 * @example
 * ```ts
 * import { encryptCosignPrivateKey, generateKeyPair, publicKeyToPEM } from 'countersign/keys'
 * import { writeKeyPair } from 'countersign/node'
 * const key = await generateKeyPair()
 * await writeKeyPair('cosign', await encryptCosignPrivateKey(key, pw), publicKeyToPEM(key.publicKey))
 * ```
 *
 * Exported from `countersign/node`.
 */
export async function writeKeyPair(
  prefix: string,
  privatePem: string,
  publicPem: string,
  options: WriteKeyPairOptions = {},
): Promise<WriteKeyPairResult> {
  if (typeof prefix !== 'string' || prefix.length === 0) {
    throw new CountersignError('ERR_INVALID_INPUT', 'key file prefix must be a non-empty string')
  }
  if (typeof privatePem !== 'string' || typeof publicPem !== 'string')
    throw new TypeError('PEM contents must be strings')
  const dir = options.dir ?? process.cwd()
  const privateKeyPath = resolve(dir, `${prefix}.key`)
  const publicKeyPath = resolve(dir, `${prefix}.pub`)
  if (options.force === true) {
    await writeAtomic(privateKeyPath, privatePem, PRIVATE_MODE)
    await writeAtomic(publicKeyPath, publicPem, PUBLIC_MODE)
    return { privateKeyPath, publicKeyPath }
  }
  // Check both first so the common "already exists" case writes nothing at all.
  for (const path of [privateKeyPath, publicKeyPath]) {
    if (await exists(path)) throw fileError('create', path, Object.assign(new Error('exists'), { code: 'EEXIST' }))
  }
  await writeExclusive(privateKeyPath, privatePem, PRIVATE_MODE)
  try {
    await writeExclusive(publicKeyPath, publicPem, PUBLIC_MODE)
  } catch (error) {
    await rm(privateKeyPath, { force: true })
    throw error
  }
  return { privateKeyPath, publicKeyPath }
}

async function readKeyFile(path: string): Promise<Uint8Array> {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError('path must be a non-empty string')
  try {
    return new Uint8Array(await readFile(path))
  } catch (error) {
    if (errno(error) === 'ENOENT') {
      throw new CountersignError('ERR_INVALID_INPUT', `key file not found: ${path}`, {
        cause: error,
        details: { path },
      })
    }
    throw fileError('read', path, error)
  }
}

/** Prefix parse errors with the file path (codes are unchanged). */
function withPath(path: string, error: unknown): unknown {
  if (!isCountersignError(error)) return error
  return new CountersignError(error.code, `${path}: ${error.message}`, {
    cause: error,
    details: { ...error.details, path },
  })
}

/**
 * Load a private key file. A cosign encrypted key (`ENCRYPTED SIGSTORE PRIVATE KEY` or `ENCRYPTED COSIGN PRIVATE
 * KEY`) is decrypted with the password from `getPassword`, which is only called for encrypted keys; an unencrypted
 * PEM private key (PKCS#8, SEC1, PKCS#1) is accepted as is.
 *
 * @param path - File path.
 * @param getPassword - Called once when a password is needed, e.g. `() => readPassword()`.
 * @returns The private key.
 * @throws {CountersignError} ERR_INVALID_INPUT when the file is missing or unreadable; the decrypt/parse codes of
 *   `decryptCosignPrivateKey` and `parsePrivateKey` otherwise (messages prefixed with the path).
 * @example
 * ```ts
 * import { loadPrivateKeyFile, readPassword } from 'countersign/node'
 * const key = await loadPrivateKeyFile('cosign.key', () => readPassword())
 * ```
 *
 * Exported from `countersign/node`.
 */
export async function loadPrivateKeyFile(path: string, getPassword: () => Promise<Uint8Array>): Promise<PrivateKey> {
  const bytes = await readKeyFile(path)
  try {
    return await privateKeyFromPEM(bytes, getPassword)
  } catch (error) {
    throw withPath(path, error)
  }
}

/**
 * A private key from its PEM bytes, as {@link loadPrivateKeyFile} reads a file's: a cosign-encrypted key is
 * decrypted with the password from `getPassword` (called only then), any other PEM private key parsed as is. The
 * bytes are zeroed afterwards. Internal: also serves the CLI's `env://NAME` keys; not exported from the package.
 *
 * @example
 * ```ts
 * const key = await privateKeyFromPEM(new TextEncoder().encode(process.env.COSIGN_PRIVATE_KEY), () => readPassword())
 * ```
 */
export async function privateKeyFromPEM(
  bytes: Uint8Array,
  getPassword: () => Promise<Uint8Array>,
): Promise<PrivateKey> {
  try {
    if (isCosignEncryptedKey(bytes)) {
      const password = await getPassword()
      // Loaded here: reading public keys (every verification) never needs scrypt and secretbox.
      const { decryptCosignPrivateKey } = await import('../keys/cosign-encrypted.js')
      return await decryptCosignPrivateKey(bytes, password, { scrypt: nodeScrypt })
    }
    return parsePrivateKey(bytes)
  } finally {
    bytes.fill(0)
  }
}

/**
 * Load a public key file: PEM `PUBLIC KEY` or `RSA PUBLIC KEY` (or DER SubjectPublicKeyInfo).
 *
 * @param path - File path, e.g. `cosign.pub`.
 * @returns The public key.
 * @throws {CountersignError} ERR_INVALID_INPUT when the file is missing or not a public key; the codes of
 *   `parsePublicKey` otherwise.
 * @example
 * ```ts
 * import { loadPublicKeyFile } from 'countersign/node'
 * const key = await loadPublicKeyFile('cosign.pub')
 * ```
 *
 * Exported from `countersign/node`.
 */
export async function loadPublicKeyFile(path: string): Promise<PublicKey> {
  const bytes = await readKeyFile(path)
  try {
    return parsePublicKey(bytes)
  } catch (error) {
    throw withPath(path, error)
  }
}
