/**
 * The `credential_source` of an `external_account` file (workload identity federation) and the subject token it
 * yields, following `golang.org/x/oauth2/google/externalaccount`: a `file` (re-read on every exchange), a `url`
 * (GET with the file's `headers`, e.g. GitHub Actions' ID-token endpoint) or an `executable` (run without a shell,
 * only with `GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES=1`, answering the version 1 JSON response; a still valid
 * response in its `output_file` is used without running it). `format` says whether the token is the text itself or
 * a field of a JSON object. AWS (`environment_id: aws1`) and X.509 (`certificate`) sources are refused. Internal.
 *
 * @module
 */
import { CountersignError } from '../../errors.js'
import type { AbortSignalLike } from '../../internal/host-types.js'
import { isJSONObject } from '../../internal/json.js'
import { createCloudHTTP } from '../cloud-http.js'
import type { GCPCredentialOptions } from './credential-options.js'
import { parseExecutableResponse } from './executable-response.js'
import { impersonatedEmail } from './impersonation.js'
import { credentialError, endpointURL, GCP_PROVIDER, unsupportedCredential } from './token-endpoint.js'

/** How the token sits in what the source returns. */
export interface SubjectTokenFormat {
  readonly type: 'text' | 'json'
  /** `subject_token_field_name`, for `json`. */
  readonly field?: string
}

/** A parsed `credential_source`. */
export type CredentialSource =
  | { readonly kind: 'file'; readonly file: string; readonly format: SubjectTokenFormat }
  | {
      readonly kind: 'url'
      readonly url: string
      readonly headers: Readonly<Record<string, string>>
      readonly format: SubjectTokenFormat
    }
  | {
      readonly kind: 'executable'
      readonly argv: readonly string[]
      readonly timeoutMs: number
      readonly outputFile?: string
    }

/** The Go client's limits: what it reads of a token source, and the executable's time limits. */
const MAX_SOURCE_CHARS = 1 << 20
const EXECUTABLE_DEFAULT_TIMEOUT_MS = 30_000
const EXECUTABLE_MIN_TIMEOUT_MS = 5_000
const EXECUTABLE_MAX_TIMEOUT_MS = 120_000

function subjectTokenError(message: string, reason: string): CountersignError {
  return new CountersignError('ERR_KMS', message, { details: { provider: GCP_PROVIDER, reason } })
}

function formatOf(value: unknown): SubjectTokenFormat {
  if (value === undefined || value === null) return { type: 'text' }
  if (!isJSONObject(value)) throw credentialError('Google credentials: "credential_source.format" must be an object')
  const type = value.type ?? ''
  if (type === '' || type === 'text') return { type: 'text' }
  if (type !== 'json') throw credentialError('Google credentials: "credential_source.format.type" must be text or json')
  const field = value.subject_token_field_name
  if (typeof field !== 'string' || field === '') {
    throw credentialError('Google credentials: a json "credential_source.format" needs "subject_token_field_name"')
  }
  return { type: 'json', field }
}

function headersOf(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {}
  if (!isJSONObject(value)) throw credentialError('Google credentials: "credential_source.headers" must be an object')
  const out: Record<string, string> = {}
  for (const [name, v] of Object.entries(value)) {
    // Header names are RFC 9110 tokens; a CR or LF in a value would split the request.
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || typeof v !== 'string' || /[\r\n\0]/.test(v)) {
      throw credentialError('Google credentials: "credential_source.headers" holds an invalid header')
    }
    out[name] = v
  }
  return out
}

/** Parse `credential_source` in the Go client's order: AWS, file, url, executable. */
export function parseCredentialSource(value: unknown): CredentialSource {
  if (!isJSONObject(value)) {
    throw unsupportedCredential(
      'Google external_account credentials name no credential_source countersign supports (file, url or executable)',
    )
  }
  if (typeof value.environment_id === 'string' && value.environment_id.startsWith('aws')) {
    throw unsupportedCredential(
      'Google external_account credentials with an AWS credential_source (environment_id aws1) are not supported; ' +
        'use a file, url or executable credential_source',
    )
  }
  if (value.certificate !== undefined) {
    throw unsupportedCredential(
      'Google external_account credentials with an X.509 certificate source are not supported',
    )
  }
  if (typeof value.file === 'string' && value.file !== '') {
    return { kind: 'file', file: value.file, format: formatOf(value.format) }
  }
  if (typeof value.url === 'string' && value.url !== '') {
    return {
      kind: 'url',
      url: endpointURL(value.url, 'credential_source.url'),
      headers: headersOf(value.headers),
      format: formatOf(value.format),
    }
  }
  if (isJSONObject(value.executable)) {
    const e = value.executable
    const command = typeof e.command === 'string' ? e.command.trim() : ''
    if (command === '') throw credentialError('Google credentials: "credential_source.executable" lacks "command"')
    let timeoutMs = EXECUTABLE_DEFAULT_TIMEOUT_MS
    if (e.timeout_millis !== undefined && e.timeout_millis !== null) {
      const t = e.timeout_millis
      if (
        typeof t !== 'number' ||
        !Number.isInteger(t) ||
        t < EXECUTABLE_MIN_TIMEOUT_MS ||
        t > EXECUTABLE_MAX_TIMEOUT_MS
      ) {
        throw credentialError('Google credentials: executable "timeout_millis" must be between 5000 and 120000')
      }
      timeoutMs = t
    }
    const outputFile = typeof e.output_file === 'string' && e.output_file !== '' ? e.output_file : undefined
    return { kind: 'executable', argv: command.split(/\s+/), timeoutMs, ...(outputFile ? { outputFile } : {}) }
  }
  throw unsupportedCredential(
    'Google external_account credentials name no credential_source countersign supports (file, url or executable)',
  )
}

/** The token in a source's text, per `format`. Messages name the source and field, never the content. */
export function extractSubjectToken(text: string, format: SubjectTokenFormat, where: string): string {
  if (text.length > MAX_SOURCE_CHARS) throw subjectTokenError(`${where} is larger than 1 MiB`, 'subject-token')
  let token: unknown = text.trim()
  if (format.type === 'json') {
    let doc: unknown
    try {
      doc = JSON.parse(text)
    } catch {
      // No cause: the parser's message quotes the text, which holds the token.
      throw subjectTokenError(`${where} is not JSON`, 'subject-token')
    }
    token = isJSONObject(doc) ? doc[format.field!] : undefined
    if (token === undefined) {
      throw subjectTokenError(`${where} has no field ${JSON.stringify(format.field).slice(0, 80)}`, 'subject-token')
    }
  }
  if (typeof token !== 'string' || token.trim() === '') {
    throw subjectTokenError(`${where} holds no subject token`, 'subject-token')
  }
  return token.trim()
}

/** What the reader needs besides the source: the file's audience and token type, and where it impersonates. */
export interface SubjectTokenContext {
  readonly audience: string
  readonly subjectTokenType: string
  readonly impersonationURL?: string
}

/** A function returning a fresh subject token from `source` on every call. */
export function subjectTokenReader(
  source: CredentialSource,
  context: SubjectTokenContext,
  options: GCPCredentialOptions,
): (signal?: AbortSignalLike) => Promise<string> {
  const learn = (token: string) => {
    options.secrets?.addTemporary(token)
    return token
  }
  const read = async (path: string, signal?: AbortSignalLike): Promise<string> => {
    if (!options.readFile) {
      throw unsupportedCredential('Google credential_source files can only be read with countersign/node')
    }
    return options.readFile(path, signal ? { signal } : {})
  }
  switch (source.kind) {
    case 'file':
      return async (signal) => {
        const where = `subject token file ${source.file}`
        let text: string
        try {
          text = await read(source.file, signal)
        } catch (cause) {
          if (cause instanceof CountersignError && cause.code === 'ERR_UNSUPPORTED_ALGORITHM') throw cause
          throw new CountersignError('ERR_KMS', `cannot read Google ${where}`, {
            cause,
            details: { provider: GCP_PROVIDER, reason: 'subject-token' },
          })
        }
        return learn(extractSubjectToken(text, source.format, where))
      }
    case 'url': {
      // The request's own credential (GitHub's ACTIONS_ID_TOKEN_REQUEST_TOKEN) lives as long as the job.
      for (const [name, value] of Object.entries(source.headers)) {
        if (name.toLowerCase() === 'authorization') options.secrets?.add(/^\S+\s+(\S+)\s*$/.exec(value)?.[1], value)
      }
      return async (signal) => {
        const http = createCloudHTTP(GCP_PROVIDER, 'Google subject token URL', options)
        const res = await http({
          method: 'GET',
          url: source.url,
          headers: { Accept: '*/*', ...source.headers },
          maxBytes: MAX_SOURCE_CHARS,
          ...(signal ? { signal } : {}),
        })
        return learn(extractSubjectToken(res.text(), source.format, 'the subject token URL response'))
      }
    }
    case 'executable':
      return async (signal) => {
        const now = options.now ?? Date.now
        if (source.outputFile !== undefined && options.readFile) {
          let cached: string | undefined
          try {
            cached = await options.readFile(source.outputFile, signal ? { signal } : {})
          } catch {
            // No output file yet: run the executable (the Go client ignores read errors here too).
          }
          if (cached !== undefined && cached.trim() !== '') {
            try {
              return learn(parseExecutableResponse(cached, 'output file', now(), true, options.secrets))
            } catch (e) {
              // An expired or failed response in the file is stale: run the executable. Malformed ones are errors.
              const reason = e instanceof CountersignError ? e.details?.reason : undefined
              if (reason !== 'executable-expired' && reason !== 'executable-unsuccessful') throw e
            }
          }
        }
        if (options.env?.GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES !== '1') {
          throw subjectTokenError(
            'Google credential_source executables need to be explicitly allowed: set GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES=1',
            'executable-not-allowed',
          )
        }
        if (!options.runExecutable) {
          throw unsupportedCredential('Google credential_source executables can only be run with countersign/node')
        }
        const email = context.impersonationURL ? impersonatedEmail(context.impersonationURL) : undefined
        const output = await options.runExecutable({
          argv: source.argv,
          timeoutMs: source.timeoutMs,
          env: {
            GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE: context.audience,
            GOOGLE_EXTERNAL_ACCOUNT_TOKEN_TYPE: context.subjectTokenType,
            GOOGLE_EXTERNAL_ACCOUNT_INTERACTIVE: '0',
            ...(email ? { GOOGLE_EXTERNAL_ACCOUNT_IMPERSONATED_EMAIL: email } : {}),
            ...(source.outputFile ? { GOOGLE_EXTERNAL_ACCOUNT_OUTPUT_FILE: source.outputFile } : {}),
          },
          ...(signal ? { signal } : {}),
        })
        return learn(
          parseExecutableResponse(output, 'response', now(), source.outputFile !== undefined, options.secrets),
        )
      }
  }
}
