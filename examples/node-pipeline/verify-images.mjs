#!/usr/bin/env node
// Verify the cosign signatures of a list of images, a few at a time, and write a JSON report: the check a platform
// team runs before promoting a release or admitting a batch of images. Plain JavaScript with JSDoc types: it runs
// with `node` as it is (no build step) and an editor, or `tsc --checkJs`, still checks it against countersign's types.
//
//   node verify-images.mjs --key cosign.pub --images images.txt --report report.json
//   node verify-images.mjs --certificate-identity-regexp '^https://github\.com/acme/' \
//     --certificate-oidc-issuer https://token.actions.githubusercontent.com ghcr.io/acme/app:v1 ghcr.io/acme/api:v2
//
// Exit code: 0 when every image verified, 1 when any did not, 2 for bad usage. See README.md for every option.
import { readFile, writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { isCountersignError } from 'countersign/errors'
import {
  createDockerConfigCredentials,
  createNodeFetch,
  createTUFTrustProvider,
  loadPublicKeyFile,
  nodeHasher,
  nodeSignatureBackend,
} from 'countersign/node'
import { createRegistryClient, parseReference } from 'countersign/oci'
import { parseTrustedRoot } from 'countersign/trust'
import { verifyImage } from 'countersign/verify'

/**
 * @typedef {object} ImageReport
 * @property {string} image The reference as listed.
 * @property {boolean} ok Whether a signature verified.
 * @property {string} [digest] The digest the signatures were checked against.
 * @property {{ format: string, key?: number, subject?: string, issuer?: string }[]} [signatures] What verified.
 * @property {{ code: string, message: string }} [error] Why it did not verify: a countersign error code
 *   (`ERR_NO_SIGNATURES`, `ERR_NO_MATCHING_SIGNATURES`, `ERR_OCI_NOT_FOUND`, ...) and its message.
 */

const USAGE = `usage: node verify-images.mjs [--images FILE] [IMAGE...]
  (--key PUB [--key PUB]... | --certificate-identity[-regexp] S --certificate-oidc-issuer[-regexp] I)
  [--trusted-root FILE] [--insecure-ignore-tlog] [--concurrency N] [--report FILE]`

const { values: opts, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        images: { type: 'string' },
        key: { type: 'string', multiple: true, default: [] },
        'certificate-identity': { type: 'string' },
        'certificate-identity-regexp': { type: 'string' },
        'certificate-oidc-issuer': { type: 'string' },
        'certificate-oidc-issuer-regexp': { type: 'string' },
        'trusted-root': { type: 'string' },
        'insecure-ignore-tlog': { type: 'boolean', default: false },
        concurrency: { type: 'string', default: '4' },
        report: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    })
  } catch (e) {
    return usage(/** @type {Error} */ (e).message)
  }
})()

/**
 * @param {string} message
 * @returns {never}
 */
function usage(message) {
  console.error(`${message}\n${USAGE}`)
  process.exit(2)
}

if (opts.help) {
  console.log(USAGE)
  process.exit(0)
}

/** One reference per line; blank lines and `#` comments are skipped. */
async function listImages() {
  const fromFile = opts.images
    ? (await readFile(opts.images, 'utf8'))
        .split('\n')
        .map((line) => line.replace(/#.*/, '').trim())
        .filter((line) => line !== '')
    : []
  return [...fromFile, ...positionals]
}

/**
 * The trust material for the transparency log and Fulcio certificates: a file, else the Sigstore TUF repository
 * (cached in $TUF_ROOT or ~/.sigstore/root, refreshed when its metadata expires; $TUF_MIRROR names another one).
 */
async function loadTrustedRoot() {
  if (opts['trusted-root']) return parseTrustedRoot(await readFile(opts['trusted-root']))
  const mirror = process.env.TUF_MIRROR
  const tuf = createTUFTrustProvider({ fetch: createNodeFetch(), ...(mirror ? { mirror } : {}) })
  return (await tuf.load()).trustedRoot
}

/** @returns {Promise<Omit<import('countersign/verify').VerifyImageOptions, 'store'>>} */
async function verificationOptions() {
  const identity = Object.fromEntries(
    Object.entries({
      subject: opts['certificate-identity'],
      subjectRegExp: opts['certificate-identity-regexp'],
      issuer: opts['certificate-oidc-issuer'],
      issuerRegExp: opts['certificate-oidc-issuer-regexp'],
    }).filter(([, v]) => v !== undefined),
  )
  const keyless = Object.keys(identity).length > 0
  const byKey = opts.key.length > 0
  if (keyless === byKey) usage('give either --key or a certificate identity and issuer')
  const ignoreTlog = opts['insecure-ignore-tlog']
  // Keyless certificates are short-lived: the log's timestamp is what proves they were valid when used.
  if (keyless && ignoreTlog) usage('--insecure-ignore-tlog needs --key')
  const keys = await Promise.all(opts.key.map((path) => loadPublicKeyFile(path)))
  return {
    keys,
    ...(keyless ? { identity } : {}),
    ...(ignoreTlog ? { insecureIgnoreTlog: true } : { trustedRoot: await loadTrustedRoot() }),
    // Node's crypto verifies the Sigstore checks several times faster than Web Crypto; same verdicts.
    signatureBackend: nodeSignatureBackend,
  }
}

/**
 * Run `task` over `items` with at most `limit` running at once; results keep the input order.
 *
 * @template T, R
 * @param {readonly T[]} items
 * @param {number} limit
 * @param {(item: T) => Promise<R>} task
 * @returns {Promise<R[]>}
 */
async function mapConcurrently(items, limit, task) {
  /** @type {R[]} */
  const results = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await task(/** @type {T} */ (items[i]))
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

const images = await listImages()
if (images.length === 0) usage('no images: list them in --images FILE or as arguments')
const concurrency = Number(opts.concurrency)
if (!Number.isInteger(concurrency) || concurrency < 1) usage('--concurrency must be a positive integer')

let options
try {
  options = await verificationOptions()
} catch (e) {
  // A key file or trusted root that cannot be read fails the run before any image is looked at.
  console.error(isCountersignError(e) ? `${e.code}: ${e.message}` : String(e))
  process.exit(2)
}

// One registry client for every image: it keeps tokens per registry and repository and limits requests per host.
// Credentials come from ~/.docker/config.json (or $DOCKER_CONFIG) and its credential helpers, as with docker pull.
const store = createRegistryClient({
  fetch: createNodeFetch(),
  credentials: createDockerConfigCredentials(),
  hasher: nodeHasher,
  timeoutMs: 120_000,
})

/** @type {ImageReport[]} */
const reports = await mapConcurrently(images, concurrency, async (image) => {
  try {
    const result = await verifyImage(parseReference(image), { ...options, store })
    console.error(`ok      ${image}@${result.digest}`)
    return {
      image,
      ok: true,
      digest: result.digest,
      signatures: result.verified.map((check) => ({
        format: check.format,
        ...(check.keyIndex !== undefined ? { key: check.keyIndex } : {}),
        ...(check.identity ? { subject: check.identity.subject, issuer: check.identity.issuer ?? '' } : {}),
      })),
    }
  } catch (e) {
    // Every countersign failure has a stable code; anything else is a bug worth seeing in full.
    const error = isCountersignError(e)
      ? { code: e.code, message: e.message }
      : { code: 'UNEXPECTED', message: String(/** @type {Error} */ (e)?.stack ?? e) }
    const digest = isCountersignError(e) ? e.details?.digest : undefined
    console.error(`FAILED  ${image}: ${error.code}`)
    return { image, ok: false, ...(typeof digest === 'string' ? { digest } : {}), error }
  }
})

const verified = reports.filter((r) => r.ok).length
const report = {
  checkedAt: new Date().toISOString(),
  summary: { total: reports.length, verified, failed: reports.length - verified },
  images: reports,
}
const text = `${JSON.stringify(report, null, 2)}\n`
if (opts.report) await writeFile(opts.report, text)
else process.stdout.write(text)
// exitCode, not exit(): a report written to a pipe is flushed before the process ends.
process.exitCode = verified === reports.length ? 0 : 1
