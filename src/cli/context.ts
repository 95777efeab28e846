/** What every CLI command gets: streams, environment, and how to open images and keys. @module */
import { readFile } from 'node:fs/promises'
import { basename, resolve } from 'node:path'
import { CountersignError } from '../errors.js'
import type { PrivateKey, PublicKey } from '../keys/index.js'
import { createDockerConfigCredentials } from '../node/docker-config.js'
import { createNodeFetch } from '../node/fetch.js'
import { nodeHasher } from '../node/hasher.js'
import { loadPrivateKeyFile, loadPublicKeyFile } from '../node/key-files.js'
import { openLayout } from '../node/layout-fs.js'
import { readPassword } from '../node/password.js'
import { createPodmanAuthCredentials } from '../node/podman-auth.js'
import { type Credential, chainCredentials } from '../oci/auth.js'
import { parseReference, parseRepository } from '../oci/reference.js'
import { createRegistryClient } from '../oci/registry.js'
import type { OCIStore, Reference, Repository } from '../oci/types.js'
import { publicGoodTrustedRoot } from '../trust/public-good.js'
import { parseTrustedRoot, type TrustedRoot } from '../trust/trusted-root.js'
import type { FlagSpec, ParsedFlags } from './args.js'
import { isKMSKey, kmsVerificationKeys } from './kms.js'

/** I/O of one CLI run, injectable for tests. */
export interface CliIO {
  readonly stdout: NodeJS.WritableStream
  readonly stderr: NodeJS.WritableStream
  readonly stdin: NodeJS.ReadStream
  readonly env: Record<string, string | undefined>
  readonly cwd: string
}

/** Registry flags shared by every command that touches images. */
export const REGISTRY_FLAGS: readonly FlagSpec[] = [
  { name: 'registry-username', type: 'string', help: 'registry user name (with --registry-password)' },
  { name: 'registry-password', type: 'string', help: 'registry password' },
  { name: 'registry-token', type: 'string', help: 'registry bearer token (sent as is)' },
  { name: 'registry-cacert', type: 'string', help: 'PEM file of extra CA certificates for registries' },
  {
    name: 'registry-client-cert',
    type: 'string',
    help: 'PEM client certificate for mTLS (with --registry-client-key)',
  },
  { name: 'registry-client-key', type: 'string', help: 'PEM client key for mTLS' },
  {
    name: 'allow-insecure-registry',
    type: 'bool',
    help: 'skip TLS verification and allow plain HTTP fallback for registries',
  },
  { name: 'allow-http-registry', type: 'bool', help: 'use plain HTTP to talk to registries' },
  { name: 'verbose', short: 'd', type: 'bool', help: 'log every registry request to stderr' },
]

/** An image to work on: the store holding it, and its reference there. */
export interface ImageTarget {
  readonly store: OCIStore
  readonly ref: Reference
  /** The payload identity cosign would use, overridable with --sign-container-identity. */
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
  const { store, requests } = registryStoreFromFlags(flags, io, ref.registry)
  return { store, ref, layout: false, requests }
}

/**
 * A registry client configured from the registry flags: TLS options, Docker config / podman credentials, and the
 * explicit `--registry-username`/`--registry-password`/`--registry-token` (for `explicitFor` only, when given; for
 * every registry otherwise, as a long-running webhook talks to many).
 */
export function registryStoreFromFlags(
  flags: ParsedFlags,
  io: CliIO,
  explicitFor?: string,
): { readonly store: OCIStore; readonly requests: () => number } {
  const insecure = flags['allow-insecure-registry'] === true
  const str = (name: string) => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined)
  const [user, password, token] = [str('registry-username'), str('registry-password'), str('registry-token')]
  if ((user === undefined) !== (password === undefined)) {
    throw new CountersignError('ERR_INVALID_INPUT', '--registry-username and --registry-password go together')
  }
  // Explicit flags first, then Docker's config, then podman's auth.json.
  const explicit: Credential | undefined =
    token !== undefined
      ? { registryToken: token }
      : user !== undefined
        ? { username: user, password: password! }
        : undefined
  const credentials = chainCredentials(
    async (registry) => (explicit && (explicitFor === undefined || registry === explicitFor) ? explicit : undefined),
    createDockerConfigCredentials({ env: io.env }),
    createPodmanAuthCredentials({ env: io.env }),
  )
  const resolvePath = (p: string | undefined) => (p === undefined ? undefined : resolve(io.cwd, p))
  const fetch = createNodeFetch({
    insecureSkipTLSVerify: insecure,
    env: io.env,
    ...(str('registry-cacert') ? { caFile: resolvePath(str('registry-cacert'))! } : {}),
    ...(str('registry-client-cert') ? { certFile: resolvePath(str('registry-client-cert'))! } : {}),
    ...(str('registry-client-key') ? { keyFile: resolvePath(str('registry-client-key'))! } : {}),
  })
  let count = 0
  const verbose = flags.verbose === true
  const store = createRegistryClient({
    fetch,
    credentials,
    hasher: nodeHasher,
    ...(insecure ? { insecure: true } : {}),
    ...(flags['allow-http-registry'] === true ? { plainHTTP: true } : {}),
    userAgent: 'countersign',
    onRequest: (info) => {
      count++
      if (verbose) io.stderr.write(`${info.method} ${info.url} → ${info.status}\n`)
    },
  })
  return { store, requests: () => count }
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

/** Load a private key file, asking for its password with cosign's rules (COSIGN_PASSWORD, TTY, stdin). */
export async function loadSigningKey(path: string, io: CliIO): Promise<PrivateKey> {
  return loadPrivateKeyFile(resolve(io.cwd, path), () =>
    readPassword({ env: io.env, stdin: io.stdin, stderr: io.stderr as NodeJS.WriteStream }),
  )
}

/** Load one or more public keys (`--key` may repeat or hold a comma list): files, or KMS references (`awskms://…`). */
export async function loadVerificationKeys(paths: readonly string[], io: CliIO): Promise<PublicKey[]> {
  if (paths.length === 0) throw new CountersignError('ERR_INVALID_INPUT', 'a key reference (--key) is required')
  const sets = await Promise.all(
    paths.map(async (p) => (isKMSKey(p) ? kmsVerificationKeys(p, io) : [await loadPublicKeyFile(resolve(io.cwd, p))])),
  )
  return sets.flat()
}

/**
 * The trusted root of `--trusted-root FILE`, or the embedded Sigstore public-good root when no file is given (cosign
 * would fetch it through TUF; countersign ships a snapshot and makes no network call).
 */
export async function loadTrustedRoot(path: string | undefined, io: CliIO): Promise<TrustedRoot> {
  if (path === undefined || path === '') return publicGoodTrustedRoot()
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
