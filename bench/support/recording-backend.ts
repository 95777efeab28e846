/**
 * A signature backend that records every public-key verification a verifier asks of it (key object, hash, padding,
 * signature and signed bytes, and the answer), and the replay of those exact calls with the same backend: what
 * bench/verify-floor.ts times as the floor of a bundle verification.
 * @module
 */
import type { HashAlgorithm, PublicKey } from '../../src/keys/types.js'
import type { RSAVerifyPadding, SignatureBackend } from '../../src/keys/verify.js'

/** One call the verifier made to its signature backend. */
export interface RecordedVerification {
  readonly method: 'ecdsa' | 'rsa' | 'ed25519'
  /** The key object the verifier passed: backends cache their imported key per object, so identity matters. */
  readonly key: PublicKey
  readonly hash: HashAlgorithm | undefined
  readonly padding: RSAVerifyPadding | undefined
  /** Copies of what the verifier passed (P1363 `r ‖ s` for ECDSA, as the backend receives it). */
  readonly signature: Uint8Array
  readonly data: Uint8Array
  /** The backend answered with a promise (work handed to the thread pool) rather than a boolean. */
  async: boolean
  /** The backend's answer, once settled. */
  result: boolean | undefined
}

/** A backend wrapped so that the calls made inside {@link RecordingBackend.record} are recorded. */
export interface RecordingBackend {
  /** Pass this as `signatureBackend`: it forwards every call to the wrapped backend. */
  readonly backend: SignatureBackend
  /** Run `fn` (one verification) and return the calls it made, in the order it made them, all settled. */
  record(fn: () => Promise<unknown>): Promise<RecordedVerification[]>
}

const CURVE_NAME: Readonly<Record<string, string>> = {
  'ecdsa-p256': 'P-256',
  'ecdsa-p384': 'P-384',
  'ecdsa-p521': 'P-521',
}

/**
 * A short name for the operation: `P-256/SHA-256`, `P-384/SHA-384`, `Ed25519`, `RSA-2048 PSS/SHA-256`, ….
 *
 * @example
 * const label = operationLabel(calls[0]!) // 'P-384/SHA-384'
 */
export function operationLabel(call: RecordedVerification): string {
  const hash = call.hash?.toUpperCase().replace('SHA', 'SHA-')
  if (call.method === 'ecdsa') return `${CURVE_NAME[call.key.algorithm] ?? call.key.algorithm}/${hash}`
  if (call.method === 'rsa') {
    return `RSA-${call.key.rsaBits} ${call.padding?.type === 'pss' ? 'PSS' : 'PKCS1'}/${hash}`
  }
  return 'Ed25519'
}

/**
 * Wrap `inner` with a recorder. Outside `record` the wrapper only forwards.
 *
 * @example
 * const { backend, record } = createRecordingBackend(nodeSignatureBackend)
 * const verifier = createVerifier(root, { signatureBackend: backend })
 * const calls = await record(() => verifier.verify(bundle, artifact, policy))
 */
export function createRecordingBackend(inner: SignatureBackend): RecordingBackend {
  let sink: RecordedVerification[] | undefined
  const note = (
    call: Omit<RecordedVerification, 'async' | 'result'>,
    out: boolean | Promise<boolean>,
  ): boolean | Promise<boolean> => {
    if (sink === undefined) return out
    const entry: RecordedVerification = { ...call, async: false, result: undefined }
    sink.push(entry)
    if (typeof out === 'boolean') {
      entry.result = out
      return out
    }
    entry.async = true
    return out.then((ok) => {
      entry.result = ok
      return ok
    })
  }
  const backend: SignatureBackend = {
    verifyECDSA(key, hash, signature, data) {
      const out = inner.verifyECDSA(key, hash, signature, data)
      if (sink === undefined) return out
      return note(
        { method: 'ecdsa', key, hash, padding: undefined, signature: signature.slice(), data: data.slice() },
        out,
      )
    },
    verifyRSA(key, hash, padding, signature, data) {
      const out = inner.verifyRSA(key, hash, padding, signature, data)
      if (sink === undefined) return out
      return note({ method: 'rsa', key, hash, padding, signature: signature.slice(), data: data.slice() }, out)
    },
    verifyEd25519(key, signature, data) {
      const out = inner.verifyEd25519(key, signature, data)
      if (sink === undefined) return out
      const call = { method: 'ed25519', key, hash: undefined, padding: undefined } as const
      return note({ ...call, signature: signature.slice(), data: data.slice() }, out)
    },
  }
  return {
    backend,
    async record(fn) {
      if (sink !== undefined) throw new Error('record() calls must not overlap')
      const calls: RecordedVerification[] = []
      sink = calls
      try {
        await fn()
      } finally {
        sink = undefined
      }
      // Every check the verifier started has been awaited by the time it resolves; an unsettled call means it left
      // work running, which the floor could not account for.
      await Promise.resolve()
      if (calls.some((c) => c.result === undefined)) throw new Error('a recorded verification never settled')
      return calls
    },
  }
}

/**
 * Make the recorded call again with `backend`, with `key` in place of the recorded key object (a fresh copy makes
 * the backend import the key again, as it must for a key the verifier meets for the first time).
 *
 * @example
 * const ok = await replayVerification(nodeSignatureBackend, call)
 */
export function replayVerification(
  backend: SignatureBackend,
  call: RecordedVerification,
  key: PublicKey = call.key,
): boolean | Promise<boolean> {
  switch (call.method) {
    case 'ecdsa':
      return backend.verifyECDSA(key, call.hash!, call.signature, call.data)
    case 'rsa':
      return backend.verifyRSA(key, call.hash!, call.padding!, call.signature, call.data)
    case 'ed25519':
      return backend.verifyEd25519(key, call.signature, call.data)
  }
}

/**
 * A new key object with the same fields: no backend has an imported key cached for it yet.
 *
 * @example
 * const fresh = copyKey(call.key)
 */
export function copyKey(key: PublicKey): PublicKey {
  return Object.freeze({ ...key })
}
