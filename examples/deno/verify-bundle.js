// Verify a Sigstore bundle for a file under Deno, offline: the trusted root is the public-good one embedded in the
// package unless --trusted-root names a file. Only the files named on the command line are read.
//
//   deno run --allow-read=app.tar.gz,app.tar.gz.sigstore.json verify-bundle.js \
//     --bundle app.tar.gz.sigstore.json --certificate-identity ci@example.com \
//     --certificate-oidc-issuer https://token.actions.githubusercontent.com app.tar.gz
//
// Exit code 0 when the bundle verifies, 1 when it does not (the error code is printed), 2 for bad usage.
import { isCountersignError } from 'countersign/errors'
import { parsePublicKey } from 'countersign/keys'
import { parseTrustedRoot, publicGoodTrustedRoot } from 'countersign/trust'
import { verifyBundle } from 'countersign/verify'

const USAGE = `usage: verify-bundle.js --bundle FILE [--trusted-root FILE]
  (--key PUB | --certificate-identity[-regexp] S --certificate-oidc-issuer[-regexp] I) ARTIFACT`

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
const [artifactPath] = rest
if (!flags.bundle || !artifactPath) usage('a bundle and an artifact are required')

/** The identity policy from cosign's flag names; fields left out are not checked. */
function identityPolicy() {
  const policy = {
    subject: flags['certificate-identity'],
    subjectRegExp: flags['certificate-identity-regexp'],
    issuer: flags['certificate-oidc-issuer'],
    issuerRegExp: flags['certificate-oidc-issuer-regexp'],
  }
  return Object.fromEntries(Object.entries(policy).filter(([, v]) => v !== undefined))
}

try {
  const [bundle, artifact] = await Promise.all([Deno.readFile(flags.bundle), Deno.readFile(artifactPath)])
  const trustedRoot = flags['trusted-root']
    ? parseTrustedRoot(await Deno.readFile(flags['trusted-root']))
    : publicGoodTrustedRoot()
  const policy = flags.key ? { key: parsePublicKey(await Deno.readFile(flags.key)) } : { identity: identityPolicy() }
  const result = await verifyBundle(bundle, artifact, { trustedRoot, policy })
  const signer =
    result.signer.type === 'certificate'
      ? `${result.signer.identity.subject} (${result.signer.identity.issuer})`
      : `key ${result.signer.hint}`
  console.log(`verified: ${artifactPath} signed by ${signer}`)
  // Integrated time and RFC 3161 times may coincide; each is printed once.
  for (const time of new Set(result.verifiedTimes.map((t) => t.toISOString()))) console.log(`  observed at ${time}`)
} catch (e) {
  // Library errors carry a stable code; anything else (a missing file, a denied permission) is shown as is.
  console.error(isCountersignError(e) ? `not verified: ${e.code}: ${e.message}` : `error: ${e}`)
  Deno.exit(1)
}
