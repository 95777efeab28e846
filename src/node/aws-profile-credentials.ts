/**
 * A shared-config profile turned into a credential source, following the AWS SDK for Go v2
 * (`config/shared_config.go` setFromIniSections, `config/resolve_credentials.go` resolveCredsFromProfile):
 *
 * 1. `source_profile` (resolved recursively; a profile met a second time keeps only its own credentials, so
 *    `source_profile = self` works and a loop without credentials is reported as a loop), else
 * 2. static keys, else `credential_source` (`Environment`, `Ec2InstanceMetadata`, `EcsContainer`), else
 * 3. `web_identity_token_file` (the role is assumed by the web identity call itself), else
 * 4. SSO (`sso_session` or the legacy `sso_*` keys), else `credential_process`, else
 * 5. nothing: the chain goes on to container and instance-metadata credentials;
 *
 * then, when the profile has a `role_arn`, STS `AssumeRole` with what steps 1–5 found. A source profile with static
 * keys stops there (its own `source_profile` is not followed), as in the Go SDK.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { MFA_REFUSED } from '../kms/aws/assume-role.js'
import { type AWSCredentialProvider, awsCredentialsFromEnv } from '../kms/aws/credentials.js'
import { createAWSCredentialProcess } from './aws-credential-process.js'
import {
  type AWSRoleSettings,
  type AWSSourceContext,
  assumeRoleSource,
  type ResolvedAWSSource,
  webIdentitySource,
} from './aws-credential-sources.js'
import { type AWSSharedConfig, awsHomeDir, nonEmpty } from './aws-shared-config.js'
import { createAWSSSOCredentials, ssoConfigOf } from './aws-sso.js'

/** The chain's context plus the parsed files and the remote sources. */
export interface AWSProfileContext extends AWSSourceContext {
  readonly shared: AWSSharedConfig
  /** Container credentials when configured, else instance metadata; `undefined` when neither is available. */
  readonly fallback: () => ResolvedAWSSource | undefined
  /** Container credentials, `undefined` when the environment configures none. */
  readonly container: () => AWSCredentialProvider | undefined
  /** Instance-metadata credentials, `undefined` when disabled. */
  readonly instanceMetadata: () => AWSCredentialProvider | undefined
}

type Settings = Record<string, string | undefined>

const ROLE_KEYS = ['role_arn', 'external_id', 'mfa_serial', 'role_session_name', 'source_profile'] as const
const CREDENTIAL_TYPES = ['source_profile', 'credential_source', 'credential_process', 'web_identity_token_file']

/**
 * The source of profile `name`, or `undefined` when it names none (the chain then tries container and instance
 * metadata credentials).
 *
 * @throws {CountersignError} ERR_KMS for a configuration the Go SDK refuses too (a `source_profile` that does not
 *   exist or has no credentials, a `source_profile` loop, `source_profile`/`credential_source`/
 *   `web_identity_token_file` without `role_arn`, two credential types, an unknown `credential_source`, incomplete
 *   SSO settings) and for `mfa_serial` without `mfaTokenCode`.
 * @example
 * ```ts
 * const source = resolveAWSProfile('release', ctx)
 * ```
 */
export function resolveAWSProfile(name: string, ctx: AWSProfileContext): ResolvedAWSSource | undefined {
  return resolve(name, [], ctx)
}

function resolve(name: string, path: readonly string[], ctx: AWSProfileContext): ResolvedAWSSource | undefined {
  const raw = ctx.shared.profile(name)
  if (raw === undefined) throw bad(`AWS profile ${JSON.stringify(name)} not found`, 'profile-not-found')
  const p: Settings = {}
  for (const [k, v] of Object.entries(raw)) p[k] = nonEmpty(v)
  const revisit = path.includes(name)
  // The second visit of a profile (source_profile = itself, or a loop) keeps only its credential settings.
  if (revisit) for (const k of ROLE_KEYS) delete p[k]
  else requireRole(name, p)
  const nested = path.length > 0
  const keys = staticKeys(name, p)
  if (nested && keys !== undefined) return withRole(name, p, keys, ctx)
  const types = CREDENTIAL_TYPES.filter((k) => p[k] !== undefined)
  if (types.length > 1) {
    throw bad(`AWS profile ${JSON.stringify(name)} sets ${types.join(' and ')}: only one credential type is allowed`)
  }
  const chain = [...path, name]
  let base: ResolvedAWSSource | undefined
  if (p.source_profile !== undefined) {
    const source = p.source_profile
    if (ctx.shared.profile(source) === undefined) {
      throw bad(
        `AWS profile ${JSON.stringify(name)} names source_profile ${JSON.stringify(source)}, which does not exist`,
      )
    }
    base = resolve(source, chain, ctx)
    if (base === undefined) {
      throw bad(
        chain.includes(source)
          ? `AWS profiles loop through source_profile (${[...chain, source].join(' → ')}) and ${JSON.stringify(source)} has no credentials of its own`
          : `source_profile ${JSON.stringify(source)} of AWS profile ${JSON.stringify(name)} has no credentials`,
      )
    }
  } else if (keys !== undefined) {
    base = keys
  } else if (p.credential_source !== undefined) {
    base = credentialSource(name, p.credential_source, ctx)
  } else if (p.web_identity_token_file !== undefined) {
    return webIdentitySource(ctx, p.web_identity_token_file, p.role_arn, p.role_session_name)
  } else {
    const sso = ssoConfigOf(name, raw, ctx.shared)
    if (sso !== undefined) {
      const provider = createAWSSSOCredentials(sso, {
        ...ctx.options,
        homeDir: awsHomeDir(ctx.options, ctx.env),
        env: ctx.env,
      })
      const session = sso.sessionName !== undefined ? `, session ${sso.sessionName}` : ''
      base = {
        provider,
        source: 'sso',
        detail: `profile ${name}${session}, account ${sso.accountId}, role ${sso.roleName}`,
        label: `sso (profile ${name})`,
      }
    } else if (p.credential_process !== undefined) {
      const provider = createAWSCredentialProcess(p.credential_process, {
        env: ctx.env,
        label: `AWS profile ${JSON.stringify(name)}`,
        ...(ctx.options.processTimeoutMs !== undefined ? { timeoutMs: ctx.options.processTimeoutMs } : {}),
        ...(ctx.options.secrets !== undefined ? { secrets: ctx.options.secrets } : {}),
        ...(ctx.options.now !== undefined ? { now: ctx.options.now } : {}),
      })
      base = {
        provider,
        source: 'credential_process',
        detail: `profile ${name}`,
        label: `credential_process (profile ${name})`,
      }
    } else if (nested || p.role_arn === undefined) {
      return undefined
    } else {
      // Go: a role_arn with no source of its own is assumed with container or instance-metadata credentials.
      base = ctx.fallback()
      if (base === undefined) {
        throw bad(
          `AWS profile ${JSON.stringify(name)} sets role_arn but no source_profile or credential_source, and no container or instance metadata credentials are available`,
        )
      }
    }
  }
  return p.role_arn !== undefined ? assume(name, p, base, ctx) : base
}

function withRole(name: string, p: Settings, base: ResolvedAWSSource, ctx: AWSProfileContext): ResolvedAWSSource {
  return p.role_arn !== undefined ? assume(name, p, base, ctx) : base
}

function assume(name: string, p: Settings, base: ResolvedAWSSource, ctx: AWSProfileContext): ResolvedAWSSource {
  const roleArn = p.role_arn!
  if (p.mfa_serial !== undefined && ctx.options.mfaTokenCode === undefined) {
    throw bad(`AWS profile ${JSON.stringify(name)} sets mfa_serial: assuming ${roleArn} ${MFA_REFUSED}`, 'mfa-required')
  }
  const role: AWSRoleSettings = {
    roleArn,
    ...(p.role_session_name !== undefined ? { roleSessionName: p.role_session_name } : {}),
    ...(p.external_id !== undefined ? { externalId: p.external_id } : {}),
    ...(p.mfa_serial !== undefined ? { mfaSerial: p.mfa_serial } : {}),
    ...durationOf(name, p.duration_seconds),
  }
  return assumeRoleSource(ctx, role, base)
}

/** Go applies `duration_seconds` only above 15 minutes (whole minutes), else STS's 900 s default. */
function durationOf(name: string, value: string | undefined): { durationSeconds?: number } {
  if (value === undefined || !/^\d+$/.test(value)) return {}
  const seconds = Number(value)
  if (Math.floor(seconds / 60) <= 15) return {}
  if (seconds > 43_200) throw bad(`duration_seconds of AWS profile ${JSON.stringify(name)} is above 43200`)
  return { durationSeconds: seconds }
}

function staticKeys(name: string, p: Settings): ResolvedAWSSource | undefined {
  const accessKeyId = p.aws_access_key_id
  const secretAccessKey = p.aws_secret_access_key
  if (accessKeyId === undefined || secretAccessKey === undefined) return undefined
  const sessionToken = p.aws_session_token
  const credentials = Object.freeze({ accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) })
  return {
    provider: async () => credentials,
    source: 'profile',
    detail: `${name} (static keys)`,
    label: `profile ${name} (static keys)`,
  }
}

function credentialSource(name: string, value: string, ctx: AWSProfileContext): ResolvedAWSSource {
  const detail = `credential_source of profile ${name}`
  switch (value) {
    case 'Environment': {
      const env = ctx.env
      return {
        provider: async () => {
          const c = awsCredentialsFromEnv(env)
          if (c === undefined) {
            throw bad(
              `AWS profile ${JSON.stringify(name)} sets credential_source = Environment, but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set`,
              'no-credentials',
            )
          }
          return c
        },
        source: 'environment',
        detail,
        label: 'environment',
      }
    }
    case 'Ec2InstanceMetadata': {
      const provider = ctx.instanceMetadata()
      if (provider === undefined) {
        throw bad(
          `AWS profile ${JSON.stringify(name)} sets credential_source = Ec2InstanceMetadata, but instance metadata is disabled (AWS_EC2_METADATA_DISABLED)`,
          'no-credentials',
        )
      }
      return { provider, source: 'ec2 instance metadata', detail, label: 'ec2 instance metadata' }
    }
    case 'EcsContainer': {
      const provider = ctx.container()
      if (provider === undefined) {
        throw bad(
          `AWS profile ${JSON.stringify(name)} sets credential_source = EcsContainer, but neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI is set`,
          'no-credentials',
        )
      }
      return { provider, source: 'container', detail, label: 'container' }
    }
    default:
      throw bad(
        `credential_source of AWS profile ${JSON.stringify(name)} must be EcsContainer, Ec2InstanceMetadata or Environment`,
      )
  }
}

/** Go's validateCredentialsRequireARN: these settings only make sense with a role to assume. */
function requireRole(name: string, p: Settings): void {
  const needsRole = ['source_profile', 'credential_source', 'web_identity_token_file'].find((k) => p[k] !== undefined)
  if (needsRole !== undefined && p.role_arn === undefined) {
    throw bad(`AWS profile ${JSON.stringify(name)} sets ${needsRole} but no role_arn`)
  }
}

function bad(message: string, reason = 'profile-config'): CountersignError {
  return new CountersignError('ERR_KMS', message, { details: { provider: 'aws', reason } })
}
