// The page's script: read the files the user chose, verify the bundle with countersign/verify, show the verdict.
// Runs entirely in the browser (Web Crypto); the trusted root is the public-good one shipped in countersign/trust
// unless the user supplies a trusted_root.json.
import { isCountersignError } from 'countersign/errors'
import { parsePublicKey } from 'countersign/keys'
import { parseTrustedRoot, publicGoodTrustedRoot } from 'countersign/trust'
import { verifyBundle } from 'countersign/verify'

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @returns {T}
 */
const $ = (id) => /** @type {T} */ (document.getElementById(id))

/** @type {HTMLInputElement} */
const bundleInput = $('bundle')
/** @type {HTMLOutputElement} */
const result = $('result')

/** The bytes of the file chosen in `input`, or undefined when none is. */
async function fileBytes(/** @type {HTMLInputElement} */ input) {
  const file = input.files?.[0]
  return file ? new Uint8Array(await file.arrayBuffer()) : undefined
}

/** A text field's value, trimmed; undefined when empty. */
function text(/** @type {string} */ id) {
  return /** @type {HTMLInputElement} */ ($(id)).value.trim() || undefined
}

/** @returns {boolean} */
function checked(/** @type {string} */ id) {
  return /** @type {HTMLInputElement} */ ($(id)).checked
}

/**
 * @param {'verified' | 'failed'} status
 * @param {string} message
 */
function show(status, message) {
  result.dataset.status = status
  result.textContent = message
}

/** @returns {Promise<import('countersign/verify').BundlePolicy>} */
async function signerPolicy() {
  const key = await fileBytes($('key'))
  if (key) return { key: parsePublicKey(key) }
  const identity = text('identity')
  const issuer = text('issuer')
  if (!identity || !issuer) throw new Error('give the signer identity and its OIDC issuer, or a public key')
  return {
    identity: {
      ...(checked('identity-is-regexp') ? { subjectRegExp: identity } : { subject: identity }),
      ...(checked('issuer-is-regexp') ? { issuerRegExp: issuer } : { issuer }),
    },
  }
}

/** @returns {Promise<import('countersign/verify').ArtifactInput>} */
async function artifact() {
  const bytes = await fileBytes($('artifact'))
  if (bytes) return bytes
  const digest = text('digest')
  if (!digest) throw new Error('choose the signed file or enter its sha256 digest')
  return { digest: digest.includes(':') ? digest : `sha256:${digest}` }
}

async function verify() {
  const bundle = await fileBytes(bundleInput)
  if (!bundle) throw new Error('choose a bundle')
  const root = await fileBytes($('trusted-root'))
  const trustedRoot = root ? parseTrustedRoot(root) : publicGoodTrustedRoot()
  const verified = await verifyBundle(bundle, await artifact(), { trustedRoot, policy: await signerPolicy() })
  const signer =
    verified.signer.type === 'certificate'
      ? `${verified.signer.identity.subject}\nissuer ${verified.signer.identity.issuer}`
      : `the key ${verified.signer.hint}`
  const times = [...new Set(verified.verifiedTimes.map((t) => t.toISOString()))]
  const logged = verified.tlogEntries.length
  show(
    'verified',
    `✔ Verified\nSigned by ${signer}\n${logged} transparency log entr${logged === 1 ? 'y' : 'ies'}; signed at ${times.join(', ')}`,
  )
}

$('form').addEventListener('submit', (event) => {
  event.preventDefault()
  verify().catch((e) => {
    // Library errors carry a stable code (ERR_TLOG_INCLUSION_PROOF, ERR_POLICY_DENIED, ...) worth showing as is.
    show(
      'failed',
      isCountersignError(e) ? `✘ Not verified\n${e.code}: ${e.message}` : `✘ ${e instanceof Error ? e.message : e}`,
    )
  })
})

// The drop zone hands dropped files to the bundle input, so a drop and a click on it end the same way.
const zone = $('drop-zone')
zone.addEventListener('dragover', (event) => {
  event.preventDefault()
  zone.classList.add('over')
})
zone.addEventListener('dragleave', () => zone.classList.remove('over'))
zone.addEventListener('drop', (event) => {
  event.preventDefault()
  zone.classList.remove('over')
  if (event.dataTransfer?.files.length) bundleInput.files = event.dataTransfer.files
})
