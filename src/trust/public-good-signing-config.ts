/**
 * The Sigstore public-good signing config, shipped as data (what cosign v3 and sigstore-go fetch from TUF as
 * `signing_config.v0.2.json`). Snapshot of sigstore/root-signing `targets/signing_config.v0.2.json` at commit
 * 3520aedde4adadddf3015d294f21265f6dde1576: Fulcio, the Sigstore OIDC issuer, Rekor v2 `log2025-1` (from 2025-10-06)
 * and Rekor v1, and the Sigstore TSA. Refresh it with a release; callers that track TUF pass their own config.
 *
 * @module
 */
import { SIGNING_CONFIG_MEDIA_TYPE_V02 } from '../oci/media-types.js'
import { parseSigningConfig, type SigningConfig } from './signing-config.js'

/**
 * The public-good signing config as JSON text.
 *
 * Exported from `countersign/trust`.
 */
export const PUBLIC_GOOD_SIGNING_CONFIG_JSON: string = JSON.stringify({
  mediaType: SIGNING_CONFIG_MEDIA_TYPE_V02,
  caUrls: [
    {
      url: 'https://fulcio.sigstore.dev',
      majorApiVersion: 1,
      validFor: { start: '2022-04-13T20:06:15.000Z' },
      operator: 'sigstore.dev',
    },
  ],
  oidcUrls: [
    {
      url: 'https://oauth2.sigstore.dev/auth',
      majorApiVersion: 1,
      validFor: { start: '2022-04-13T20:06:15.000Z' },
      operator: 'sigstore.dev',
    },
  ],
  rekorTlogUrls: [
    {
      url: 'https://log2025-1.rekor.sigstore.dev',
      majorApiVersion: 2,
      validFor: { start: '2025-10-06T00:00:00Z' },
      operator: 'sigstore.dev',
    },
    {
      url: 'https://rekor.sigstore.dev',
      majorApiVersion: 1,
      validFor: { start: '2021-01-12T11:53:27.000Z' },
      operator: 'sigstore.dev',
    },
  ],
  tsaUrls: [
    {
      url: 'https://timestamp.sigstore.dev/api/v1/timestamp',
      majorApiVersion: 1,
      validFor: { start: '2025-07-04T00:00:00Z' },
      operator: 'sigstore.dev',
    },
  ],
  rekorTlogConfig: { selector: 'ANY' },
  tsaConfig: { selector: 'ANY' },
})

let cached: SigningConfig | undefined

/**
 * The public-good signing config, parsed once.
 *
 * @returns The parsed config.
 * @example
 * ```ts
 * import { publicGoodSigningConfig, selectSigningService } from 'countersign/trust'
 * const fulcio = selectSigningService(publicGoodSigningConfig().caUrls, [1], new Date())
 * ```
 *
 * Exported from `countersign/trust`.
 */
export function publicGoodSigningConfig(): SigningConfig {
  cached ??= parseSigningConfig(PUBLIC_GOOD_SIGNING_CONFIG_JSON)
  return cached
}
