/**
 * The registry flag group of every verb that touches images (credentials, TLS, plain HTTP, request log) and
 * `--local-image`, and how they become a registry client.
 * @module
 */
import { resolve } from 'node:path'
import { CountersignError } from '../../errors.js'
import { createDockerConfigCredentials } from '../../node/docker-config.js'
import { createNodeFetch } from '../../node/fetch.js'
import { nodeHasher } from '../../node/hasher.js'
import { createPodmanAuthCredentials } from '../../node/podman-auth.js'
import { type Credential, chainCredentials } from '../../oci/auth.js'
import { createRegistryClient } from '../../oci/registry.js'
import type { OCIStore } from '../../oci/types.js'
import type { FlagSpec, ParsedFlags } from '../args.js'
import type { CliIO, ImageTarget } from '../context.js'

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

/**
 * A registry client configured from the registry flags: TLS options, Docker config / podman credentials, and the
 * explicit `--registry-username`/`--registry-password`/`--registry-token` (for `explicitFor` only, when given; for
 * every registry otherwise, as a long-running webhook talks to many).
 *
 * @example
 * const { store, requests } = registryStoreFromFlags(flags, io, 'ghcr.io')
 */
export function registryStoreFromFlags(
  flags: ParsedFlags,
  io: CliIO,
  explicitFor?: string,
): { readonly store: OCIStore; readonly requests: () => number } {
  const insecure = flags['allow-insecure-registry'] === true
  // An empty value counts as given here (`--registry-token ""` sends an empty token), unlike `stringFlag`.
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

/**
 * With `-d/--verbose`, the number of registry requests an image took (layouts make none, so say nothing).
 *
 * @example
 * reportRegistryRequests(target, flags, io) // stderr: "7 registry requests"
 */
export function reportRegistryRequests(target: ImageTarget, flags: ParsedFlags, io: CliIO): void {
  if (flags.verbose === true && !target.layout) io.stderr.write(`${target.requests()} registry requests\n`)
}
