/** Paths and loaders for the key vectors under test/vectors/keys (see each SOURCE.md). */
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const VECTORS = fileURLToPath(new URL('../vectors/keys/', import.meta.url))

/** Raw bytes of a vector file. */
export function vectorBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(`${VECTORS}${path}`))
}

/** UTF-8 text of a vector file. */
export function vectorText(path: string): string {
  return readFileSync(`${VECTORS}${path}`, 'utf8')
}

/** One encrypted-key case directory (test/vectors/keys/cases/<id>). */
export interface KeyCase {
  readonly id: string
  readonly privateKey: string
  readonly password: Uint8Array
  readonly publicPem: string
  readonly meta: {
    readonly pemType: string
    readonly password: string
    readonly wrongPassword: string
    readonly keyType: string
    readonly expect: 'pass' | 'fail'
    readonly expectDecrypt: 'pass' | 'fail'
    readonly decryptedFormat: string
    readonly why: string
    readonly kdf: { readonly params: { readonly N: number } }
  }
}

export function keyCases(): KeyCase[] {
  return readdirSync(`${VECTORS}cases`, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => ({
      id: d.name,
      privateKey: vectorText(`cases/${d.name}/private.key`),
      password: vectorBytes(`cases/${d.name}/password.txt`),
      publicPem: vectorText(`cases/${d.name}/public.pem`),
      meta: JSON.parse(vectorText(`cases/${d.name}/case.json`)),
    }))
}
