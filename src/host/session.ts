/**
 * Session resolution as the host does it (`resolveSessionContext`, contract 5.7), with open
 * registration: the auth provider's identity is looked up (`getUser`), created when unknown
 * (`getOrCreateUser`), given its default workspace and its role there. The result is kept in the
 * shared session cache (`sessionCache.ts`) and put on every request's event under
 * `__or3_session_context_<requestId>_<provider>`, which is where the provider's facades read the
 * caller from.
 */
import { createError, type H3Event } from "h3"
import { SESSION_CONTEXT_PREFIX } from "../facades/Session.js"
import type { AuthWorkspaceStore, SessionContext } from "../or3/types.js"
import { makeSessionCache, type SessionCache } from "./sessionCache.js"
import type { Authenticate, HostIdentity } from "./types.js"

/** An authenticated session with its user, workspace and role present. */
export type ResolvedSession = SessionContext & {
  readonly authenticated: true
  readonly provider: string
  readonly providerUserId: string
  readonly user: { id: string; email?: string | null; displayName?: string | null }
  readonly workspace: { id: string; name?: string | null }
}

export interface SessionResolver {
  /** The request's session, resolved at most once per request and served from the session cache. */
  readonly resolve: (event: H3Event) => Promise<SessionContext>
  /** The session cache, for the routes that must drop what they changed. */
  readonly cache: SessionCache
}

const ANONYMOUS: SessionContext = { authenticated: false }

export const makeSessionResolver = (
  store: AuthWorkspaceStore,
  authenticate: Authenticate,
  cache: SessionCache = makeSessionCache()
): SessionResolver => {
  const perRequest = new WeakMap<H3Event, Promise<SessionContext>>()
  let requests = 0

  const provision = async (identity: HostIdentity): Promise<ResolvedSession> => {
    const { provider, providerUserId } = identity
    const known = store.getUser === undefined ? null : await store.getUser({ provider, providerUserId })
    const userId = known?.userId ?? (await store.getOrCreateUser({ ...identity })).userId
    const workspace = await store.getOrCreateDefaultWorkspace(userId)
    const role = await store.getWorkspaceRole({ userId, workspaceId: workspace.workspaceId })
    // The host counts a member without a role in their own default workspace as a failed
    // provisioning and rethrows (`auth.sessionProvisioningFailure: 'throw'`).
    if (role === null) throw createError({ statusCode: 500, statusMessage: "Session provisioning failed" })
    // Shared by every request of this identity until it leaves the cache: frozen.
    return Object.freeze({
      authenticated: true,
      provider,
      providerUserId,
      user: Object.freeze({
        id: userId,
        email: known?.email ?? identity.email ?? null,
        displayName: known?.displayName ?? identity.displayName ?? null
      }),
      workspace: Object.freeze({ id: workspace.workspaceId, name: workspace.workspaceName }),
      role,
      deploymentAdmin: false,
      authorizationRevision: 0
    })
  }

  const resolveRequest = async (event: H3Event): Promise<SessionContext> => {
    const identity = await authenticate(event)
    if (identity === null) return ANONYMOUS
    let session = await cache.get(identity, () => provision(identity))
    // The role is read on every request, so a member removed or demoted by any path (another
    // process, an admin tool) loses access at once; only the rest of the session is cached.
    const role = await store.getWorkspaceRole({ userId: session.user.id, workspaceId: session.workspace.id })
    if (role !== session.role) {
      cache.forgetIdentity(identity)
      session = await cache.get(identity, () => provision(identity))
    }
    // Where the provider's facades look for the caller; the request id only has to be unique.
    event.context[`${SESSION_CONTEXT_PREFIX}${++requests}_${identity.provider}`] = session
    return session
  }

  return {
    cache,
    resolve: (event) => {
      let session = perRequest.get(event)
      if (session === undefined) {
        session = resolveRequest(event)
        perRequest.set(event, session)
      }
      return session
    }
  }
}

/** True when the session has what the sync and workspace routes need. */
export const isResolved = (session: SessionContext): session is ResolvedSession =>
  session.authenticated === true &&
  typeof session.user?.id === "string" &&
  typeof session.workspace?.id === "string"

/** The session, or 401 when there is no user or workspace. */
export const requireResolved = (session: SessionContext): ResolvedSession => {
  if (!isResolved(session)) throw createError({ statusCode: 401, statusMessage: "Unauthorized" })
  return session
}
