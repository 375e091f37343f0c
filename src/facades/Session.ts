/**
 * The caller, as the OR3 host already resolved it: `resolveSessionContext` caches a SessionContext
 * under `event.context` keys that begin with `__or3_session_context_` (contract 4.1). The facades
 * read it from there instead of resolving the session again, and check the requested workspace
 * against it before any service runs.
 */
import * as Effect from "effect/Effect"
import type { H3Event } from "h3"
import { Forbidden, InvalidInput } from "../schema/errors.js"
import type { SessionUser } from "../schema/wire.js"

export const SESSION_CONTEXT_PREFIX = "__or3_session_context_"

/** The session's user and (active) workspace; either may be missing. */
export interface CallerSession {
  readonly userId: string | undefined
  readonly workspaceId: string | undefined
}

const nonEmptyString = (value: unknown): string | undefined =>
  typeof value === "string" && value.trim() !== "" ? value : undefined

/** `value.id` when `value` is an object whose `id` is a non-blank string. */
export const idOf = (value: unknown): string | undefined =>
  typeof value === "object" && value !== null ? nonEmptyString((value as { id?: unknown }).id) : undefined

/**
 * The first authenticated session cached on the event, or undefined when there is none (the
 * host's maintenance scheduler and admin GC calls have no session). Unauthenticated entries
 * (`{ authenticated: false }`) and malformed values are ignored.
 */
export const sessionFromEvent = (event: Pick<H3Event, "context"> | undefined): CallerSession | undefined => {
  const context: Record<string, unknown> | undefined = event?.context
  if (context === undefined || context === null) return undefined
  for (const key of Object.keys(context)) {
    if (!key.startsWith(SESSION_CONTEXT_PREFIX)) continue
    const value = context[key]
    if (typeof value !== "object" || value === null) continue
    const session = value as { authenticated?: unknown; user?: unknown; workspace?: unknown }
    if (session.authenticated !== true) continue
    const userId = idOf(session.user)
    const workspaceId = idOf(session.workspace)
    if (userId === undefined && workspaceId === undefined) continue
    return { userId, workspaceId }
  }
  return undefined
}

/** The user the services see (notification ownership, cursor owners, snapshot owners). */
export const sessionUser = (session: CallerSession | undefined): SessionUser | undefined =>
  session?.userId === undefined ? undefined : { userId: session.userId }

/** `input.scope.workspaceId` of an untrusted request, trimmed. */
export const scopeWorkspaceId = (input: unknown): string | undefined => {
  if (typeof input !== "object" || input === null) return undefined
  const scope = (input as { scope?: unknown }).scope
  if (typeof scope !== "object" || scope === null) return undefined
  const workspaceId = (scope as { workspaceId?: unknown }).workspaceId
  return typeof workspaceId === "string" ? workspaceId.trim() : undefined
}

/**
 * Workspace isolation on top of the host's permission check: a request must name a workspace
 * (400), and when a session is present it must be the session's workspace (403). Without a
 * session (scheduler, admin action) only the first rule applies.
 */
export const requireWorkspaceScope = (
  action: string,
  input: unknown,
  session: CallerSession | undefined
): Effect.Effect<string, InvalidInput | Forbidden> => {
  const workspaceId = scopeWorkspaceId(input)
  if (workspaceId === undefined || workspaceId === "") {
    return Effect.fail(new InvalidInput({ field: "scope.workspaceId", reason: "is required" }))
  }
  if (session?.workspaceId !== undefined && session.workspaceId !== workspaceId) {
    return Effect.fail(
      new Forbidden({
        userId: session.userId ?? null,
        workspaceId,
        action,
        reason: "the workspace is not the session's workspace"
      })
    )
  }
  return Effect.succeed(workspaceId)
}
