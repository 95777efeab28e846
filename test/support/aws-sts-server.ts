/**
 * An in-process AWS STS for tests, on 127.0.0.1: the Query API's `AssumeRole` (`POST /`, form-encoded,
 * `Version=2011-06-15`), with the request's SigV4 signature recomputed independently (`aws-sigv4-verify.ts`) for
 * service `sts` and the stand-in's region, so a request signed with the wrong source credentials, a missing session
 * token or the wrong scope is refused as AWS refuses it (`<ErrorResponse>` XML, 403). Roles are registered with
 * their trust conditions (who may assume them, external id, MFA code); every success issues a fresh temporary
 * credential (`ASIA…`, a session token containing `&` to exercise XML decoding) that the stand-in itself accepts as
 * a source afterwards (role chaining) and hands to `onIssue` (e.g. the KMS stand-in's `addCredential`).
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { type SigV4Credential, verifySigV4 } from './aws-sigv4-verify.js'
import { listenOnLoopback, withBody } from './loopback-server.js'

export interface STSRole {
  readonly roleArn: string
  /** Access key ids allowed to assume the role (`undefined`: any valid signer). */
  readonly trusted?: readonly string[]
  /** The `ExternalId` the trust policy requires. */
  readonly externalId?: string
  /** The MFA device and the code it currently shows. */
  readonly mfa?: { readonly serialNumber: string; readonly code: string }
}

export interface AssumeRoleCall {
  readonly roleArn: string
  readonly roleSessionName: string
  /** Who signed the request (`undefined` when the signature was refused). */
  readonly signer?: string
  readonly externalId?: string
  readonly durationSeconds?: number
  readonly serialNumber?: string
  readonly tokenCode?: string
  /** The error code answered, or `undefined` for success. */
  readonly error?: string
  /** The access key issued. */
  readonly issued?: string
}

export interface IssuedSTSCredential extends Required<SigV4Credential> {
  readonly expiration: Date
}

export interface STSServer {
  readonly url: string
  readonly region: string
  readonly calls: AssumeRoleCall[]
  readonly issued: IssuedSTSCredential[]
  /** Accept `credential` as a signer (a profile's static keys, an SSO or process credential). */
  trust(credential: SigV4Credential): void
  addRole(role: STSRole): void
  /** The server's clock (signature freshness and `Expiration`). */
  now: () => Date
  close(): Promise<void>
}

export async function startSTSServer(
  options: { region?: string; onIssue?: (c: IssuedSTSCredential) => void } = {},
): Promise<STSServer> {
  const region = options.region ?? 'us-east-1'
  const credentials = new Map<string, SigV4Credential>()
  const roles = new Map<string, STSRole>()
  const calls: AssumeRoleCall[] = []
  const issued: IssuedSTSCredential[] = []
  const state = { now: () => new Date() }

  const xmlError = (res: ServerResponse, status: number, code: string, message: string) => {
    res.writeHead(status, { 'content-type': 'text/xml' })
    res.end(
      `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
    )
  }

  const assumeRole = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const form = new URLSearchParams(body.toString('utf8'))
    const call: Record<string, unknown> = {
      roleArn: form.get('RoleArn') ?? '',
      roleSessionName: form.get('RoleSessionName') ?? '',
      ...(form.has('ExternalId') ? { externalId: form.get('ExternalId') } : {}),
      ...(form.has('DurationSeconds') ? { durationSeconds: Number(form.get('DurationSeconds')) } : {}),
      ...(form.has('SerialNumber') ? { serialNumber: form.get('SerialNumber') } : {}),
      ...(form.has('TokenCode') ? { tokenCode: form.get('TokenCode') } : {}),
    }
    const refuse = (status: number, code: string, message: string) => {
      calls.push({ ...(call as unknown as AssumeRoleCall), error: code })
      xmlError(res, status, code, message)
    }
    if (form.get('Action') !== 'AssumeRole' || form.get('Version') !== '2011-06-15') {
      return refuse(400, 'InvalidAction', 'Could not find operation')
    }
    const auth = verifySigV4(req, body, { service: 'sts', region, credentials, now: state.now })
    if (!auth.ok) return refuse(403, auth.code, auth.message)
    call.signer = auth.accessKeyId
    const role = roles.get(String(call.roleArn))
    const duration = (call.durationSeconds as number | undefined) ?? 3600
    if (!Number.isInteger(duration) || duration < 900 || duration > 43_200) {
      return refuse(400, 'ValidationError', 'DurationSeconds must be between 900 and 43200')
    }
    if (!/^[\w+=,.@-]{2,64}$/.test(String(call.roleSessionName))) {
      return refuse(400, 'ValidationError', 'RoleSessionName is invalid')
    }
    if (
      role === undefined ||
      (role.trusted !== undefined && !role.trusted.includes(auth.accessKeyId)) ||
      (role.externalId !== undefined && call.externalId !== role.externalId) ||
      (role.mfa !== undefined && (call.serialNumber !== role.mfa.serialNumber || call.tokenCode !== role.mfa.code))
    ) {
      return refuse(
        403,
        'AccessDenied',
        `User: ${auth.accessKeyId} is not authorized to perform: sts:AssumeRole on resource: ${String(call.roleArn)}`,
      )
    }
    const temp: IssuedSTSCredential = {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: `FwoGZXIvYXdzE&${randomBytes(40).toString('base64')}`,
      expiration: new Date(state.now().getTime() + duration * 1000),
    }
    credentials.set(temp.accessKeyId, temp)
    issued.push(temp)
    options.onIssue?.(temp)
    calls.push({ ...(call as unknown as AssumeRoleCall), issued: temp.accessKeyId })
    const arn = String(call.roleArn)
    res.writeHead(200, { 'content-type': 'text/xml' })
    res.end(`<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser><Arn>${arn.replace(':iam:', ':sts:').replace(':role/', ':assumed-role/')}/${String(call.roleSessionName)}</Arn><AssumedRoleId>AROA3XFRBF535PLBIFPI4:${String(call.roleSessionName)}</AssumedRoleId></AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${temp.accessKeyId}</AccessKeyId>
      <SecretAccessKey>${temp.secretAccessKey}</SecretAccessKey>
      <SessionToken>${temp.sessionToken.replace(/&/g, '&amp;')}</SessionToken>
      <Expiration>${temp.expiration.toISOString()}</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>
</AssumeRoleResponse>`)
  }

  const server = createServer(
    withBody((req, res, body) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname
      if (req.method !== 'POST' || path !== '/' || !/x-www-form-urlencoded/.test(String(req.headers['content-type']))) {
        return xmlError(res, 404, 'NotFound', 'not an STS Query request')
      }
      assumeRole(req, res, body)
    }),
  )
  const listener = await listenOnLoopback(server)
  return {
    url: listener.url,
    region,
    calls,
    issued,
    trust: (c) => credentials.set(c.accessKeyId, c),
    addRole: (r) => roles.set(r.roleArn, r),
    get now() {
      return state.now
    },
    set now(v) {
      state.now = v
    },
    close: listener.close,
  }
}
