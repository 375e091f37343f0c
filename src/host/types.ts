/**
 * What the reference host is built from: the OR3 facades of a provider, and a function that
 * says who is calling. The host only uses the OR3 interfaces, so any provider (or a deliberately
 * broken one, in tests) can be plugged in.
 */
import type { H3Event } from "h3"
import type { AuthWorkspaceStore, ProviderAdminAdapter, SyncGatewayAdapter } from "../or3/types.js"
import type { SessionCache } from "./sessionCache.js"

/** The facades the host calls; `createSqliteProvider()` resolves to a superset of this. */
export interface ReferenceHostProvider {
  readonly authWorkspaceStore: AuthWorkspaceStore
  readonly syncGatewayAdapter: SyncGatewayAdapter
  /** The sync admin adapter; without one the admin routes answer like the host's stub. */
  readonly syncAdminAdapter?: ProviderAdminAdapter
}

/** An authenticated caller, as an auth provider reports it (the OR3 auth provider's session). */
export interface HostIdentity {
  readonly provider: string
  readonly providerUserId: string
  readonly email?: string
  readonly displayName?: string
}

/** Says who sent the request, or null for an anonymous one. Thrown h3 errors pass through. */
export type Authenticate = (event: H3Event) => Promise<HostIdentity | null>

export interface ReferenceHostOptions {
  readonly provider: ReferenceHostProvider
  readonly authenticate: Authenticate
  /**
   * Browser origins allowed to send mutations besides the request's own origin (the host's
   * `security.allowedOrigins`). Origin-less bearer requests (curl, fetch from Node) always pass.
   */
  readonly allowedOrigins?: ReadonlyArray<string>
  /**
   * The shared session cache (the host's LRU with `auth.sessionCacheTtlMs`); by default
   * `makeSessionCache()`: sessions are reused for 60 s. Keep a handle on it to drop sessions after
   * changing memberships outside the host's routes, as the host's admin code does;
   * `makeSessionCache({ ttlMs: 0 })` resolves every request through the store. One cache per
   * host: its entries come from this host's store.
   */
  readonly sessionCache?: SessionCache
  /** Where unexpected failures are reported before the client gets a generic 500. */
  readonly logError?: (message: string, error: unknown) => void
}
