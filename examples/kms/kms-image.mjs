#!/usr/bin/env node
// Sign a container image with a key held in a KMS (AWS KMS, Google Cloud KMS, Azure Key Vault, HashiCorp Vault or
// OpenBao transit), verify it with the same key reference, and export the public key for verifiers without KMS
// access. The key never leaves the KMS: countersign sends it the digest (or the payload) to sign.
//
//   node kms-image.mjs sign   --key awskms:///alias/release ghcr.io/acme/app@sha256:...
//   node kms-image.mjs verify --key awskms:///alias/release ghcr.io/acme/app:v1
//   node kms-image.mjs public-key --key awskms:///alias/release > release.pub
//
// Credentials and endpoints come from each provider's usual environment (AWS_*, GOOGLE_*, AZURE_*, VAULT_*): see
// README.md. Exit code 0 on success, 1 when signing or verification fails, 2 for bad usage.
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { isCountersignError } from 'countersign/errors'
import { publicKeyToPEM } from 'countersign/keys'
import { createKMSSigner, kmsPublicKey } from 'countersign/kms'
import {
  awsKMSProviderFromEnvironment,
  azureKMSProviderFromEnvironment,
  createDockerConfigCredentials,
  createNodeFetch,
  createTUFTrustProvider,
  gcpKMSProviderFromEnvironment,
  hashiVaultKMSProviderFromEnvironment,
  nodeHasher,
} from 'countersign/node'
import { createRegistryClient, parseReference } from 'countersign/oci'
import { signImage } from 'countersign/sign'
import { parseTrustedRoot } from 'countersign/trust'
import { verifyImage } from 'countersign/verify'
import { createSigstoreServices } from 'countersign/witness'

const USAGE = `usage: node kms-image.mjs sign --key KMS_URI [--format bundle|legacy] [--rekor-url URL] [--trusted-root FILE]
         [--tlog-upload=false] IMAGE
       node kms-image.mjs verify --key KMS_URI [--trusted-root FILE] [--insecure-ignore-tlog] IMAGE
       node kms-image.mjs public-key --key KMS_URI
KMS_URI: awskms:///alias/NAME | gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K[/cryptoKeyVersions/V]
         | azurekms://VAULT.vault.azure.net/KEY | hashivault://KEY (openbao://KEY)`

/**
 * @param {string} message
 * @returns {never}
 */
function usage(message) {
  console.error(`${message}\n${USAGE}`)
  process.exit(2)
}

const { values: opts, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        key: { type: 'string' },
        format: { type: 'string', default: 'bundle' },
        'rekor-url': { type: 'string' },
        'trusted-root': { type: 'string' },
        'tlog-upload': { type: 'string', default: 'true' },
        'insecure-ignore-tlog': { type: 'boolean', default: false },
      },
    })
  } catch (e) {
    return usage(/** @type {Error} */ (e).message)
  }
})()
const [verb, image] = positionals
if (!opts.key) usage('--key is required')
if (verb !== 'public-key' && !image) usage('an image reference is required')
if (opts.format !== 'bundle' && opts.format !== 'legacy') usage('--format is bundle or legacy')

// One provider per scheme, configured from the environment as each cloud's own CLI is; a provider does nothing
// until a key of its scheme is used, so unused clouds need no credentials. (openbao:// keys go to the Vault one.)
const providers = [
  awsKMSProviderFromEnvironment(),
  gcpKMSProviderFromEnvironment(),
  azureKMSProviderFromEnvironment(),
  hashiVaultKMSProviderFromEnvironment(),
]

// Registry credentials from ~/.docker/config.json (or $DOCKER_CONFIG) and its helpers, as `docker push` uses them.
const store = createRegistryClient({
  fetch: createNodeFetch(),
  credentials: createDockerConfigCredentials(),
  hasher: nodeHasher,
})

/** The trust material: a file, else the Sigstore TUF repository (its trusted root and signing config). */
async function loadTrust() {
  if (opts['trusted-root']) return { trustedRoot: parseTrustedRoot(await readFile(opts['trusted-root'])) }
  const { trustedRoot, signingConfig } = await createTUFTrustProvider({ fetch: createNodeFetch() }).load()
  return { trustedRoot, ...(signingConfig ? { signingConfig } : {}) }
}

async function sign() {
  const ref = parseReference(/** @type {string} */ (image))
  const signer = await createKMSSigner(/** @type {string} */ (opts.key), providers)
  const upload = opts['tlog-upload'] !== 'false'
  // The transparency log makes the signature publicly auditable; private infrastructure can turn it off.
  const witness = upload
    ? createSigstoreServices({
        ...(await loadTrust()),
        ...(opts['rekor-url'] ? { urls: { rekorUrl: opts['rekor-url'] } } : {}),
        fetch: createNodeFetch(),
      }).witness
    : undefined
  const signed = await signImage(ref, signer, {
    store,
    format: /** @type {'bundle' | 'legacy'} */ (opts.format),
    ...(witness ? { witness } : { tlogUpload: false }),
    onWarning: (message) => console.error(`WARNING: ${message}`),
  })
  console.log(`signed ${image} (${signed.digest}) with ${signer.uri} [${signer.algorithm}]`)
}

async function verify() {
  const key = await kmsPublicKey(/** @type {string} */ (opts.key), providers)
  const ignoreTlog = opts['insecure-ignore-tlog']
  const result = await verifyImage(parseReference(/** @type {string} */ (image)), {
    store,
    keys: [key],
    ...(ignoreTlog ? { insecureIgnoreTlog: true } : { trustedRoot: (await loadTrust()).trustedRoot }),
  })
  console.log(`verified ${image}@${result.digest}: ${result.verified.map((c) => c.format).join(', ')} signature(s)`)
}

async function publicKey() {
  process.stdout.write(publicKeyToPEM(await kmsPublicKey(/** @type {string} */ (opts.key), providers)))
}

const verbs = { sign, verify, 'public-key': publicKey }
const run = verbs[/** @type {keyof typeof verbs} */ (verb)]
if (!run) usage(`unknown command ${JSON.stringify(verb ?? '')}`)
try {
  await run()
} catch (e) {
  // Errors name the key and the provider's answer, never a credential (providers redact what they resolve).
  console.error(isCountersignError(e) ? `${e.code}: ${e.message}` : String(e))
  process.exitCode = 1
}
