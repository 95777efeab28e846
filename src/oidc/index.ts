/**
 * OIDC identity tokens for keyless signing: decode and check a token, ambient sources (explicit value,
 * `SIGSTORE_ID_TOKEN`, GitHub Actions), and the runtime-neutral steps of an interactive login (discovery,
 * authorization code + PKCE, code exchange). The browser and loopback part lives in `countersign/node`
 * (`loginInteractively`). Token signatures are verified by Fulcio, not here.
 *
 * Exported from `countersign/oidc`.
 * @module
 */
export {
  type AuthorizationRequest,
  type AuthorizationRequestOptions,
  createAuthorizationRequest,
  discoverOIDCProvider,
  type ExchangeAuthorizationCodeOptions,
  exchangeAuthorizationCode,
  type OIDCProviderMetadata,
  type OIDCRequestOptions,
  parseAuthorizationCallback,
  SIGSTORE_OIDC_ISSUER,
} from './authorization-code.js'
export {
  type DetectedIdentityToken,
  type DetectIdentityTokenOptions,
  detectIdentityToken,
  type Environment,
  type EnvironmentIdentityTokenOptions,
  environmentIdentityToken,
  type GitHubActionsIdentityTokenOptions,
  githubActionsIdentityToken,
  type IdentityTokenProvider,
  staticIdentityToken,
} from './providers.js'
export {
  type IdentityToken,
  MAX_IDENTITY_TOKEN_LENGTH,
  type ParseIdentityTokenOptions,
  parseIdentityToken,
} from './token.js'
