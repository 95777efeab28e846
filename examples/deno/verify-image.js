// Verify a container image's cosign signatures under Deno with a public key (cosign.pub), without the transparency
// log, or keyless against a certificate identity with the transparency log. Only the registry named in the
// reference (and its token service) is contacted; only the key file and the trusted root file are read.
//
//   deno run --allow-read=cosign.pub --allow-net=ghcr.io,pkg-containers.githubusercontent.com \
//     verify-image.js --key cosign.pub ghcr.io/acme/app:v1
//
// Exit code 0 when a signature verifies, 1 when none does (the error code is printed), 2 for bad usage.
import { isCountersignError } from 'countersign/errors'
import { parsePublicKey } from 'countersign/keys'
import { createRegistryClient, parseReference } from 'countersign/oci'
import { parseTrustedRoot, publicGoodTrustedRoot } from 'countersign/trust'
import { verifyImage } from 'countersign/verify'

const USAGE = `usage: verify-image.js (--key PUB | --certificate-identity[-regexp] S --certificate-oidc-issuer[-regexp] I
  [--trusted-root FILE]) IMAGE`

/** `--name value` pairs and the remaining positional arguments. */
function parseArgs(argv) {
  const flags = {}
  const rest = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (!arg.startsWith('--')) {
      rest.push(arg)
      continue
    }
    const eq = arg.indexOf('=')
    if (eq > 0) flags[arg.slice(2, eq)] = arg.slice(eq + 1)
    else flags[arg.slice(2)] = argv[++i]
  }
  return { flags, rest }
}

function usage(message) {
  console.error(`${message}\n${USAGE}`)
  Deno.exit(2)
}

const { flags, rest } = parseArgs(Deno.args)
const [image] = rest
if (!image) usage('an image reference is required')

/** Key mode checks signatures only (cosign --insecure-ignore-tlog); keyless needs the log and a trusted root. */
async function verificationOptions() {
  if (flags.key) return { keys: [parsePublicKey(await Deno.readFile(flags.key))], insecureIgnoreTlog: true }
  const identity = Object.fromEntries(
    Object.entries({
      subject: flags['certificate-identity'],
      subjectRegExp: flags['certificate-identity-regexp'],
      issuer: flags['certificate-oidc-issuer'],
      issuerRegExp: flags['certificate-oidc-issuer-regexp'],
    }).filter(([, v]) => v !== undefined),
  )
  const trustedRoot = flags['trusted-root']
    ? parseTrustedRoot(await Deno.readFile(flags['trusted-root']))
    : publicGoodTrustedRoot()
  return { keys: [], identity, trustedRoot }
}

try {
  // Deno's own fetch; anonymous pulls (pass `credentials` for a private registry, see README.md).
  const store = createRegistryClient({ timeoutMs: 60_000 })
  const result = await verifyImage(parseReference(image), { store, ...(await verificationOptions()) })
  console.log(`verified: ${image}@${result.digest}`)
  for (const check of result.verified) {
    const who = check.identity ? `${check.identity.subject} (${check.identity.issuer})` : `key #${check.keyIndex}`
    console.log(`  ${check.format} signature by ${who}`)
  }
} catch (e) {
  console.error(isCountersignError(e) ? `not verified: ${e.code}: ${e.message}` : `error: ${e}`)
  // A network error wraps what Deno reported, e.g. NotCapable for a host missing from --allow-net.
  if (isCountersignError(e) && e.cause) console.error(`  cause: ${e.cause}`)
  Deno.exit(1)
}
