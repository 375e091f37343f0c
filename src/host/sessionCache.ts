/**
 * The host's shared session cache (contract 5.7): resolved sessions keyed by the auth provider's
 * identity, kept for a TTL (`auth.sessionCacheTtlMs`, 60 s by default) in a bounded LRU. Without
 * it every request would cost three store queries, each queued behind the writes on the one
 * SQLite connection.
 *
 * What it may serve stale is bounded twice: an entry never outlives its TTL, and the routes that
 * change a user's active workspace, or remove or rename a workspace, drop the entries they affect
 * (`forgetIdentity`, `forgetWorkspace`) once the store has committed the change. The role is not
 * trusted from here: the resolver reads it again on every request (`session.ts`). (The host also
 * caps the TTL at the auth provider's session expiry; the reference host's identities carry none.)
 */
import type { ResolvedSession } from "./session.js"
import type { HostIdentity } from "./types.js"

export interface SessionCacheOptions {
  /** How long a resolved session is reused; 0 turns the cache off. Default 60 000 ms, as in the host. */
  readonly ttlMs?: number
  /** Identities kept at most; the least recently used one goes first. Default 1 000. */
  readonly maxEntries?: number
}

export const DEFAULT_SESSION_CACHE_TTL_MS = 60_000
export const DEFAULT_SESSION_CACHE_MAX_ENTRIES = 1_000

export interface SessionCache {
  /** The cached session of `identity`, or `resolve()`'s, shared by every request that asks meanwhile. */
  readonly get: (identity: HostIdentity, resolve: () => Promise<ResolvedSession>) => Promise<ResolvedSession>
  /** Drops `identity`'s session (after its active workspace changed). */
  readonly forgetIdentity: (identity: Pick<HostIdentity, "provider" | "providerUserId">) => void
  /** Drops every session whose workspace is `workspaceId`, and every one still being resolved. */
  readonly forgetWorkspace: (workspaceId: string) => void
}

interface Entry {
  readonly session: Promise<ResolvedSession>
  readonly expiresAt: number
  /** Known once the session resolved. */
  workspaceId?: string | undefined
}

const keyOf = (identity: Pick<HostIdentity, "provider" | "providerUserId">) =>
  `${identity.provider}\u0000${identity.providerUserId}`

/** A new, empty cache; `{ ttlMs: 0 }` gives one that keeps nothing. */
export const makeSessionCache = (options: SessionCacheOptions = {}): SessionCache => {
  const ttlMs = options.ttlMs ?? DEFAULT_SESSION_CACHE_TTL_MS
  const maxEntries = Math.max(1, options.maxEntries ?? DEFAULT_SESSION_CACHE_MAX_ENTRIES)
  if (!(ttlMs > 0)) {
    return { get: (_identity, resolve) => resolve(), forgetIdentity: () => {}, forgetWorkspace: () => {} }
  }
  // A Map iterates in insertion order: re-inserting on every hit keeps the oldest use first.
  const entries = new Map<string, Entry>()

  const get: SessionCache["get"] = (identity, resolve) => {
    const key = keyOf(identity)
    const now = Date.now()
    const cached = entries.get(key)
    if (cached !== undefined) {
      entries.delete(key)
      if (cached.expiresAt > now) {
        entries.set(key, cached)
        return cached.session
      }
    }
    // The entry is stored before it resolves, so concurrent first requests share one resolution,
    // and an invalidation that lands meanwhile removes it (its readers may predate the change).
    const entry: Entry = { session: resolve(), expiresAt: now + ttlMs }
    entries.set(key, entry)
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string)
    entry.session.then(
      (session) => {
        entry.workspaceId = session.workspace?.id
      },
      () => {
        // A failed provisioning is not reused: the next request tries again.
        if (entries.get(key) === entry) entries.delete(key)
      }
    )
    return entry.session
  }

  return {
    get,
    forgetIdentity: (identity) => {
      entries.delete(keyOf(identity))
    },
    forgetWorkspace: (workspaceId) => {
      for (const [key, entry] of entries) {
        if (entry.workspaceId === undefined || entry.workspaceId === workspaceId) entries.delete(key)
      }
    }
  }
}
