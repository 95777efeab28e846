/**
 * The AWS credential sources a chain or a profile settles on, each with the name and non-secret detail it reports
 * (`onCredentialSource`): a web identity token file, STS `AssumeRole` over another source, and the shape they share.
 * Internal to the Node adapter.
 *
 * @module
 */
import { readFile } from 'node:fs/promises'
import { CountersignError } from '../errors.js'
import { createAssumeRoleCredentials } from '../kms/aws/assume-role.js'
import type { AWSCredentialProvider } from '../kms/aws/credentials.js'
import { createWebIdentityCredentials } from '../kms/aws/web-identity.js'
import type { AWSNodeCredentialsOptions } from './aws-credentials.js'

/** A source the chain can use: its provider, the name it reports, a non-secret detail, and a label for nesting. */
export interface ResolvedAWSSource {
  readonly provider: AWSCredentialProvider
  /** `environment`, `web identity`, `profile`, `sso`, `credential_process`, `assume role`, `container`, … */
  readonly source: string
  readonly detail?: string
  /** How an assumed role names this source: `profile base (static keys)`, `sso (profile dev)`, … */
  readonly label: string
}

/** What every source needs from the chain: the options, the environment, the STS region and endpoint. */
export interface AWSSourceContext {
  readonly options: AWSNodeCredentialsOptions
  readonly env: Readonly<Record<string, string | undefined>>
  readonly region: string | undefined
  readonly stsEndpoint: string | undefined
}

/**
 * Credentials from a web identity token file (read again on every refresh: EKS and GitHub rotate it) exchanged
 * through STS `AssumeRoleWithWebIdentity`.
 *
 * @throws {CountersignError} ERR_KMS when no role ARN is given.
 * @example
 * ```ts
 * const source = webIdentitySource(ctx, '/var/run/secrets/token', 'arn:aws:iam::1:role/signer', undefined)
 * ```
 */
export function webIdentitySource(
  ctx: AWSSourceContext,
  tokenFile: string,
  roleArn: string | undefined,
  roleSessionName: string | undefined,
): ResolvedAWSSource {
  if (roleArn === undefined || roleArn === '') {
    throw new CountersignError(
      'ERR_KMS',
      'a web identity token file is set but no role ARN (AWS_ROLE_ARN or role_arn)',
      { details: { provider: 'aws', reason: 'no-credentials' } },
    )
  }
  const provider = createWebIdentityCredentials({
    ...ctx.options,
    roleArn,
    ...(roleSessionName ? { roleSessionName } : {}),
    ...(ctx.region !== undefined ? { region: ctx.region } : {}),
    ...(ctx.stsEndpoint !== undefined ? { endpoint: ctx.stsEndpoint } : {}),
    token: async () => {
      try {
        return await readFile(tokenFile, 'utf8')
      } catch (cause) {
        throw new CountersignError('ERR_KMS', `cannot read the web identity token file ${tokenFile}`, {
          cause,
          details: { provider: 'aws', reason: 'web-identity-token' },
        })
      }
    },
  })
  return {
    provider,
    source: 'web identity',
    detail: `${roleArn}, token file ${tokenFile}`,
    label: `web identity ${roleArn}`,
  }
}

/** A profile's `role_arn` and the settings that go with it. */
export interface AWSRoleSettings {
  readonly roleArn: string
  readonly roleSessionName?: string
  readonly externalId?: string
  readonly durationSeconds?: number
  readonly mfaSerial?: string
}

/**
 * STS `AssumeRole` of `role`, signed with the credentials of `base`.
 *
 * @example
 * ```ts
 * const source = assumeRoleSource(ctx, { roleArn: 'arn:aws:iam::1:role/signer' }, staticSource)
 * ```
 */
export function assumeRoleSource(
  ctx: AWSSourceContext,
  role: AWSRoleSettings,
  base: ResolvedAWSSource,
): ResolvedAWSSource {
  const provider = createAssumeRoleCredentials({
    ...ctx.options,
    roleArn: role.roleArn,
    source: base.provider,
    ...(role.roleSessionName !== undefined ? { roleSessionName: role.roleSessionName } : {}),
    ...(role.externalId !== undefined ? { externalId: role.externalId } : {}),
    ...(role.durationSeconds !== undefined ? { durationSeconds: role.durationSeconds } : {}),
    ...(role.mfaSerial !== undefined ? { mfaSerial: role.mfaSerial } : {}),
    ...(ctx.options.mfaTokenCode !== undefined ? { mfaTokenCode: ctx.options.mfaTokenCode } : {}),
    ...(ctx.region !== undefined ? { region: ctx.region } : {}),
    ...(ctx.stsEndpoint !== undefined ? { endpoint: ctx.stsEndpoint } : {}),
  })
  return {
    provider,
    source: 'assume role',
    detail: `${role.roleArn} from ${base.label}`,
    label: `assume role ${role.roleArn} from ${base.label}`,
  }
}
