/**
 * The host's authorization rule (`server/auth/can.ts`, contract 5): a role grants a fixed set of
 * permissions, and a workspace resource must be the session's active workspace. The second rule
 * is why sync works only on the active workspace: a member who names another of their workspaces
 * gets 403 until they switch to it.
 */
import { createError } from "h3"
import type { SessionContext, WorkspaceRole } from "../or3/types.js"

export type Permission =
  | "workspace.read"
  | "workspace.write"
  | "workspace.settings.manage"
  | "users.manage"
  | "plugins.manage"

export const ROLE_PERMISSIONS: Readonly<Record<WorkspaceRole, ReadonlyArray<Permission>>> = {
  owner: ["workspace.read", "workspace.write", "workspace.settings.manage", "users.manage", "plugins.manage"],
  editor: ["workspace.read", "workspace.write"],
  viewer: ["workspace.read"]
}

export interface WorkspaceResource {
  readonly kind: "workspace"
  readonly id?: string | undefined
}

export interface AccessDecision {
  readonly allowed: boolean
  readonly reason?: "unauthenticated" | "forbidden" | "workspace-mismatch"
}

export const can = (
  session: SessionContext | null | undefined,
  permission: Permission,
  resource?: WorkspaceResource
): AccessDecision => {
  if (session?.authenticated !== true) return { allowed: false, reason: "unauthenticated" }
  const role = session.role
  if (role === undefined || role === null || !ROLE_PERMISSIONS[role]?.includes(permission)) {
    return { allowed: false, reason: "forbidden" }
  }
  if (resource?.id !== undefined && resource.id !== session.workspace?.id) {
    return { allowed: false, reason: "workspace-mismatch" }
  }
  return { allowed: true }
}

/** 401 for an anonymous session, 403 for any other refusal. */
export const requireCan = (
  session: SessionContext | null | undefined,
  permission: Permission,
  resource?: WorkspaceResource
): void => {
  const decision = can(session, permission, resource)
  if (decision.allowed) return
  if (decision.reason === "unauthenticated") throw createError({ statusCode: 401, statusMessage: "Unauthorized" })
  throw createError({ statusCode: 403, statusMessage: "Forbidden", data: { permission, reason: decision.reason } })
}
