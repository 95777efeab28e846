/**
 * The JSON an `external_account` executable answers (Google's executable-sourced credentials, response version 1):
 * `{version, success, token_type, id_token | saml_response, expiration_time}` on success, `{version, success: false,
 * code, message}` on failure. Checked in the order of `golang.org/x/oauth2/google/externalaccount`
 * (`executablecredsource.go`). Messages never quote the response: it holds the token. Internal.
 *
 * @module
 */
import { CountersignError } from '../../errors.js'
import { clipReason, createSecretSet, type SecretSet } from '../../http/redact.js'
import { isJSONObject } from '../../internal/json.js'
import { GCP_PROVIDER } from './token-endpoint.js'

const SUPPORTED_VERSION = 1
const ID_TOKEN_TYPES: ReadonlySet<string> = new Set([
  'urn:ietf:params:oauth:token-type:jwt',
  'urn:ietf:params:oauth:token-type:id_token',
])
const SAML_TYPE = 'urn:ietf:params:oauth:token-type:saml2'

function fail(message: string, reason = 'executable-response'): CountersignError {
  return new CountersignError('ERR_KMS', `Google credential_source executable: ${message}`, {
    details: { provider: GCP_PROVIDER, reason },
  })
}

/**
 * The subject token in an executable's answer. `where` is `response` or `output file`; `now` is in milliseconds;
 * `outputFile` says whether the source names one (then `expiration_time` is required). A failed or expired answer
 * throws with `details.reason` `executable-unsuccessful` / `executable-expired` (an output file holding one is
 * stale, and the executable is run instead).
 */
export function parseExecutableResponse(
  text: string,
  where: string,
  now: number,
  outputFile: boolean,
  secrets?: SecretSet,
): string {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw fail(`the ${where} is not JSON`)
  }
  if (!isJSONObject(doc)) throw fail(`the ${where} is not a JSON object`)
  const version = doc.version
  if (version === undefined || version === 0) throw fail(`the ${where} lacks "version"`)
  if (typeof doc.success !== 'boolean') throw fail(`the ${where} lacks "success"`)
  if (!doc.success) {
    const { code, message } = doc
    if (typeof code !== 'string' || code === '' || typeof message !== 'string' || message === '') {
      throw fail(`the ${where} must include "code" and "message" when unsuccessful`, 'executable-unsuccessful')
    }
    const set = secrets ?? createSecretSet()
    throw fail(
      `the ${where} reports failure: (${clipReason(code, set, 60)}) ${clipReason(message, set, 200)}`,
      'executable-unsuccessful',
    )
  }
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0 || version > SUPPORTED_VERSION) {
    throw fail(`the ${where} has unsupported version ${JSON.stringify(version).slice(0, 20)}`)
  }
  const expiration = doc.expiration_time
  if (expiration !== undefined && (typeof expiration !== 'number' || !Number.isFinite(expiration))) {
    throw fail(`the ${where} has an invalid "expiration_time"`)
  }
  if ((expiration === undefined || expiration === 0) && outputFile) throw fail(`the ${where} lacks "expiration_time"`)
  const tokenType = doc.token_type
  if (typeof tokenType !== 'string' || tokenType === '') throw fail(`the ${where} lacks "token_type"`)
  // expiration_time is in seconds since the epoch.
  if (typeof expiration === 'number' && expiration !== 0 && expiration * 1000 < now) {
    throw fail(`the token in the ${where} has expired`, 'executable-expired')
  }
  const field = ID_TOKEN_TYPES.has(tokenType) ? 'id_token' : tokenType === SAML_TYPE ? 'saml_response' : undefined
  if (field === undefined) throw fail(`the ${where} has an unsupported "token_type"`)
  const token = doc[field]
  if (typeof token !== 'string' || token === '') throw fail(`the ${where} lacks "${field}"`)
  return token
}
