/**
 * The registry flag group of every verb that touches images (credentials and the hosts they are for, TLS, plain
 * HTTP, request log) and `--local-image`, and how they become a registry client.
 * @module
 */
import { resolve } from 'node:path'
import { CountersignError } from '../../errors.js'
import { createDockerConfigCredentials, normalizeRegistryHost } from '../../node/docker-config.js'
import { createNodeFetch } from '../../node/fetch.js'
import { nodeHasher } from '../../node/hasher.js'
import { createPodmanAuthCredentials } from '../../node/podman-auth.js'
import { type Credential, type CredentialProvider, chainCredentials } from '../../oci/auth.js'
import { createRegistryClient } from '../../oci/registry.js'
import type { OCIStore } from '../../oci/types.js'
import type { FlagSpec, ParsedFlags } from '../args.js'
import type { CliIO } from '../context.js'
import type { ImageTarget } from '../images.js'
import { VERBOSE_FLAG } from './verbose.js'

/**
 * Registry flags shared by every command that touches images; they go last in a verb's table.
 *
 * @example
 * const flags: readonly FlagSpec[] = [{ name: 'dir', type: 'string', help: 'layout directory' }, ...REGISTRY_FLAGS]
 */
export const REGISTRY_FLAGS: readonly FlagSpec[] = [
  { name: 'registry-username', type: 'string', help: 'registry user name (with --registry-password)' },
  { name: 'registry-password', type: 'string', help: 'registry password' },
  { name: 'registry-token', type: 'string', help: 'registry bearer token (sent as is)' },
  {
    name: 'registry-host',
    type: 'strings',
    help: "registry host[:port] the --registry-username/--registry-password/--registry-token are for, and the only ones they are sent to (repeatable; default: the image's registry)",
  },
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
  VERBOSE_FLAG,
]

/**
 * `--local-image`: IMAGE names an OCI layout directory even without the `oci:` prefix (read by `openImage`).
 *
 * @example
 * const flags: readonly FlagSpec[] = [LOCAL_IMAGE_FLAG, ...REGISTRY_FLAGS]
 */
export const LOCAL_IMAGE_FLAG: FlagSpec = {
  name: 'local-image',
  type: 'bool',
  help: 'IMAGE is a path to an OCI layout on disk',
}

// A registry as written in an image reference: host or IPv4, bracketed IPv6, optional port (no scheme, no path).
const REGISTRY_HOST_RE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(?::[0-9]{1,5})?$/

/**
 * The explicit `--registry-username`/`--registry-password`/`--registry-token`, as a provider that answers only for
 * the registries they were given for: the `--registry-host` hosts when any are named, else `imageRegistry` (the
 * registry of the image on the command line). Never "every registry": a long-running verb (the admission webhook)
 * that has no image of its own requires `--registry-host`, since the images it sees name registries an attacker
 * may control. Hosts compare as Docker compares them (whole host[:port], Docker Hub's names alike, no substrings).
 *
 * @throws {CountersignError} ERR_INVALID_INPUT for a user name without a password (or the reverse), a
 * `--registry-host` that is not a host[:port], `--registry-host` without credentials, or credentials with no
 * host to bind them to.
 * @example
 * const explicit = boundRegistryCredentials(flags, 'ghcr.io') // undefined when no credential flags were given
 */
export function boundRegistryCredentials(
  flags: ParsedFlags,
  imageRegistry: string | undefined,
): CredentialProvider | undefined {
  // An empty value counts as given here (`--registry-token ""` sends an empty token), unlike `stringFlag`.
  const str = (name: string) => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined)
  const [user, password, token] = [str('registry-username'), str('registry-password'), str('registry-token')]
  if ((user === undefined) !== (password === undefined)) {
    throw new CountersignError('ERR_INVALID_INPUT', '--registry-username and --registry-password go together')
  }
  const named = (flags['registry-host'] as string[] | undefined) ?? []
  for (const host of named) {
    if (!REGISTRY_HOST_RE.test(host)) {
      throw new CountersignError(
        'ERR_INVALID_INPUT',
        `--registry-host must be a registry host[:port] such as ghcr.io or localhost:5000, not ${JSON.stringify(host)}`,
      )
    }
  }
  const explicit: Credential | undefined =
    token !== undefined
      ? { registryToken: token }
      : user !== undefined
        ? { username: user, password: password! }
        : undefined
  if (explicit === undefined) {
    if (named.length > 0) {
      throw new CountersignError(
        'ERR_INVALID_INPUT',
        '--registry-host names the registries for --registry-username/--registry-password or --registry-token; give those too',
      )
    }
    return undefined
  }
  const bound = named.length > 0 ? named : imageRegistry !== undefined ? [imageRegistry] : []
  if (bound.length === 0) {
    throw new CountersignError(
      'ERR_INVALID_INPUT',
      '--registry-username/--registry-password and --registry-token need --registry-host HOST when no image is named: they go only to the registries named, never to every registry an image points at (per-registry credentials can also come from a Docker config)',
    )
  }
  const hosts = new Set(bound.map(normalizeRegistryHost))
  return async (registry) => (hosts.has(normalizeRegistryHost(registry)) ? explicit : undefined)
}

/**
 * A registry client configured from the registry flags: TLS options, the explicit credentials for the registries
 * they were given for ({@link boundRegistryCredentials}: `--registry-host`, else `imageRegistry`), then Docker
 * config / podman credentials, each per registry.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT for credential flags that do not go together or have no registry.
 * @example
 * const { store, requests } = registryStoreFromFlags(flags, io, 'ghcr.io')
 */
export function registryStoreFromFlags(
  flags: ParsedFlags,
  io: CliIO,
  imageRegistry: string | undefined,
): { readonly store: OCIStore; readonly requests: () => number } {
  const insecure = flags['allow-insecure-registry'] === true
  const str = (name: string) => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined)
  const explicit = boundRegistryCredentials(flags, imageRegistry)
  // Explicit flags first, then Docker's config, then podman's auth.json.
  const credentials = chainCredentials(
    ...(explicit ? [explicit] : []),
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
    // The process's secrets: the client adds each credential it resolves (Docker config too) and redacts with them.
    ...(io.secrets !== undefined ? { secrets: io.secrets } : {}),
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

/**
 * With `-d/--verbose`, the number of registry requests an image took (layouts make none, so say nothing).
 *
 * @example
 * reportRegistryRequests(target, flags, io) // stderr: "7 registry requests"
 */
export function reportRegistryRequests(target: ImageTarget, flags: ParsedFlags, io: CliIO): void {
  if (flags.verbose === true && !target.layout) io.stderr.write(`${target.requests()} registry requests\n`)
}
