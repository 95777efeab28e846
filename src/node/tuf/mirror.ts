/** The public-good TUF mirror's address, apart from its embedded root so naming it loads nothing else. @module */

/**
 * The public-good TUF mirror (cosign's and sigstore-js's default).
 *
 * @example
 * ```ts
 * const provider = createTUFTrustProvider({ mirror: PUBLIC_GOOD_TUF_MIRROR })
 * ```
 *
 * Exported from `countersign/node`.
 */
export const PUBLIC_GOOD_TUF_MIRROR = 'https://tuf-repo-cdn.sigstore.dev'
