/**
 * Helpers for the AWS credential-chain tests: a throwaway home directory with `~/.aws/config`, `~/.aws/credentials`
 * (written from objects or as text) and SSO cache files, a clock tests move by hand, a KMS provider against the KMS stand-in (which recomputes the
 * SigV4 signature), a real KMS `Sign` through the chain returning the access key the stand-in saw, and the error
 * of credentials the stand-in denies.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { SecretSet } from '../../src/http/redact.js'
import type { AWSCredentialProvider } from '../../src/kms/aws/credentials.js'
import { type AWSKMSProvider, createAWSKMSProvider } from '../../src/kms/aws/provider.js'
import type { CredentialSourceReport } from '../../src/kms/credential-chain.js'
import type { AWSKMSServer } from './aws-kms-server.js'

const homes: string[] = []

/** A home directory with `.aws/config` / `.aws/credentials` (and extra files under `.aws/`). */
export function awsHome(files: { config?: string; credentials?: string; extra?: Record<string, string> } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'aws-chain-'))
  homes.push(dir)
  mkdirSync(join(dir, '.aws', 'sso', 'cache'), { recursive: true })
  if (files.config !== undefined) writeFileSync(join(dir, '.aws', 'config'), files.config)
  if (files.credentials !== undefined) writeFileSync(join(dir, '.aws', 'credentials'), files.credentials)
  for (const [name, text] of Object.entries(files.extra ?? {})) writeFileSync(join(dir, '.aws', name), text)
  return dir
}

/** `~/.aws/config` text: a `[profile NAME]` section of `key = value` lines per entry. */
export function awsConfig(profiles: Readonly<Record<string, Readonly<Record<string, string | number>>>>): string {
  return Object.entries(profiles)
    .map(([name, settings]) => `[profile ${name}]\n${iniLines(settings)}`)
    .join('\n')
}

/** `~/.aws/credentials` text: a `[NAME]` section with the access key pair per entry. */
export function awsCredentials(
  profiles: Readonly<Record<string, { readonly accessKeyId: string; readonly secretAccessKey: string }>>,
): string {
  return Object.entries(profiles)
    .map(
      ([name, keys]) =>
        `[${name}]\n${iniLines({ aws_access_key_id: keys.accessKeyId, aws_secret_access_key: keys.secretAccessKey })}`,
    )
    .join('\n')
}

function iniLines(settings: Readonly<Record<string, string | number>>): string {
  return Object.entries(settings)
    .map(([key, value]) => `${key} = ${value}\n`)
    .join('')
}

export function removeAWSHomes(): void {
  for (const d of homes.splice(0)) rmSync(d, { recursive: true, force: true })
}

/** A clock the test advances. */
export function manualClock(start = Date.now()): { now: () => Date; advance(ms: number): void; ms(): number } {
  let t = start
  return {
    now: () => new Date(t),
    advance: (ms) => {
      t += ms
    },
    ms: () => t,
  }
}

/** Collects what `onCredentialSource` is told. */
export function sourceReports(): { reports: CredentialSourceReport[]; listener: (r: CredentialSourceReport) => void } {
  const reports: CredentialSourceReport[] = []
  return { reports, listener: (r) => reports.push(r) }
}

/** Sign once with `alias/chain` through `credentials`; the access key id the KMS stand-in verified. */
export async function signThrough(
  kms: AWSKMSServer,
  credentials: AWSCredentialProvider,
  now?: () => Date,
): Promise<string> {
  const aws = standInKMS(kms, credentials, now ? { now } : {})
  const signer = await aws.createSigner('awskms:///alias/chain')
  await signer.sign(new TextEncoder().encode('payload'))
  const last = kms.requests.at(-1)!
  if (last.status !== 200) throw new Error(`KMS answered ${last.status} ${last.error}`)
  return last.accessKeyId!
}

/** A KMS provider for the stand-in's endpoint and region that signs with `credentials`, without back-off sleeps. */
export function standInKMS(
  kms: AWSKMSServer,
  credentials: AWSCredentialProvider,
  extra: { readonly now?: () => Date; readonly secrets?: SecretSet } = {},
): AWSKMSProvider {
  return createAWSKMSProvider({ credentials, endpoint: kms.url, region: kms.region, sleep: async () => {}, ...extra })
}

/** Deny `accessKeyId` at the stand-in, then create a signer for `alias` with `credentials`: what it failed with. */
export function deniedByKMS(
  kms: AWSKMSServer,
  credentials: AWSCredentialProvider,
  accessKeyId: string,
  alias: string,
  secrets: SecretSet,
): Promise<unknown> {
  kms.deny(accessKeyId)
  return standInKMS(kms, credentials, { secrets })
    .createSigner(`awskms:///${alias}`)
    .catch((e: unknown) => e)
}
