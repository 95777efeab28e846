/**
 * gcloud's endpoint override for Cloud KMS (`api_endpoint_overrides/cloudkms`, or the environment variable
 * `CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS`), used for Private Service Connect and other private endpoints. gcloud
 * requires an absolute http(s) URL ending with `/` (its property validator) and, because the Cloud KMS client's base
 * URL (`https://cloudkms.googleapis.com/`) carries no API version, appends `v1/` itself
 * (`googlecloudsdk/core/resources.py` `GetApiBaseUrl`): the value is the base URL *without* `/v1/`.
 *
 * @module
 */
import { CountersignError } from '../../errors.js'
import type { KMSEnvironment } from '../types.js'

/**
 * The environment variable gcloud reads for the `api_endpoint_overrides/cloudkms` property.
 *
 * Exported from `countersign/kms/gcp`.
 */
export const GCP_KMS_ENDPOINT_OVERRIDE_VARIABLE = 'CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS'

function invalid(why: string): CountersignError {
  return new CountersignError(
    'ERR_INVALID_INPUT',
    `${GCP_KMS_ENDPOINT_OVERRIDE_VARIABLE} ${why} (gcloud's form: an absolute http:// or https:// URL ending with '/', without the API version, e.g. https://cloudkms-example.p.googleapis.com/)`,
    { details: { provider: 'gcpkms' } },
  )
}

/**
 * The Cloud KMS endpoint gcloud would use from `CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS`, in the form the provider's
 * `endpoint` option takes (the base URL; the provider adds `/v1/…`), or undefined when the variable is unset.
 *
 * @param env - The environment (`process.env` in Node).
 * @returns The base URL without its trailing `/`, or undefined.
 * @throws {CountersignError} ERR_INVALID_INPUT when the value is not what gcloud accepts, or names `/v1/` (gcloud
 *   would request `/v1/v1/…`).
 * @example
 * ```ts
 * import { createGCPKMSProvider, gcpKMSEndpointFromEnvironment } from 'countersign/kms/gcp'
 * const endpoint = gcpKMSEndpointFromEnvironment({ CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS: 'https://kms.example/' })
 * const provider = createGCPKMSProvider({ endpoint }) // requests https://kms.example/v1/projects/…
 * ```
 *
 * Exported from `countersign/kms/gcp`.
 */
export function gcpKMSEndpointFromEnvironment(env: KMSEnvironment): string | undefined {
  const value = env[GCP_KMS_ENDPOINT_OVERRIDE_VARIABLE]
  if (value === undefined || value === '') return undefined
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw invalid('is not a URL')
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || !value.endsWith('/')) {
    throw invalid('is not an absolute http(s) URL ending with /')
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw invalid('must not carry credentials, a query or a fragment')
  }
  if (/\/v1\/$/.test(url.pathname)) throw invalid('names the API version')
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`
}
