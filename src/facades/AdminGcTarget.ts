/**
 * Which workspaces an admin GC action may collect, decided from what the OR3 host passes
 * `runAction` (contract `or3-admin-contract.md` section 2):
 *
 * - the env **super admin** (the host's admin context names principal `super_admin`, or, from a
 *   host that sets no context, a session the host synthesized: no workspace, `deploymentAdmin`):
 *   every live workspace, or the one named in `payload.workspaceId`;
 * - a **workspace admin** (any other session): the session's workspace only. Naming another one
 *   is 403, and a session without a workspace is 403 too.
 *
 * The host has already checked that the caller is an admin at all (and, for a workspace admin,
 * the owner of that workspace); this only narrows what they reach.
 */
import type { H3Event } from "h3"
import type { SessionContext } from "../or3/types.js"
import { h3Error } from "./H3Errors.js"
import { idOf } from "./Session.js"

export type GcTarget =
  | { readonly kind: "all" }
  | { readonly kind: "workspace"; readonly workspaceId: string; readonly named: boolean }

/** `event.context.admin.principal.kind`, as the host's `requireAdminApiContext` leaves it. */
const principalKind = (event: Pick<H3Event, "context"> | undefined): unknown => {
  const admin: unknown = event?.context?.admin
  if (typeof admin !== "object" || admin === null) return undefined
  const principal = (admin as { principal?: unknown }).principal
  return typeof principal === "object" && principal !== null ? (principal as { kind?: unknown }).kind : undefined
}

/** `payload.workspaceId`, trimmed; undefined when absent; 400 when present but not a non-blank string. */
const namedWorkspace = (payload: Record<string, unknown> | undefined): string | undefined => {
  const value = payload?.workspaceId
  if (value === undefined || value === null) return undefined
  if (typeof value !== "string" || value.trim() === "") {
    throw h3Error(400, "Invalid payload.workspaceId: must be a non-empty string")
  }
  return value.trim()
}

export const resolveGcTarget = (
  event: Pick<H3Event, "context"> | undefined,
  payload: Record<string, unknown> | undefined,
  session: SessionContext | undefined
): GcTarget => {
  const named = namedWorkspace(payload)
  const sessionWorkspace = idOf(session?.workspace)
  const kind = principalKind(event)
  const superAdmin = kind === "super_admin" ||
    (kind === undefined && sessionWorkspace === undefined && session?.deploymentAdmin === true)
  if (superAdmin) return named === undefined ? { kind: "all" } : { kind: "workspace", workspaceId: named, named: true }
  if (sessionWorkspace === undefined) throw h3Error(403, "Workspace admin session required")
  if (named !== undefined && named !== sessionWorkspace) {
    throw h3Error(403, "Forbidden: workspace target does not match session")
  }
  return { kind: "workspace", workspaceId: sessionWorkspace, named: false }
}
