/**
 * From a signing config (or cosign's explicit URL flags) to ready clients: the Fulcio CA and OIDC issuer for keyless
 * signing, and the Rekor logs and timestamp authorities that witness every signature.
 *
 * @module
 */

import type { TimestampAuthorityClient } from '../contracts/timestamp-authority.js'
import type { TransparencyLogWriter } from '../contracts/transparency-log.js'
import { createFulcioClient, type FulcioClient } from '../fulcio/client.js'
import type { ServiceClientOptions } from '../http/service.js'
import { createRekorClient } from '../rekor/client.js'
import { createRekorV2Client } from '../rekor/client-v2.js'
import { createTimestampClient } from '../timestamp/client.js'
import { publicGoodTrustedRoot } from '../trust/public-good.js'
import { publicGoodSigningConfig } from '../trust/public-good-signing-config.js'
import {
  type SigningConfig,
  type SigningService,
  selectSigningService,
  selectSigningServices,
} from '../trust/signing-config.js'
import type { TrustedRoot } from '../trust/trusted-root.js'
import type { WitnessOptions } from './witness.js'

/**
 * cosign's explicit service flags. When any is given, the services come from them alone, as cosign builds its
 * signing config from `--fulcio-url`, `--rekor-url`, `--oidc-issuer` and `--timestamp-server-url` (Rekor by URL is
 * v1; a TSA only when named).
 *
 * Exported from `countersign/witness`.
 */
export interface ExplicitServiceURLs {
  readonly fulcioUrl?: string
  readonly rekorUrl?: string
  readonly oidcIssuer?: string
  readonly timestampServerUrl?: string
}

/**
 * Options of {@link createSigstoreServices}.
 *
 * Exported from `countersign/witness`.
 */
export interface SigstoreServicesOptions extends ServiceClientOptions {
  /** Where the services are listed (default: the embedded public-good config). Ignored with `urls`. */
  readonly signingConfig?: SigningConfig
  /** Explicit URLs instead of a signing config (defaults for the ones left out: public Fulcio, Rekor v1, no TSA). */
  readonly urls?: ExplicitServiceURLs
  /** Verifies what the services return (default: the embedded public-good root). */
  readonly trustedRoot?: TrustedRoot
  /**
   * Rekor API versions the caller can store evidence of: `[1, 2]` (default) for bundles, `[1]` for legacy `.sig`
   * annotations, which can only hold a Rekor v1 SET.
   */
  readonly rekorVersions?: readonly (1 | 2)[]
  /** Selection time (default now). */
  readonly now?: Date
  /** Random source for the ANY/EXACT selectors. */
  readonly random?: () => number
}

/**
 * Clients for the selected services.
 *
 * Exported from `countersign/witness`.
 */
export interface SigstoreServices {
  /** Logs, TSAs and the trusted root, as the signing functions take them (`witness` option). */
  readonly witness: Omit<WitnessOptions, 'signal'>
  /** The certificate authority for keyless signing, when the config names one. */
  readonly fulcio?: FulcioClient
  /** The OIDC issuer for interactive login, when the config names one. */
  readonly oidcIssuer?: string
}

const DEFAULT_FULCIO_URL = 'https://fulcio.sigstore.dev'
const DEFAULT_REKOR_URL = 'https://rekor.sigstore.dev'
const DEFAULT_OIDC_ISSUER = 'https://oauth2.sigstore.dev/auth'

function clientOptions(options: SigstoreServicesOptions): ServiceClientOptions {
  return {
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.userAgent ? { userAgent: options.userAgent } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
    ...(options.secrets ? { secrets: options.secrets } : {}),
  }
}

function logClient(service: SigningService, options: ServiceClientOptions): TransparencyLogWriter {
  return service.majorApiVersion === 2
    ? createRekorV2Client({ ...options, url: service.url })
    : createRekorClient({ ...options, url: service.url })
}

/**
 * Build the service clients a signer needs, selecting from a signing config as sigstore-go does (Fulcio v1, Rekor v1
 * or v2 per `rekorVersions`, TSA v1, each by validity and the config's selectors), or from explicit URLs. Nothing is
 * contacted here.
 *
 * @param options - Config or URLs, trusted root, HTTP options.
 * @returns The witness options and the Fulcio client.
 * @throws {CountersignError} ERR_INVALID_INPUT when the config lists services but none is usable now.
 * @example
 * ```ts
 * import { createSigstoreServices } from 'countersign/witness'
 * import { signBlob } from 'countersign/blob'
 * const { witness } = createSigstoreServices()
 * const { bundle } = await signBlob(bytes, signer, { witness })
 * ```
 *
 * Exported from `countersign/witness`.
 */
export function createSigstoreServices(options: SigstoreServicesOptions = {}): SigstoreServices {
  const http = clientOptions(options)
  const trustedRoot = options.trustedRoot ?? publicGoodTrustedRoot()
  const urls = options.urls
  if (urls !== undefined) {
    return {
      witness: {
        trustedRoot,
        transparencyLogs: [createRekorClient({ ...http, url: urls.rekorUrl || DEFAULT_REKOR_URL })],
        timestampAuthorities: urls.timestampServerUrl
          ? [createTimestampClient({ ...http, url: urls.timestampServerUrl })]
          : [],
      },
      fulcio: createFulcioClient({ ...http, url: urls.fulcioUrl || DEFAULT_FULCIO_URL }),
      oidcIssuer: urls.oidcIssuer || DEFAULT_OIDC_ISSUER,
    }
  }
  const config = options.signingConfig ?? publicGoodSigningConfig()
  const now = options.now ?? new Date()
  const random = options.random ?? Math.random
  const logs = selectSigningServices(
    config.rekorTlogUrls,
    config.rekorTlogConfig,
    options.rekorVersions ?? [1, 2],
    now,
    random,
  )
  const tsas = selectSigningServices(config.tsaUrls, config.tsaConfig, [1], now, random)
  const transparencyLogs = logs.map((s) => logClient(s, http))
  const timestampAuthorities: TimestampAuthorityClient[] = tsas.map((s) =>
    createTimestampClient({ ...http, url: s.url }),
  )
  const fulcio = config.caUrls.length > 0 ? selectSigningService(config.caUrls, [1], now) : undefined
  const oidc = config.oidcUrls.length > 0 ? selectSigningService(config.oidcUrls, [1], now) : undefined
  return {
    witness: { trustedRoot, transparencyLogs, timestampAuthorities },
    ...(fulcio ? { fulcio: createFulcioClient({ ...http, url: fulcio.url }) } : {}),
    ...(oidc ? { oidcIssuer: oidc.url } : {}),
  }
}
