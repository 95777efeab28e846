// HTTP requests per sign and per verify against a real docker-registry (distribution 2.8, no Referrers API),
// anonymous, image given by digest, one signature — next to cosign v3's counts for the same operations.
// cosign cannot be installed here (no Debian package, no network beyond npm/Debian), so its figures are traced
// from its source (cosign d6d86c22 with go-containerregistry v0.21.7: cosign sign/verify code paths, ggcr
// uploadOne = HEAD+POST+PATCH+PUT per blob, commitSubjectReferrers = GET referrers + GET tag + PUT tag, one
// GET /v2/ ping per Puller/Pusher object) rather than measured; see the closing note of issue 3.
// Run: npx tsx bench/registry-requests.ts

import { signImage } from '../src/image/sign.js'
import { verifyImage } from '../src/image/verify.js'
import { generateKeyPair } from '../src/keys/index.js'
import { parseReference } from '../src/oci/reference.js'
import { createRegistryClient } from '../src/oci/registry.js'
import { createKeySigner } from '../src/signers/key-signer.js'
import { pushTinyImage } from '../test/support/oci-image.js'
import { startRegistry } from '../test/support/registry.js'

const COSIGN = {
  'sign, bundle form (first signature)': 17,
  'verify, bundle form (one signature)': 9,
  'sign, legacy .sig (first signature)': 14,
  'verify, legacy .sig (one signature)': 5,
} as const

const reg = await startRegistry()
try {
  const key = await generateKeyPair()
  const rows: [string, number][] = []
  const counted = async (
    label: keyof typeof COSIGN,
    fn: (store: ReturnType<typeof createRegistryClient>) => Promise<unknown>,
  ) => {
    let n = 0
    await fn(createRegistryClient({ onRequest: () => n++ }))
    rows.push([label, n])
  }
  for (const format of ['bundle', 'legacy'] as const) {
    const tagged = parseReference(`${reg.host}/bench/${format}:v1`)
    const digest = await pushTinyImage(createRegistryClient(), tagged, format)
    const ref = { ...tagged, tag: undefined, digest }
    const name = format === 'bundle' ? 'bundle form' : 'legacy .sig'
    await counted(`sign, ${name} (first signature)`, (store) =>
      signImage(ref, createKeySigner(key), { store, tlogUpload: false, format }),
    )
    await counted(`verify, ${name} (one signature)`, (store) =>
      verifyImage(ref, { store, keys: [key.publicKey], insecureIgnoreTlog: true }),
    )
  }
  console.log(`${'operation'.padEnd(40)} countersign  cosign v3 (traced)  ratio`)
  for (const [label, n] of rows) {
    const c = COSIGN[label as keyof typeof COSIGN]
    console.log(`${label.padEnd(40)} ${String(n).padStart(11)}  ${String(c).padStart(18)}  ${(n / c).toFixed(2)}`)
  }
} finally {
  await reg.stop()
}
