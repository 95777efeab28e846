/** What every CLI command gets: streams, environment, and how to open images and keys. @module */
import { readFile } from 'node:fs/promises'
import { basename, resolve } from 'node:path'
import { CountersignError } from '../errors.js'
import type { SecretSet } from '../http/redact.js'
import { type PrivateKey, type PublicKey, parsePublicKey } from '../keys/index.js'
import { loadPrivateKeyFile, loadPublicKeyFile, privateKeyFromPEM } from '../node/key-files.js'
import { openLayout } from '../node/layout-fs.js'
import { readPassword } from '../node/password.js'
import { parseReference, parseRepository } from '../oci/reference.js'
import type { OCIStore, Reference, Repository } from '../oci/types.js'
import { parseTrustedRoot, type TrustedRoot } from '../trust/trusted-root.js'
import type { ParsedFlags } from './args.js'
import { registryStoreFromFlags } from './flags/registry.js'
import { isKMSKey, kmsVerificationKeys } from './kms.js'
import { cliTrust } from './trust-source.js'

/** I/O of one CLI run, injectable for tests. */
export interface CliIO {
  readonly stdout: NodeJS.WritableStream
  readonly stderr: NodeJS.WritableStream
  readonly stdin: NodeJS.ReadStream
  readonly env: Record<string, string | undefined>
  readonly cwd: string
  /**
   * The process's secrets (created once, in `main.ts`; `runCli` creates one when absent): every client of the run
   * gets it, and errors, logs and admission answers are redacted with it.
   */
  readonly secrets?: SecretSet
}

/** An image to work on: the store holding it, and its reference there. */
export interface ImageTarget {
  readonly store: OCIStore
  readonly ref: Reference
  /** Whether the image is an OCI layout on disk (named `localhost/<dir>` in payload identities). */
  readonly layout: boolean
  /** Count of HTTP requests made (registry stores only). */
  readonly requests: () => number
}

/**
 * Open `image`: `oci:DIR[:tag|@digest]` (or any path with --local-image) is an OCI layout on disk;
 * anything else is a registry reference.
 */
export function openImage(image: string, flags: ParsedFlags, io: CliIO, options?: { create?: boolean }): ImageTarget {
  const local = flags['local-image'] === true
  if (local || image.startsWith('oci:')) {
    const spec = local ? image : image.slice(4)
    const { dir, tag, digest } = splitLayoutSpec(spec)
    const path = resolve(io.cwd, dir)
    // A layout is one repository; it gets a stable local name for payload identities.
    const name =
      basename(path)
        .toLowerCase()
        .replace(/[^a-z0-9._-]+/g, '-')
        .replace(/^[^a-z0-9]+/, '') || 'image'
    const ref: Reference = {
      registry: 'localhost',
      repository: name,
      ...(digest ? { digest } : { tag: tag ?? 'latest' }),
    }
    return { store: openLayout(path, { create: options?.create === true }), ref, layout: true, requests: () => 0 }
  }
  const ref = parseReference(image)
  // Explicit registry credentials go to this image's registry only (or to the --registry-host ones).
  const { store, requests } = registryStoreFromFlags(flags, io, ref.registry)
  return { store, ref, layout: false, requests }
}

function splitLayoutSpec(spec: string): { dir: string; tag?: string; digest?: string } {
  const at = spec.lastIndexOf('@')
  if (at > 0 && /^sha(256|512):[0-9a-f]+$/.test(spec.slice(at + 1)))
    return { dir: spec.slice(0, at), digest: spec.slice(at + 1) }
  const colon = spec.lastIndexOf(':')
  const slash = spec.lastIndexOf('/')
  if (colon > 0 && colon > slash && /^[\w][\w.-]{0,127}$/.test(spec.slice(colon + 1))) {
    return { dir: spec.slice(0, colon), tag: spec.slice(colon + 1) }
  }
  return { dir: spec }
}

/** COSIGN_REPOSITORY, when set: signatures live in that repository instead of the image's. */
export function signatureRepository(io: CliIO): Repository | undefined {
  const v = io.env.COSIGN_REPOSITORY
  return v ? parseRepository(v) : undefined
}

/**
 * The key held in an environment variable, for cosign's `env://NAME` key references (`--key
 * env://COSIGN_PRIVATE_KEY`: keys kept in CI secrets); `undefined` for any other reference. The value is one of the
 * run's secrets from here on.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT, cosign's words, when the variable is not set.
 */
function envKey(ref: string, io: CliIO): Uint8Array | undefined {
  if (!ref.startsWith('env://')) return undefined
  const name = ref.slice('env://'.length)
  const value = io.env[name]
  if (value === undefined) throw new CountersignError('ERR_INVALID_INPUT', `loading URL: env var $${name} not found`)
  io.secrets?.add(value)
  return new TextEncoder().encode(value)
}

/**
 * Load a private key (a file, or `env://NAME`), asking for its password with cosign's rules (COSIGN_PASSWORD, TTY,
 * stdin).
 */
export async function loadSigningKey(path: string, io: CliIO): Promise<PrivateKey> {
  const password = () => readPassword({ env: io.env, stdin: io.stdin, stderr: io.stderr as NodeJS.WriteStream })
  const bytes = envKey(path, io)
  return bytes ? privateKeyFromPEM(bytes, password) : loadPrivateKeyFile(resolve(io.cwd, path), password)
}

/**
 * Load one or more public keys (`--key` may repeat or hold a comma list): files, `env://NAME`, or KMS references
 * (`awskms://…`).
 */
export async function loadVerificationKeys(paths: readonly string[], io: CliIO): Promise<PublicKey[]> {
  if (paths.length === 0) throw new CountersignError('ERR_INVALID_INPUT', 'a key reference (--key) is required')
  const sets = await Promise.all(
    paths.map(async (p) => {
      if (isKMSKey(p)) return kmsVerificationKeys(p, io)
      const bytes = envKey(p, io)
      return [bytes ? parsePublicKey(bytes) : await loadPublicKeyFile(resolve(io.cwd, p))]
    }),
  )
  return sets.flat()
}

/**
 * The trusted root of `--trusted-root FILE`; without one, the root the TUF repository publishes (through the TUF
 * cache, refreshed when its timestamp expires: {@link cliTrust}), as cosign does.
 */
export async function loadTrustedRoot(path: string | undefined, io: CliIO): Promise<TrustedRoot> {
  if (path === undefined || path === '') return (await cliTrust(io)).trustedRoot
  let bytes: Uint8Array
  try {
    bytes = new Uint8Array(await readFile(resolve(io.cwd, path)))
  } catch (cause) {
    throw new CountersignError('ERR_INVALID_INPUT', `reading trusted root ${path}: ${(cause as Error).message}`, {
      cause,
    })
  }
  return parseTrustedRoot(bytes)
}
