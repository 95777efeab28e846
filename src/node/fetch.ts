/** A `fetch` for Node built on undici, with a keep-alive connection pool and TLS options. @module */
import { readFileSync } from 'node:fs'
import { rootCertificates } from 'node:tls'
import { Agent, fetch as undiciFetch } from 'undici'

/**
 * Options for {@link createNodeFetch}.
 *
 * Exported from `countersign/node`.
 */
export interface NodeFetchOptions {
  /** Skip TLS certificate verification (cosign's `--allow-insecure-registry`). Never the default. */
  readonly insecureSkipTLSVerify?: boolean
  /** Extra PEM CA certificates to trust, as a file path (in addition to Node's defaults). */
  readonly caFile?: string
  /** Maximum connections per origin (default 16). */
  readonly connections?: number
}

/**
 * Create a `fetch` that registry and Sigstore clients accept as their `fetch` option. It keeps connections alive
 * across requests (one TLS handshake per registry instead of one per request) and can trust extra CAs or, when
 * explicitly asked, skip certificate verification.
 *
 * @example
 * ```ts
 * import { createRegistryClient } from 'countersign/oci'
 * import { createNodeFetch } from 'countersign/node'
 * const store = createRegistryClient({ fetch: createNodeFetch({ caFile: '/etc/ssl/my-ca.pem' }) })
 * ```
 *
 * Exported from `countersign/node`.
 */
export function createNodeFetch(options: NodeFetchOptions = {}): typeof fetch {
  const ca = options.caFile ? readFileSync(options.caFile, 'utf8') : undefined
  const agent = new Agent({
    connections: options.connections ?? 16,
    keepAliveTimeout: 10_000,
    connect: {
      ...(options.insecureSkipTLSVerify ? { rejectUnauthorized: false } : {}),
      // undici replaces the default CA list when `ca` is set, so add the extra CA to Node's bundled roots.
      ...(ca ? { ca: [...rootCertificates, ca] } : {}),
    },
  })
  // undici's fetch has the same contract as the global one; its types differ only nominally.
  return ((input: Parameters<typeof fetch>[0], init?: RequestInit) =>
    undiciFetch(input as never, { ...(init as object), dispatcher: agent } as never)) as unknown as typeof fetch
}
