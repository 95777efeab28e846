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
  'blob/index': 'src/blob/index.ts',
  'artifacts/index': 'src/artifacts/index.ts',
  sign: 'src/sign.ts',
  verify: 'src/verify.ts',
  attest: 'src/attest.ts',
  'verify-attestation': 'src/verify-attestation.ts',
}

export default defineConfig([
  {
    entry: library,
    format: ['esm'],
    platform: 'neutral',
    target: 'es2022',
    dts: { compilerOptions: { types: [] } },
    splitting: true,
    treeshake: true,
    sourcemap: true,
    clean: false,
    outDir: 'dist',
  },
  {
    entry: { 'node/index': 'src/node/index.ts', 'cli/main': 'src/cli/main.ts' },
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    dts: { entry: { 'node/index': 'src/node/index.ts' }, compilerOptions: { types: ['node'] } },
    splitting: true,
    sourcemap: true,
    clean: false,
    outDir: 'dist',
    external: ['@noble/hashes', '@noble/curves', '@noble/ciphers'],
  },
])
