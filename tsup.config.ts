import { defineConfig } from 'tsup'

// Library entries mirror package.json "exports" (checked by scripts/check-exports.mjs).
const library = {
  index: 'src/index.ts',
  errors: 'src/errors.ts',
  'keys/index': 'src/keys/index.ts',
  'signers/index': 'src/signers/index.ts',
  'oci/index': 'src/oci/index.ts',
  'signature/index': 'src/signature/index.ts',
  'dsse/index': 'src/dsse/index.ts',
  'attestation/index': 'src/attestation/index.ts',
  'bundle/index': 'src/bundle/index.ts',
  'trust/index': 'src/trust/index.ts',
  'rekor/index': 'src/rekor/index.ts',
  'x509/index': 'src/x509/index.ts',
  'timestamp/index': 'src/timestamp/index.ts',
  'fulcio/index': 'src/fulcio/index.ts',
  'oidc/index': 'src/oidc/index.ts',
  'witness/index': 'src/witness/index.ts',
  'policy/index': 'src/policy/index.ts',
  'admission/index': 'src/admission/index.ts',
  'kms/index': 'src/kms/index.ts',
  'kms/aws/index': 'src/kms/aws/index.ts',
  'kms/azure/index': 'src/kms/azure/index.ts',
  'kms/gcp/index': 'src/kms/gcp/index.ts',
  'kms/hashivault/index': 'src/kms/hashivault/index.ts',
  'blob/index': 'src/blob/index.ts',
  'artifacts/index': 'src/artifacts/index.ts',
  sign: 'src/image/sign.ts',
  verify: 'src/image/verify.ts',
  attest: 'src/image/attest.ts',
  'verify-attestation': 'src/image/verify-attestation.ts',
}

// Node-only entries: `countersign/node` (Node's crypto, files, credentials) and the executable.
const nodeOnly = {
  'node/index': 'src/node/index.ts',
  'node/signature-backend': 'src/node/signature-backend.ts',
}

// One JavaScript build for the library, the Node adapters and the CLI, so they share chunks: the executable imports
// the library's own modules instead of carrying a second copy of them, and each verb is its own chunk (the CLI loads
// verbs on demand). esbuild puts a module only in chunks reached from the entries that import it, so the
// platform-neutral entries never reach a chunk with a `node:` import (test/package checks that on the output).
// No source maps: the output is unminified ESM that reads like the source, and maps were two thirds of the package.
export default defineConfig([
  {
    entry: { ...library, ...nodeOnly, 'cli/main': 'src/cli/main.ts' },
    format: ['esm'],
    platform: 'node',
    target: 'es2022',
    dts: false,
    splitting: true,
    treeshake: true,
    sourcemap: false,
    clean: false,
    outDir: 'dist',
  },
  // Declarations: the neutral API must compile without @types/node or the DOM lib; countersign/node needs Node's.
  {
    entry: library,
    format: ['esm'],
    dts: { only: true, compilerOptions: { types: [] } },
    clean: false,
    outDir: 'dist',
  },
  {
    entry: nodeOnly,
    format: ['esm'],
    dts: { only: true, compilerOptions: { types: ['node'] } },
    clean: false,
    outDir: 'dist',
  },
])
