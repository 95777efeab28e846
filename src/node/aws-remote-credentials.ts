/**
 * The AWS default chain's remote sources, configured from the environment as the AWS SDK for Go v2 reads it:
 * container credentials (ECS task roles, EKS Pod Identity: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` /
 * `AWS_CONTAINER_CREDENTIALS_FULL_URI` with `AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE)`) and EC2 instance metadata
 * (`AWS_EC2_METADATA_DISABLED`, `AWS_EC2_METADATA_SERVICE_ENDPOINT(_MODE)`, `AWS_EC2_METADATA_V1_DISABLED`). The
 * chain in `aws-credentials.ts` decides when to ask them.
 *
 * @module
 */
import { lookup } from 'node:dns/promises'
import { readFile } from 'node:fs/promises'
import { BlockList, isIP } from 'node:net'
import { CountersignError } from '../errors.js'
import { createSecretSet } from '../http/redact.js'
import type { ServiceClientOptions } from '../http/service.js'
import { createContainerCredentials } from '../kms/aws/container-credentials.js'
import type { AWSCredentialProvider } from '../kms/aws/credentials.js'
import { createIMDSCredentials } from '../kms/aws/imds.js'
import type { AWSNodeCredentialsOptions } from './aws-credentials.js'

const ECS_ENDPOINT = 'http://169.254.170.2'

/**
 * Options for {@link awsContainerCredentialsFromEnv} and {@link awsInstanceMetadataCredentials}. Timeouts and
 * retries are these sources' own (a metadata endpoint that is not there must not cost the STS timeout), so
 * `timeoutMs` and `retry` are not used.
 *
 * @example
 * ```ts
 * import type { AWSRemoteCredentialsOptions } from 'countersign/node'
 * const options: AWSRemoteCredentialsOptions = { env: process.env, profile: { ec2_metadata_v1_disabled: 'true' } }
 * ```
 *
 * Exported from `countersign/node`.
 */
export interface AWSRemoteCredentialsOptions extends AWSNodeCredentialsOptions {
  /** Base of `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (default `http://169.254.170.2`; tests point it at loopback). */
  readonly containerEndpoint?: string
  /**
   * The selected shared-config profile's settings, as the file spells them: `ec2_metadata_service_endpoint`,
   * `ec2_metadata_service_endpoint_mode` and `ec2_metadata_v1_disabled` apply when the environment does not set them.
   */
  readonly profile?: Readonly<Record<string, string | undefined>>
  /** Address lookup for the allowed-host check of a plain-http full URI (default `node:dns` lookup). */
  readonly lookupHost?: (host: string) => Promise<readonly string[]>
}

/**
 * Container credentials configured by the environment, or `undefined` when neither
 * `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` nor `AWS_CONTAINER_CREDENTIALS_FULL_URI` is set. The relative URI wins and
 * is asked of the ECS agent (`http://169.254.170.2`). A full URI over plain http must name a loopback address, the
 * ECS agent, or the EKS Pod Identity agent (`169.254.170.23`, `fd00:ec2::23`); a host name must resolve to such
 * addresses only (checked on the first fetch); https may name any host. `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` is
 * read again before every fetch and wins over `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
 *
 * @param options - Environment, fetch, clock, secret set; `containerEndpoint` for tests.
 * @returns The provider, or `undefined` when the environment configures no container credentials.
 * @throws {CountersignError} ERR_KMS for a malformed URI or a disallowed host (also from the provider, for a host
 *   name that resolves elsewhere), and from the provider when the token file cannot be read or the endpoint fails.
 * @example
 * ```ts
 * import { awsContainerCredentialsFromEnv } from 'countersign/node'
 * const credentials = awsContainerCredentialsFromEnv({ env: process.env })
 * ```
 *
 * Exported from `countersign/node`.
 */
export function awsContainerCredentialsFromEnv(
  options: AWSRemoteCredentialsOptions = {},
): AWSCredentialProvider | undefined {
  const env = options.env ?? process.env
  const relative = nonEmpty(env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)
  const full = nonEmpty(env.AWS_CONTAINER_CREDENTIALS_FULL_URI)
  if (relative === undefined && full === undefined) return undefined
  const secrets = options.secrets ?? createSecretSet()
  const variable =
    relative !== undefined ? 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI' : 'AWS_CONTAINER_CREDENTIALS_FULL_URI'
  // The relative URI is the task's credential id: whoever reaches the agent with it gets the role.
  if (relative !== undefined) secrets.add(relative)
  const uri =
    relative !== undefined ? `${(options.containerEndpoint ?? ECS_ENDPOINT).replace(/\/+$/, '')}${relative}` : full!
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    throw configError(`${variable} is not a URL`)
  }
  let hostCheck: (() => Promise<void>) | undefined
  if (relative === undefined) {
    if (url.protocol === 'http:') hostCheck = allowedHostCheck(url.hostname, options)
    else if (url.protocol !== 'https:') throw configError(`${variable} must be an http or https URL`)
  }
  const tokenFile = nonEmpty(env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)
  const tokenValue = nonEmpty(env.AWS_CONTAINER_AUTHORIZATION_TOKEN)
  secrets.add(tokenValue)
  const authorizationToken =
    tokenFile !== undefined
      ? async () => {
          try {
            return await readFile(tokenFile, 'utf8')
          } catch (cause) {
            throw new CountersignError('ERR_KMS', `cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE ${tokenFile}`, {
              cause,
              details: { provider: 'aws', reason: 'authorization-token' },
            })
          }
        }
      : tokenValue !== undefined
        ? async () => tokenValue
        : undefined
  let provider: AWSCredentialProvider
  try {
    provider = createContainerCredentials({
      ...transportOptions(options),
      secrets,
      uri: url.href,
      ...(authorizationToken ? { authorizationToken } : {}),
      ...(options.now ? { now: options.now } : {}),
    })
  } catch (cause) {
    throw configError(`${variable} is not an http(s) URL`, cause)
  }
  if (hostCheck === undefined) return provider
  let checked = false
  const check = hostCheck
  return async (callOptions) => {
    if (!checked) {
      await check()
      checked = true
    }
    return provider(callOptions)
  }
}

/**
 * EC2 instance metadata credentials configured by the environment (and the profile's `ec2_metadata_*` settings),
 * or `undefined` when `AWS_EC2_METADATA_DISABLED=true`. The endpoint is `AWS_EC2_METADATA_SERVICE_ENDPOINT`, else
 * `http://169.254.169.254` (`http://[fd00:ec2::254]` with `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6`);
 * `AWS_EC2_METADATA_V1_DISABLED=true` forbids the IMDSv1 fallback.
 *
 * @param options - Environment, profile settings, fetch, clock, secret set.
 * @returns The provider, or `undefined` when instance metadata is disabled.
 * @throws {CountersignError} ERR_KMS for an endpoint that is not an http(s) URL, an unknown endpoint mode or a
 *   `AWS_EC2_METADATA_V1_DISABLED` that is neither true nor false; from the provider, as `createIMDSCredentials`.
 * @example
 * ```ts
 * import { awsInstanceMetadataCredentials } from 'countersign/node'
 * const credentials = awsInstanceMetadataCredentials({ env: process.env })
 * ```
 *
 * Exported from `countersign/node`.
 */
export function awsInstanceMetadataCredentials(
  options: AWSRemoteCredentialsOptions = {},
): AWSCredentialProvider | undefined {
  const env = options.env ?? process.env
  const profile = options.profile ?? {}
  if (env.AWS_EC2_METADATA_DISABLED?.trim().toLowerCase() === 'true') return undefined
  const endpoint = nonEmpty(env.AWS_EC2_METADATA_SERVICE_ENDPOINT) ?? nonEmpty(profile.ec2_metadata_service_endpoint)
  const modeText =
    nonEmpty(env.AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE) ?? nonEmpty(profile.ec2_metadata_service_endpoint_mode)
  const mode = modeText?.toLowerCase()
  if (mode !== undefined && mode !== 'ipv4' && mode !== 'ipv6') {
    throw configError('AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE must be IPv4 or IPv6')
  }
  const v1Text = (
    nonEmpty(env.AWS_EC2_METADATA_V1_DISABLED) ?? nonEmpty(profile.ec2_metadata_v1_disabled)
  )?.toLowerCase()
  if (v1Text !== undefined && v1Text !== 'true' && v1Text !== 'false') {
    throw configError('AWS_EC2_METADATA_V1_DISABLED must be true or false')
  }
  try {
    return createIMDSCredentials({
      ...transportOptions(options),
      ...(endpoint !== undefined ? { endpoint } : {}),
      ...(mode !== undefined ? { endpointMode: mode === 'ipv6' ? 'IPv6' : 'IPv4' } : {}),
      ...(v1Text === 'true' ? { disableV1Fallback: true } : {}),
      ...(options.now ? { now: options.now } : {}),
    })
  } catch (cause) {
    throw configError('AWS_EC2_METADATA_SERVICE_ENDPOINT must be an http or https URL', cause)
  }
}

/** Loopback, the ECS agent and the EKS Pod Identity agent: the plain-http hosts the Go SDK allows. */
const ALLOWED = /* @__PURE__ */ (() => {
  const list = new BlockList()
  list.addSubnet('127.0.0.0', 8, 'ipv4')
  list.addAddress('169.254.170.2', 'ipv4')
  list.addAddress('169.254.170.23', 'ipv4')
  list.addAddress('::1', 'ipv6')
  list.addAddress('fd00:ec2::23', 'ipv6')
  return list
})()

function allowedIP(address: string): boolean {
  const family = isIP(address)
  return family !== 0 && ALLOWED.check(address, family === 4 ? 'ipv4' : 'ipv6')
}

function disallowed(host: string, resolved?: readonly string[]): CountersignError {
  const to = resolved ? ` (resolves to ${resolved.join(', ')})` : ''
  return configError(
    `AWS_CONTAINER_CREDENTIALS_FULL_URI host ${host}${to} is not allowed over http: it must be a loopback address, the ECS agent 169.254.170.2 or the EKS Pod Identity agent 169.254.170.23 / fd00:ec2::23 (use https for any other host)`,
  )
}

/** An IP literal is checked now; a host name when the credentials are first asked for (Go resolves it too). */
function allowedHostCheck(hostname: string, options: AWSRemoteCredentialsOptions): () => Promise<void> {
  const host = hostname.replace(/^\[(.*)\]$/, '$1')
  if (isIP(host) !== 0) {
    if (!allowedIP(host)) throw disallowed(host)
    return async () => {}
  }
  const resolve =
    options.lookupHost ?? (async (name: string) => (await lookup(name, { all: true })).map((a) => a.address))
  return async () => {
    let addresses: readonly string[]
    try {
      addresses = await resolve(host)
    } catch (cause) {
      throw configError(`cannot resolve the AWS_CONTAINER_CREDENTIALS_FULL_URI host ${host}`, cause)
    }
    if (addresses.length === 0 || !addresses.every(allowedIP)) throw disallowed(host, addresses)
  }
}

/** What of the chain's options these sources use: fetch, pacing and redaction, not its timeouts. */
function transportOptions(options: AWSRemoteCredentialsOptions): ServiceClientOptions {
  return {
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
    ...(options.userAgent !== undefined ? { userAgent: options.userAgent } : {}),
    ...(options.secrets ? { secrets: options.secrets } : {}),
  }
}

function configError(message: string, cause?: unknown): CountersignError {
  return new CountersignError('ERR_KMS', message, {
    ...(cause !== undefined ? { cause } : {}),
    details: { provider: 'aws', reason: 'configuration' },
  })
}

function nonEmpty(v: string | undefined): string | undefined {
  const t = v?.trim()
  return t === undefined || t === '' ? undefined : t
}
