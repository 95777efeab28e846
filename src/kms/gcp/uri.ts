/** `gcpkms://` key references, parsed as sigstore's `pkg/signature/kms/gcp` parses them. @module */
import { CountersignError } from '../../errors.js'

/**
 * A parsed `gcpkms://` reference.
 *
 * Exported from `countersign/kms/gcp`.
 */
export interface GCPKMSKeyReference {
  readonly project: string
  readonly location: string
  readonly keyRing: string
  readonly cryptoKey: string
  /** The pinned version, or undefined for "the newest enabled version" (sigstore's choice). */
  readonly version?: string
  /** `projects/P/locations/L/keyRings/R` */
  readonly keyRingName: string
  /** `projects/P/locations/L/keyRings/R/cryptoKeys/K` */
  readonly cryptoKeyName: string
}

// sigstore's expression: both `cryptoKeyVersions` and the short `versions` name a version.
const REFERENCE =
  /^gcpkms:\/\/projects\/([^/]+)\/locations\/([^/]+)\/keyRings\/([^/]+)\/cryptoKeys\/([^/]+)(?:\/(?:cryptoKeyVersions|versions)\/([^/]+))?$/

function safeSegment(s: string): boolean {
  return /^[A-Za-z0-9_.~:@!$&'()*+,;=%-]+$/.test(s) && s !== '.' && s !== '..'
}

/**
 * Parse `gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K[/cryptoKeyVersions/V | /versions/V]`.
 *
 * @param uri - The key reference.
 * @returns Its parts and resource names.
 * @throws {CountersignError} ERR_INVALID_INPUT when the reference does not have that shape.
 * @example
 * ```ts
 * import { parseGCPKMSURI } from 'countersign/kms/gcp'
 * parseGCPKMSURI('gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k/versions/1').version // '1'
 * ```
 *
 * Exported from `countersign/kms/gcp`.
 */
export function parseGCPKMSURI(uri: string): GCPKMSKeyReference {
  if (typeof uri !== 'string') throw new TypeError('uri must be a string')
  const m = REFERENCE.exec(uri)
  // Segments end up in request paths: characters that would change the URL's meaning (query, fragment, dot
  // segments, controls) are refused here, where sigstore's looser pattern would pass them to the Go client.
  if (!m || m.slice(1).some((s) => s !== undefined && !safeSegment(s))) {
    throw new CountersignError(
      'ERR_INVALID_INPUT',
      'gcpkms key reference must look like gcpkms://projects/PROJECT/locations/LOCATION/keyRings/RING/cryptoKeys/KEY[/cryptoKeyVersions/VERSION]',
    )
  }
  const [, project, location, keyRing, cryptoKey, version] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string | undefined,
  ]
  const keyRingName = `projects/${project}/locations/${location}/keyRings/${keyRing}`
  return {
    project,
    location,
    keyRing,
    cryptoKey,
    ...(version !== undefined ? { version } : {}),
    keyRingName,
    cryptoKeyName: `${keyRingName}/cryptoKeys/${cryptoKey}`,
  }
}
