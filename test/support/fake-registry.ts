/**
 * An in-memory OCI distribution-spec v1.1 registry (the ggcr `registry.New()` idea): a `(Request) => Response`
 * handler usable directly as `fetch`, and served over node:http on 127.0.0.1 for tools that need a socket.
 *
 * Implements /v2/, blobs (HEAD/GET, monolithic POST?digest=, POST+PATCH…+PUT chunked, cross-repo mount), manifests
 * (HEAD/GET/PUT/DELETE by tag and digest, referenced-content checks), tags/list (n/last + Link), and the Referrers
 * API (artifactType filter + OCI-Filters-Applied, OCI-Subject on PUT, optional paging). `referrersAPI: false`
 * answers the referrers endpoint 404 and sends no OCI-Subject, like distribution 2.8.
 */
import { createHash, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'

export interface FakeRegistryOptions {
  /** Serve the Referrers API and answer OCI-Subject (default true). */
  readonly referrersAPI?: boolean
  /** Send OCI-Subject on manifest PUTs with a subject (default: same as referrersAPI). ECR sends it without the API. */
  readonly subjectHeader?: boolean
  /** Ignore the artifactType filter (no OCI-Filters-Applied), so clients must filter themselves. */
  readonly ignoreArtifactTypeFilter?: boolean
  /** Referrers per response page; more → Link rel="next" (default: all in one). */
  readonly referrersPageSize?: number
  /** Refuse manifests whose blobs / child manifests are missing, as distribution does (default true). */
  readonly checkReferences?: boolean
}

export interface RequestRecord {
  readonly method: string
  readonly path: string
  readonly status: number
}

interface StoredManifest {
  readonly bytes: Uint8Array
  readonly mediaType: string
  readonly digest: string
}

interface Repo {
  readonly manifests: Map<string, StoredManifest>
  readonly tags: Map<string, string>
  readonly blobs: Set<string>
}

export interface FakeRegistry {
  /** Handle one request; usable as a `fetch` implementation. */
  handle(request: Request): Promise<Response>
  /** `fetch`-shaped wrapper around {@link handle}. */
  readonly fetch: typeof fetch
  /** Every request handled, in order. */
  readonly requests: RequestRecord[]
  /** Raw manifest bytes by repository and tag or digest, for assertions. */
  manifest(repository: string, reference: string): StoredManifest | undefined
}

export interface ServedFakeRegistry extends FakeRegistry {
  /** `127.0.0.1:<port>` */
  readonly host: string
  readonly url: string
  stop(): Promise<void>
}

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
const DIGEST_RE = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/
const NAME_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/

function digestOf(bytes: Uint8Array, algorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}

function errorResponse(status: number, code: string, message: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ errors: [{ code, message, detail: null }] }), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  })
}

type JSONObject = Record<string, unknown>

function asObject(v: unknown): JSONObject | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JSONObject) : undefined
}

/** What the Referrers API lists for a manifest (distribution-spec §Listing Referrers). */
function referrerDescriptor(m: StoredManifest, doc: JSONObject): JSONObject {
  const config = asObject(doc.config)
  const isIndex = Array.isArray(doc.manifests)
  const artifactType =
    typeof doc.artifactType === 'string' && doc.artifactType !== ''
      ? doc.artifactType
      : !isIndex && typeof config?.mediaType === 'string'
        ? config.mediaType
        : undefined
  return {
    mediaType: m.mediaType,
    digest: m.digest,
    size: m.bytes.length,
    ...(artifactType !== undefined ? { artifactType } : {}),
    ...(asObject(doc.annotations) !== undefined ? { annotations: doc.annotations } : {}),
  }
}

/** Create the in-memory registry. */
export function createFakeRegistry(options: FakeRegistryOptions = {}): FakeRegistry {
  const referrersAPI = options.referrersAPI ?? true
  const subjectHeader = options.subjectHeader ?? referrersAPI
  const repos = new Map<string, Repo>()
  const blobData = new Map<string, Uint8Array>()
  const uploads = new Map<string, { repo: string; data: Uint8Array }>()
  const requests: RequestRecord[] = []

  const repoOf = (name: string, create: boolean): Repo | undefined => {
    let r = repos.get(name)
    if (r === undefined && create) {
      r = { manifests: new Map(), tags: new Map(), blobs: new Set() }
      repos.set(name, r)
    }
    return r
  }

  const lookup = (repo: Repo | undefined, reference: string): StoredManifest | undefined => {
    if (repo === undefined) return undefined
    const digest = DIGEST_RE.test(reference) ? reference : repo.tags.get(reference)
    return digest === undefined ? undefined : repo.manifests.get(digest)
  }

  const referrersOf = (repo: Repo | undefined, subject: string): JSONObject[] => {
    const out: JSONObject[] = []
    for (const m of repo?.manifests.values() ?? []) {
      const doc = asObject(JSON.parse(new TextDecoder().decode(m.bytes)))
      if (doc !== undefined && asObject(doc.subject)?.digest === subject) out.push(referrerDescriptor(m, doc))
    }
    return out.sort((a, b) => String(a.digest).localeCompare(String(b.digest)))
  }

  const blobs = async (method: string, name: string, digest: string): Promise<Response> => {
    if (!DIGEST_RE.test(digest)) return errorResponse(400, 'DIGEST_INVALID', 'invalid digest')
    const repo = repoOf(name, false)
    const data = repo?.blobs.has(digest) ? blobData.get(digest) : undefined
    if (method === 'DELETE') {
      if (data === undefined) return errorResponse(404, 'BLOB_UNKNOWN', 'blob unknown')
      repo!.blobs.delete(digest)
      return new Response(null, { status: 202 })
    }
    if (method !== 'GET' && method !== 'HEAD') return errorResponse(405, 'UNSUPPORTED', 'method not allowed')
    if (data === undefined) {
      return method === 'HEAD'
        ? new Response(null, { status: 404 })
        : errorResponse(404, 'BLOB_UNKNOWN', 'blob unknown')
    }
    const headers = {
      'Content-Length': String(data.length),
      'Docker-Content-Digest': digest,
      'Content-Type': 'application/octet-stream',
    }
    return new Response(method === 'HEAD' ? null : new Uint8Array(data), { status: 200, headers })
  }

  const commitBlob = (name: string, data: Uint8Array, digest: string | null): Response => {
    if (digest === null || !DIGEST_RE.test(digest)) return errorResponse(400, 'DIGEST_INVALID', 'invalid digest')
    if (digestOf(data, digest.slice(0, digest.indexOf(':'))) !== digest) {
      return errorResponse(400, 'DIGEST_INVALID', 'provided digest did not match uploaded content')
    }
    blobData.set(digest, data)
    repoOf(name, true)!.blobs.add(digest)
    return new Response(null, {
      status: 201,
      headers: { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest, 'Content-Length': '0' },
    })
  }

  const uploadsRoute = async (req: Request, url: URL, name: string, id: string): Promise<Response> => {
    const body = new Uint8Array(await req.arrayBuffer())
    if (id === '') {
      if (req.method !== 'POST') return errorResponse(405, 'UNSUPPORTED', 'method not allowed')
      const mount = url.searchParams.get('mount')
      const from = url.searchParams.get('from')
      if (mount !== null && from !== null && repoOf(from, false)?.blobs.has(mount)) {
        repoOf(name, true)!.blobs.add(mount)
        return new Response(null, {
          status: 201,
          headers: { Location: `/v2/${name}/blobs/${mount}`, 'Docker-Content-Digest': mount },
        })
      }
      const digest = url.searchParams.get('digest')
      if (digest !== null) return commitBlob(name, body, digest)
      const uuid = randomUUID()
      uploads.set(uuid, { repo: name, data: body })
      return new Response(null, {
        status: 202,
        headers: { Location: `/v2/${name}/blobs/uploads/${uuid}`, Range: '0-0', 'Docker-Upload-UUID': uuid },
      })
    }
    const upload = uploads.get(id)
    if (upload === undefined || upload.repo !== name) return errorResponse(404, 'BLOB_UPLOAD_UNKNOWN', 'unknown upload')
    const status = (code: number) =>
      new Response(null, {
        status: code,
        headers: {
          Location: `/v2/${name}/blobs/uploads/${id}`,
          Range: `0-${Math.max(0, upload.data.length - 1)}`,
          'Docker-Upload-UUID': id,
        },
      })
    switch (req.method) {
      case 'GET':
        return status(204)
      case 'DELETE':
        uploads.delete(id)
        return new Response(null, { status: 204 })
      case 'PATCH': {
        const range = req.headers.get('content-range')
        if (range !== null) {
          const m = /^(\d+)-(\d+)$/.exec(range)
          if (m === null || Number(m[1]) !== upload.data.length) return status(416)
        }
        upload.data = concat(upload.data, body)
        return status(202)
      }
      case 'PUT': {
        uploads.delete(id)
        return commitBlob(name, concat(upload.data, body), url.searchParams.get('digest'))
      }
      default:
        return errorResponse(405, 'UNSUPPORTED', 'method not allowed')
    }
  }

  const putManifest = async (req: Request, name: string, reference: string): Promise<Response> => {
    const bytes = new Uint8Array(await req.arrayBuffer())
    const isDigest = DIGEST_RE.test(reference)
    if (!isDigest && !TAG_RE.test(reference)) return errorResponse(400, 'TAG_INVALID', 'invalid tag')
    const digest = digestOf(bytes, isDigest ? reference.slice(0, reference.indexOf(':')) : 'sha256')
    if (isDigest && digest !== reference) return errorResponse(400, 'DIGEST_INVALID', 'manifest digest mismatch')
    let doc: JSONObject | undefined
    try {
      doc = asObject(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)))
    } catch {
      doc = undefined
    }
    if (doc === undefined || doc.schemaVersion !== 2) return errorResponse(400, 'MANIFEST_INVALID', 'bad manifest')
    const mediaType = (typeof doc.mediaType === 'string' ? doc.mediaType : req.headers.get('content-type')) ?? ''
    const repo = repoOf(name, true)!
    // distribution rejects manifests whose content is missing (MANIFEST_BLOB_UNKNOWN / MANIFEST_UNKNOWN).
    if (options.checkReferences === false) {
      // accept anything that is JSON with schemaVersion 2
    } else if (Array.isArray(doc.manifests)) {
      for (const child of doc.manifests) {
        const d = asObject(child)?.digest
        if (typeof d !== 'string' || !repo.manifests.has(d)) {
          return errorResponse(400, 'MANIFEST_UNKNOWN', `child manifest ${String(d)} unknown`)
        }
      }
    } else {
      const wanted = [doc.config, ...(Array.isArray(doc.layers) ? doc.layers : [])].map((d) => asObject(d))
      for (const d of wanted) {
        if (d === undefined || typeof d.digest !== 'string') return errorResponse(400, 'MANIFEST_INVALID', 'bad desc')
        if (Array.isArray(d.urls)) continue
        if (!repo.blobs.has(d.digest)) return errorResponse(400, 'MANIFEST_BLOB_UNKNOWN', `blob ${d.digest} unknown`)
      }
    }
    repo.manifests.set(digest, { bytes, mediaType, digest })
    if (!isDigest) repo.tags.set(reference, digest)
    const headers: Record<string, string> = {
      Location: `/v2/${name}/manifests/${digest}`,
      'Docker-Content-Digest': digest,
      'Content-Length': '0',
    }
    const subject = asObject(doc.subject)?.digest
    if (typeof subject === 'string' && subjectHeader) headers['OCI-Subject'] = subject
    return new Response(null, { status: 201, headers })
  }

  const manifests = async (req: Request, name: string, reference: string): Promise<Response> => {
    if (req.method === 'PUT') return putManifest(req, name, reference)
    const repo = repoOf(name, false)
    if (req.method === 'DELETE') {
      if (DIGEST_RE.test(reference)) {
        if (repo?.manifests.delete(reference) !== true) return errorResponse(404, 'MANIFEST_UNKNOWN', 'unknown')
        for (const [tag, d] of repo.tags) if (d === reference) repo.tags.delete(tag)
      } else if (repo?.tags.delete(reference) !== true) {
        return errorResponse(404, 'MANIFEST_UNKNOWN', 'unknown')
      }
      return new Response(null, { status: 202 })
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return errorResponse(405, 'UNSUPPORTED', 'method not allowed')
    if (repo === undefined) {
      return req.method === 'HEAD' ? new Response(null, { status: 404 }) : errorResponse(404, 'NAME_UNKNOWN', 'repo')
    }
    const m = lookup(repo, reference)
    if (m === undefined) {
      return req.method === 'HEAD'
        ? new Response(null, { status: 404 })
        : errorResponse(404, 'MANIFEST_UNKNOWN', 'manifest unknown')
    }
    const headers = {
      'Content-Type': m.mediaType,
      'Content-Length': String(m.bytes.length),
      'Docker-Content-Digest': m.digest,
      ETag: `"${m.digest}"`,
    }
    return new Response(req.method === 'HEAD' ? null : new Uint8Array(m.bytes), { status: 200, headers })
  }

  const tagsList = (url: URL, name: string): Response => {
    const repo = repoOf(name, false)
    if (repo === undefined) return errorResponse(404, 'NAME_UNKNOWN', 'repository name not known to registry')
    let tags = [...repo.tags.keys()].sort()
    const last = url.searchParams.get('last')
    if (last !== null) tags = tags.filter((t) => t > last)
    const n = url.searchParams.get('n')
    const headers: Record<string, string> = { 'Content-Type': 'application/json' }
    if (n !== null && Number(n) < tags.length) {
      tags = tags.slice(0, Number(n))
      headers.Link = `</v2/${name}/tags/list?n=${n}&last=${encodeURIComponent(tags.at(-1)!)}>; rel="next"`
    }
    return new Response(JSON.stringify({ name, tags }), { status: 200, headers })
  }

  const referrers = (url: URL, name: string, digest: string): Response => {
    if (!referrersAPI)
      return new Response('404 page not found\n', { status: 404, headers: { 'Content-Type': 'text/plain' } })
    if (!DIGEST_RE.test(digest)) return errorResponse(400, 'DIGEST_INVALID', 'invalid digest')
    let list = referrersOf(repoOf(name, false), digest)
    const headers: Record<string, string> = { 'Content-Type': OCI_INDEX }
    const artifactType = url.searchParams.get('artifactType')
    if (artifactType !== null && !options.ignoreArtifactTypeFilter) {
      list = list.filter((d) => d.artifactType === artifactType)
      headers['OCI-Filters-Applied'] = 'artifactType'
    }
    const last = url.searchParams.get('last')
    if (last !== null) list = list.filter((d) => String(d.digest) > last)
    const page = options.referrersPageSize
    if (page !== undefined && list.length > page) {
      list = list.slice(0, page)
      const next = new URLSearchParams(url.searchParams)
      next.set('last', String(list.at(-1)!.digest))
      headers.Link = `</v2/${name}/referrers/${digest}?${next}>; rel="next"`
    }
    return new Response(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: list }), {
      status: 200,
      headers,
    })
  }

  const route = async (req: Request): Promise<Response> => {
    const url = new URL(req.url)
    const path = url.pathname
    if (path === '/v2/' || path === '/v2') {
      return new Response('{}', {
        status: 200,
        headers: { 'Content-Type': 'application/json', 'Docker-Distribution-API-Version': 'registry/2.0' },
      })
    }
    let m = /^\/v2\/(.+)\/blobs\/uploads\/([^/]*)$/.exec(path)
    if (m) return checkName(m[1]!) ?? uploadsRoute(req, url, m[1]!, m[2]!)
    m = /^\/v2\/(.+)\/blobs\/([^/]+)$/.exec(path)
    if (m) return checkName(m[1]!) ?? blobs(req.method, m[1]!, decodeURIComponent(m[2]!))
    m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(path)
    if (m) return checkName(m[1]!) ?? manifests(req, m[1]!, decodeURIComponent(m[2]!))
    m = /^\/v2\/(.+)\/tags\/list$/.exec(path)
    if (m && req.method === 'GET') return checkName(m[1]!) ?? tagsList(url, m[1]!)
    m = /^\/v2\/(.+)\/referrers\/([^/]+)$/.exec(path)
    if (m && req.method === 'GET') return checkName(m[1]!) ?? referrers(url, m[1]!, decodeURIComponent(m[2]!))
    return new Response('404 page not found\n', { status: 404, headers: { 'Content-Type': 'text/plain' } })
  }

  const handle = async (req: Request): Promise<Response> => {
    const res = await route(req)
    requests.push({ method: req.method, path: new URL(req.url).pathname, status: res.status })
    return res
  }

  return {
    handle,
    fetch: (async (input: RequestInfo | URL, init?: RequestInit) => handle(new Request(input, init))) as typeof fetch,
    requests,
    manifest: (repository, reference) => lookup(repos.get(repository), reference),
  }
}

function checkName(name: string): Response | undefined {
  return NAME_RE.test(name) ? undefined : errorResponse(400, 'NAME_INVALID', 'invalid repository name')
}

async function toRequest(req: IncomingMessage, origin: string): Promise<Request> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  const headers = new Headers()
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue
    for (const value of Array.isArray(v) ? v : [v]) headers.append(k, value)
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD'
  return new Request(new URL(req.url ?? '/', origin), {
    method: req.method ?? 'GET',
    headers,
    ...(hasBody ? { body: Buffer.concat(chunks) } : {}),
  })
}

async function send(res: ServerResponse, response: Response, head: boolean): Promise<void> {
  const body = head || response.body === null ? undefined : Buffer.from(await response.arrayBuffer())
  const headers: Record<string, string> = {}
  response.headers.forEach((v, k) => {
    headers[k] = v
  })
  if (body !== undefined) headers['content-length'] = String(body.length)
  res.writeHead(response.status, headers)
  res.end(body)
}

/** Serve a fake registry on 127.0.0.1 (random port). */
export async function startFakeRegistry(options: FakeRegistryOptions = {}): Promise<ServedFakeRegistry> {
  const registry = createFakeRegistry(options)
  let origin = ''
  const server: Server = createServer((req, res) => {
    toRequest(req, origin)
      .then((r) => registry.handle(r))
      .then((response) => send(res, response, req.method === 'HEAD'))
      .catch((e: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' })
        res.end(String(e))
      })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  const host = `127.0.0.1:${port}`
  origin = `http://${host}`
  return {
    ...registry,
    host,
    url: origin,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
