/**
 * The plumbing the in-process stand-ins share: listening on a free 127.0.0.1 port, closing (with the keep-alive
 * connections clients leave open, which `server.close()` alone would wait for), and handing a handler the whole
 * request body.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface LoopbackListener {
  /** `127.0.0.1:PORT` */
  readonly host: string
  /** `http://127.0.0.1:PORT` */
  readonly url: string
  /** Drops open connections, then waits until the server has stopped listening. */
  close(): Promise<void>
}

/** Listen on a free loopback port (an `https` server too: it is an `http.Server` with TLS underneath). */
export async function listenOnLoopback(server: Server): Promise<LoopbackListener> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    host,
    url: `http://${host}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A request listener that reads the body to its end before calling `handler` with it. */
export function withBody(
  handler: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => handler(req, res, Buffer.concat(chunks)))
  }
}
