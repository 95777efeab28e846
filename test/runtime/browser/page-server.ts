/**
 * A loopback HTTP server for the browser test: the page, the esbuild output, and the fixture files of the
 * runtime cases (and nothing else) from test/vectors/bundles.
 */
import { readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { RUNTIME_CASES } from '../cases.js'
import { ROOT } from '../ensure-dist.js'

/**
 * The page imports the bundled library and runner, and exposes `runAll()`, which reads fixtures with fetch() and
 * returns the verdicts as plain data. `ready` is set once the modules have loaded.
 */
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>countersign/verify in the browser</title>
<script type="module">
  import * as verify from '/verify.js'
  import * as trust from '/trust.js'
  import * as keys from '/keys.js'
  import { runCases } from '/cases.js'
  const lib = { ...verify, ...trust, ...keys }
  async function read(path) {
    const response = await fetch('/vectors/' + path)
    if (!response.ok) throw new Error(path + ': HTTP ' + response.status)
    return new Uint8Array(await response.arrayBuffer())
  }
  window.runAll = () => runCases(lib, read)
  window.ready = true
</script>
`

const FIXTURE_FILES = new Set(['bundle.sigstore.json', 'trusted_root.json', 'artifact', 'key.pub'])
const CASE_DIRS = new Set(RUNTIME_CASES.map((c) => c.dir))

export interface PageServer {
  readonly origin: string
  /** Every path requested, in order. */
  readonly requests: readonly string[]
  close(): Promise<void>
}

/** Serve `files` (URL path → bytes, JavaScript) and the page on 127.0.0.1 at a free port. */
export async function servePage(files: ReadonlyMap<string, Uint8Array>): Promise<PageServer> {
  const requests: string[] = []
  const server: Server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname
    requests.push(path)
    const send = (status: number, type: string, body: Uint8Array | string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' })
      res.end(body)
    }
    if (path === '/') return send(200, 'text/html; charset=utf-8', PAGE)
    const js = files.get(path)
    if (js) return send(200, 'text/javascript; charset=utf-8', js)
    const [, prefix, dir, file] = path.split('/')
    if (prefix === 'vectors' && dir && file && CASE_DIRS.has(dir) && FIXTURE_FILES.has(file)) {
      try {
        return send(200, 'application/octet-stream', await readFile(`${ROOT}test/vectors/bundles/${dir}/${file}`))
      } catch {
        // Missing in this case's folder: 404 below.
      }
    }
    send(404, 'text/plain', 'not found')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
