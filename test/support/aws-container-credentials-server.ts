/**
 * An in-process container credentials endpoint for tests, on 127.0.0.1: the ECS agent (`GET
 * /v2/credentials/<id>`, answering `RoleArn`/`AccessKeyId`/`SecretAccessKey`/`Token`/`Expiration`) or the EKS Pod
 * Identity agent (`GET /v1/credentials` with the pod's token as `Authorization`, answering with an `AccountId`).
 * With `token` set, a request whose `Authorization` header is not exactly that token is 401 with a `{code, message}`
 * body whose message quotes what it got (so tests can check the client redacts it). Every answer issues a fresh key
 * triple (handed to `onIssue`) with the `Expiration` the test sets.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { IssuedCredential } from './aws-imds-server.js'

export interface ContainerCredentialsServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string
  /** The credentials path (`/v2/credentials/<uuid>` for ECS, `/v1/credentials` for EKS). */
  readonly path: string
  /** `url` + `path`. */
  readonly fullURI: string
  /** The `Authorization` value required; `undefined` requires none. */
  token: string | undefined
  /** `Expiration` of the next credentials issued; `undefined` omits it (static credentials). */
  expiration: (() => Date) | undefined
  /** The next `n` requests answer 500. */
  fail(n: number): void
  /** `Authorization` header of every request, in order (`undefined` when absent). */
  readonly authorizations: (string | undefined)[]
  readonly issued: IssuedCredential[]
  close(): Promise<void>
}

export async function startContainerCredentialsServer(
  options: { flavor?: 'ecs' | 'eks'; token?: string; onIssue?: (c: IssuedCredential) => void } = {},
): Promise<ContainerCredentialsServer> {
  const flavor = options.flavor ?? 'ecs'
  const path = flavor === 'ecs' ? `/v2/credentials/${randomUUID()}` : '/v1/credentials'
  const authorizations: (string | undefined)[] = []
  const issued: IssuedCredential[] = []
  let failing = 0
  const state = {
    token: options.token,
    expiration: (() => new Date(Date.now() + 6 * 3600_000)) as (() => Date) | undefined,
    fail: (n: number) => {
      failing = n
    },
  }
  const server = createServer((req, res) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    const auth = req.headers.authorization
    authorizations.push(auth)
    if (req.method !== 'GET' || new URL(req.url ?? '/', 'http://x').pathname !== path) {
      return json(404, { code: 'NotFound', message: 'no such credentials' })
    }
    if (failing > 0) {
      failing--
      return json(500, { code: 'InternalError', message: 'agent unavailable' })
    }
    if (state.token !== undefined && auth !== state.token) {
      return json(401, { code: 'AccessDenied', message: `invalid authorization token ${String(auth)}` })
    }
    const expiration = state.expiration?.()
    const c = {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: `IQoJb3JpZ2luX2Vj${randomBytes(48).toString('base64')}`,
      expiration: expiration ?? new Date(8.64e15),
    }
    issued.push(c)
    options.onIssue?.(c)
    const at = expiration?.toISOString().replace(/\.\d{3}Z$/, 'Z')
    json(200, {
      ...(flavor === 'ecs' ? { RoleArn: 'arn:aws:iam::111122223333:role/task' } : { AccountId: '111122223333' }),
      AccessKeyId: c.accessKeyId,
      SecretAccessKey: c.secretAccessKey,
      Token: c.sessionToken,
      ...(at !== undefined ? { Expiration: at } : {}),
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const url = `http://127.0.0.1:${port}`
  return Object.assign(state, {
    url,
    path,
    fullURI: `${url}${path}`,
    authorizations,
    issued,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  })
}
