/**
 * Test PKI for the Gatekeeper provider tests: leaves from a test CA (`makeCA` in test/support/tls-cert.ts) as
 * Gatekeeper's cert-controller makes its own, with the webhook Service's name as CN and only DNS SAN and extended key
 * usage serverAuth + clientAuth (open-policy-agent/cert-controller@5bfb84d4:pkg/rotator/rotator.go). Plus an HTTPS
 * client that presents such a leaf, and ProviderRequest / ProviderResponse builders.
 */
import type { Agent } from 'node:https'
import { type IssueCertOptions, issueCert, type TestCA } from '../support/tls-cert.js'
import { type HTTPSResult, httpsRequest } from './https-client.js'

/** Gatekeeper's client certificate name in its default namespace and Service. */
export const GATEKEEPER_SAN = 'gatekeeper-webhook-service.gatekeeper-system.svc'

/** A leaf signed by `ca`: `<file>.crt` / `<file>.key`, DNS SAN `san` (default Gatekeeper's), EKU `eku` if given. */
export function issueLeaf(
  ca: TestCA,
  file: string,
  options: Partial<IssueCertOptions> = {},
): { cert: string; key: string } {
  return issueCert(ca, file, { ...options, san: options.san ?? GATEKEEPER_SAN })
}

export interface ClientResult extends HTTPSResult {
  readonly contentType: string | undefined
}

/**
 * One request trusting `caFile`, presenting `client` when given: on a fresh connection without session reuse, or
 * through `agent` (which then holds the TLS options and may resume sessions).
 */
export async function mtlsRequest(
  url: string,
  options: {
    readonly caFile: string
    readonly client?: { readonly cert: string; readonly key: string }
    readonly method?: string
    readonly body?: string
    readonly agent?: Agent
  },
): Promise<ClientResult> {
  const res = await httpsRequest(url, {
    ...options,
    method: options.method ?? 'POST',
    caFiles: [options.caFile],
    // Gatekeeper's client insists on TLS 1.3 (frameworks constraint/pkg/externaldata/request.go).
    minVersion: 'TLSv1.3',
    timeoutMs: 60_000,
  })
  return { ...res, contentType: res.headers['content-type'] as string | undefined }
}

/** A ProviderRequest as Gatekeeper marshals it. */
export function providerRequest(keys: readonly string[]): string {
  return JSON.stringify({
    apiVersion: 'externaldata.gatekeeper.sh/v1beta1',
    kind: 'ProviderRequest',
    request: { keys },
  })
}

/** A ProviderResponse as the provider answers: `response` under Gatekeeper's apiVersion and kind. */
export function providerResponse(response: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: 'externaldata.gatekeeper.sh/v1beta1', kind: 'ProviderResponse', response }
}
