/**
 * Leak detection for redaction tests, written independently of src/http/redact.ts: every form a secret may take in
 * a message (as is, base64 and base64url at each byte alignment with and without padding, percent- and
 * form-encoded, JSON-escaped) and every 16-character run of one; and all the text an error exposes (message,
 * stack, `details`, its cause chain, `util.inspect`, `JSON.stringify`).
 */
import { inspect } from 'node:util'

/** A run this long of a secret's form identifies it (the redaction promises 12; 16 leaves room for neighbours). */
const RUN = 16

function base64Cores(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8')
  const out: string[] = []
  for (let shift = 0; shift < 3; shift++) {
    const padded = Buffer.concat([Buffer.alloc(shift, 0x41), bytes])
    for (const enc of ['base64', 'base64url'] as const) {
      const whole = padded.toString(enc)
      const unpadded = whole.replace(/=+$/, '')
      const lead = shift === 0 ? 0 : shift + 1
      const trail = padded.length % 3 === 0 ? 0 : 1
      if (shift === 0) out.push(whole, unpadded)
      out.push(unpadded.slice(lead, unpadded.length - trail))
    }
  }
  return out
}

/** The forms of `secret` a message must not contain. */
export function secretForms(secret: string): string[] {
  const bases = [secret, ...base64Cores(secret)]
  const forms = new Set<string>()
  for (const b of bases) {
    forms.add(b)
    forms.add(encodeURIComponent(b))
    forms.add(new URLSearchParams({ v: b }).toString().slice(2))
    forms.add(JSON.stringify(b).slice(1, -1))
  }
  return [...forms].filter((f) => f.length >= 6)
}

/** The forms (or 16-character runs of them) of `secret` found in `text`; empty when it does not leak. */
export function leaksOf(text: string, secret: string): string[] {
  const found = new Set<string>()
  for (const form of secretForms(secret)) {
    if (text.includes(form)) found.add(form)
    for (let i = 0; i + RUN <= form.length; i++) {
      const run = form.slice(i, i + RUN)
      if (text.includes(run)) found.add(run)
    }
  }
  return [...found]
}

/** Every piece of text an error (or any thrown value) exposes, cause chain included. */
export function errorText(error: unknown): string {
  const parts: string[] = []
  let e: unknown = error
  for (let depth = 0; depth < 20 && e !== undefined && e !== null; depth++) {
    parts.push(inspect(e, { depth: 30, showHidden: true }))
    try {
      parts.push(JSON.stringify(e) ?? '')
    } catch {
      // Circular: inspect above has it.
    }
    if (typeof e === 'object') {
      const o = e as { message?: unknown; stack?: unknown; details?: unknown; cause?: unknown }
      parts.push(String(o.message ?? ''), String(o.stack ?? ''))
      try {
        parts.push(JSON.stringify(o.details) ?? '')
      } catch {
        // Covered by inspect.
      }
      e = o.cause
    } else {
      parts.push(String(e))
      e = undefined
    }
  }
  return parts.join('\n')
}

/** The secrets (by name) that leak into `text`, with what was found: `{}` when none does. */
export function leakedSecrets(text: string, secrets: Readonly<Record<string, string>>): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const [name, secret] of Object.entries(secrets)) {
    const found = leaksOf(text, secret)
    if (found.length > 0) out[name] = found
  }
  return out
}

/**
 * Run `fn`, expecting it to fail: the error it throws. Fails the test when `fn` succeeds.
 *
 * @example
 * const e = await thrown(() => client.fetchManifest(ref))
 */
export async function thrown(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn()
  } catch (e) {
    return e
  }
  throw new Error('expected a failure')
}

/** Random-looking secrets of a given prefix (high entropy, so a match is never an accident). */
export function fakeSecret(prefix: string, length = 40): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
  let s = prefix
  while (s.length < length) s += alphabet[Math.floor(Math.random() * alphabet.length)]
  return s
}

/** A JWT-shaped token (three base64url segments) whose claims name `subject`. */
export function fakeJWT(subject: string): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  return [
    b64({ alg: 'RS256', kid: fakeSecret('kid-', 24) }),
    b64({
      iss: 'https://issuer.example',
      sub: subject,
      aud: 'sigstore',
      email: `${subject}@example.com`,
      email_verified: true,
      iat: now,
      exp: now + 600,
      nonce: fakeSecret('n', 32),
    }),
    Buffer.from(fakeSecret('sig', 64)).toString('base64url'),
  ].join('.')
}
