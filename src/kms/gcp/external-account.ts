/**
 * `external_account` credential files (workload and workforce identity federation), as
 * `golang.org/x/oauth2/google/externalaccount` reads them: a subject token from the `credential_source` is exchanged
 * at Google's Security Token Service (RFC 8693 token exchange at `token_url`) for a federated access token, which is
 * used directly or, with `service_account_impersonation_url`, pays for a service account's token from IAM
 * Credentials. The subject token is fetched afresh for every exchange. Internal; reached through
 * `createGCPCredentialsFromJSON`.
 *
 * @module
 */
import { toBase64, utf8 } from '../../internal/bytes.js'
import type { AccessTokenSource } from '../access-token.js'
import { accessTokenOf, badResponse } from '../cloud-http.js'
import type { GCPCredentialOptions } from './credential-options.js'
import { impersonatedEmail, impersonatedTokenSource, lifetimeSeconds } from './impersonation.js'
import { type CredentialSource, parseCredentialSource, subjectTokenReader } from './subject-token.js'
import {
  credentialError,
  endpointURL,
  GCP_CLOUD_PLATFORM_SCOPE,
  GCP_PROVIDER,
  optionalString,
  postForm,
  requiredString,
} from './token-endpoint.js'

const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange'
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token'
/** The Go client's check before it sends `workforce_pool_user_project`. */
const WORKFORCE_AUDIENCE = /\/\/iam\.googleapis\.com\/locations\/[^/]+\/workforcePools\//

/** A parsed `external_account` file. */
export interface ExternalAccount {
  readonly audience: string
  readonly subjectTokenType: string
  readonly tokenURL: string
  readonly source: CredentialSource
  readonly impersonationURL?: string
  readonly lifetimeSeconds?: number
  readonly clientID?: string
  readonly clientSecret?: string
  readonly workforcePoolUserProject?: string
}

/** Read an `external_account` file; the credential source first, so an unsupported one is named as such. */
export function parseExternalAccount(doc: Record<string, unknown>): ExternalAccount {
  const source = parseCredentialSource(doc.credential_source)
  const what = 'external_account'
  const audience = requiredString(doc, 'audience', what)
  const subjectTokenType = requiredString(doc, 'subject_token_type', what)
  const universe = optionalString(doc, 'universe_domain', what) ?? 'googleapis.com'
  if (!/^[A-Za-z0-9.-]+$/.test(universe)) throw credentialError('Google credentials have an invalid "universe_domain"')
  const tokenURL = endpointURL(doc.token_url, 'token_url', `https://sts.${universe}/v1/token`)
  const impersonation = doc.service_account_impersonation_url
  const impersonationURL =
    impersonation === undefined || impersonation === ''
      ? undefined
      : endpointURL(impersonation, 'service_account_impersonation_url')
  const settings = doc.service_account_impersonation
  const lifetime = lifetimeSeconds(
    typeof settings === 'object' && settings !== null
      ? (settings as Record<string, unknown>).token_lifetime_seconds
      : undefined,
  )
  const workforce = optionalString(doc, 'workforce_pool_user_project', what)
  if (workforce !== undefined && !WORKFORCE_AUDIENCE.test(audience)) {
    throw credentialError('Google credentials: "workforce_pool_user_project" is only for workforce pool audiences')
  }
  const clientID = optionalString(doc, 'client_id', what)
  const clientSecret = optionalString(doc, 'client_secret', what)
  return {
    audience,
    subjectTokenType,
    tokenURL,
    source,
    ...(impersonationURL ? { impersonationURL } : {}),
    ...(lifetime !== undefined ? { lifetimeSeconds: lifetime } : {}),
    ...(clientID ? { clientID } : {}),
    ...(clientSecret ? { clientSecret } : {}),
    ...(workforce ? { workforcePoolUserProject: workforce } : {}),
  }
}

/** A non-secret account of the file for `onCredentialSource`: the source kind and the impersonated account. */
export function describeExternalAccount(account: ExternalAccount): string {
  const where =
    account.source.kind === 'file'
      ? `file ${account.source.file}`
      : account.source.kind === 'url'
        ? `url ${new URL(account.source.url).host}`
        : `executable ${account.source.argv[0]}`
  const email = account.impersonationURL ? impersonatedEmail(account.impersonationURL) : undefined
  return `credential_source ${where}${account.impersonationURL ? `, impersonating ${email ?? 'a service account'}` : ''}`
}

/**
 * The token source of an `external_account` file: STS exchange of a fresh subject token (scope cloud-platform when
 * impersonating, as the Go client asks), then impersonation when the file asks for it.
 */
export function externalAccountTokenSource(account: ExternalAccount, options: GCPCredentialOptions): AccessTokenSource {
  const now = options.now ?? Date.now
  const scopes = options.scopes ?? [GCP_CLOUD_PLATFORM_SCOPE]
  const readSubjectToken = subjectTokenReader(
    account.source,
    {
      audience: account.audience,
      subjectTokenType: account.subjectTokenType,
      ...(account.impersonationURL ? { impersonationURL: account.impersonationURL } : {}),
    },
    options,
  )
  // Workforce pools with a client: RFC 7617 Basic authentication, as the Go client sends it.
  const { clientID, clientSecret } = account
  const headers: Record<string, string> =
    clientID && clientSecret ? { Authorization: `Basic ${toBase64(utf8(`${clientID}:${clientSecret}`))}` } : {}
  options.secrets?.add(clientSecret)

  const exchange: AccessTokenSource = async ({ signal }) => {
    const subjectToken = await readSubjectToken(signal)
    const form: Record<string, string> = {
      audience: account.audience,
      grant_type: TOKEN_EXCHANGE_GRANT,
      requested_token_type: ACCESS_TOKEN_TYPE,
      subject_token_type: account.subjectTokenType,
      subject_token: subjectToken,
      scope: (account.impersonationURL ? [GCP_CLOUD_PLATFORM_SCOPE] : scopes).join(' '),
    }
    if (account.workforcePoolUserProject && !clientID) {
      form.options = JSON.stringify({ userProject: account.workforcePoolUserProject })
    }
    const { response, http } = await postForm(
      account.tokenURL,
      'Google STS',
      form,
      [subjectToken, clientSecret],
      { ...options, ...(signal ? { signal } : {}) },
      headers,
    )
    const issued = now()
    const token = accessTokenOf(response, GCP_PROVIDER, 'Google STS token exchange response', issued, http.secrets)
    // The Go client refuses a federated token without a lifetime: it could not know when to exchange again.
    if (token.expiresAt === undefined || token.expiresAt <= issued) {
      throw badResponse(GCP_PROVIDER, 'Google STS token exchange response has no valid expires_in', response.status)
    }
    return token
  }
  if (!account.impersonationURL) return exchange
  return impersonatedTokenSource(
    exchange,
    {
      url: account.impersonationURL,
      scopes,
      ...(account.lifetimeSeconds !== undefined ? { lifetimeSeconds: account.lifetimeSeconds } : {}),
    },
    options,
  )
}
