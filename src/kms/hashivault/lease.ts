/**
 * The lease arithmetic of a Vault login token, apart from any I/O: when to renew it (`auth/token/renew-self`), when
 * renewing stops helping (the token's max TTL caps the lease) and a new login is due. Internal.
 *
 * Vault's own client (`api/lifetime_watcher.go`) renews at about two thirds of the lease and logs in again once a
 * renewal no longer extends it; countersign renews five minutes before the end (the margin its other credential
 * refreshes use), or at two thirds of a lease shorter than fifteen minutes.
 *
 * @module
 */

/** What a login or a renewal answered (`auth.client_token`, `auth.lease_duration`, `auth.renewable`). */
export interface VaultAuth {
  readonly token: string
  /** Seconds; 0 for a token without expiry (a root token, a `period`-less token with no TTL). */
  readonly leaseSeconds: number
  readonly renewable: boolean
}

/** A login token and when to act on it. Times are milliseconds since the epoch. */
export interface VaultLease {
  readonly token: string
  /** When the token stops working; `Infinity` for a token without expiry. */
  readonly expiresAt: number
  /** When to renew (or log in again): before `expiresAt` by the margin. */
  readonly refreshAt: number
  /** Whether `renew-self` may still extend the lease: Vault said renewable and no renewal has been capped yet. */
  readonly renewable: boolean
  /** The lease the login granted; a renewal granting less has reached the token's max TTL. */
  readonly grantedMs: number
}

/** Renew this long before a lease ends. */
export const REFRESH_MARGIN_MS = 5 * 60_000
/** After a failed renewal or login, while the token still works, wait this long before trying again. */
export const RETRY_AFTER_MS = 30_000

function margin(grantedMs: number): number {
  return Math.min(REFRESH_MARGIN_MS, grantedMs / 3)
}

/** The lease of a freshly issued token (a login). */
export function leaseFromLogin(auth: VaultAuth, now: number): VaultLease {
  if (auth.leaseSeconds === 0) {
    return { token: auth.token, expiresAt: Infinity, refreshAt: Infinity, renewable: false, grantedMs: Infinity }
  }
  const grantedMs = auth.leaseSeconds * 1000
  const expiresAt = now + grantedMs
  return {
    token: auth.token,
    expiresAt,
    refreshAt: expiresAt - margin(grantedMs),
    renewable: auth.renewable,
    grantedMs,
  }
}

/**
 * The lease after a successful `renew-self`. A lease shorter than the login's means the max TTL cut it: the token is
 * used until its refresh point and then replaced by a new login instead of renewed again (so no run of ever
 * shorter renewals near the max TTL).
 */
export function leaseFromRenewal(previous: VaultLease, auth: VaultAuth, now: number): VaultLease {
  const grantedMs = auth.leaseSeconds * 1000
  // A second of slack: Vault reports whole seconds.
  const capped = grantedMs < previous.grantedMs - 1000
  const expiresAt = auth.leaseSeconds === 0 ? Infinity : now + grantedMs
  return {
    token: previous.token,
    expiresAt,
    refreshAt: expiresAt - margin(previous.grantedMs),
    renewable: auth.renewable && !capped,
    grantedMs: previous.grantedMs,
  }
}

/** The same lease, tried again later: after a failed refresh while the token still works. */
export function leaseRetryLater(lease: VaultLease, now: number): VaultLease {
  return { ...lease, refreshAt: Math.min(now + RETRY_AFTER_MS, lease.expiresAt) }
}
