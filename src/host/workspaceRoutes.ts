/**
 * `/api/workspaces` (contract 5.6): the host checks the session and its permission, validates
 * names, then calls the store; store errors pass through with their status (the SQLite facades
 * map Forbidden to 403 and NotFound to 404).
 */
import { getRouterParam, type H3Event, type Router } from "h3"
import { Limits } from "../schema/limits.js"
import { CONTROL_BODY_BYTES, readLimitedJsonBody } from "./body.js"
import { httpError } from "./guards.js"
import type { HostContext } from "./HostContext.js"
import { requireCan } from "./permissions.js"

/** The name and description rules of the create and rename endpoints. */
const workspaceFields = (body: unknown): { name: string; description: string | null } => {
  const fields = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {}
  const name = typeof fields.name === "string" ? fields.name.trim() : ""
  const description = typeof fields.description === "string" ? fields.description.trim() : ""
  if (name === "") throw httpError(400, "Workspace name is required")
  if (name.length > Limits.maxWorkspaceNameLength) {
    throw httpError(400, `Workspace name must be under ${Limits.maxWorkspaceNameLength} characters`)
  }
  if (description.length > Limits.maxWorkspaceDescriptionLength) {
    throw httpError(400, `Description must be under ${Limits.maxWorkspaceDescriptionLength} characters`)
  }
  // As in the host, a blank or missing description is sent as null (it clears the description).
  return { name, description: description === "" ? null : description }
}

const workspaceIdParam = (event: H3Event): string => {
  const id = getRouterParam(event, "id", { decode: true })?.trim()
  if (id === undefined || id === "") throw httpError(400, "Workspace id is required")
  return id
}

export const registerWorkspaceRoutes = (router: Router, host: HostContext): void => {
  const store = host.provider.authWorkspaceStore

  router.get(
    "/api/workspaces",
    host.route(async (event) => {
      const session = await host.requireSession(event, "workspace.read")
      const workspaces = await store.listUserWorkspaces(session.user.id)
      return {
        workspaces: workspaces
          .map((workspace) => ({
            id: workspace.id,
            name: workspace.name,
            description: workspace.description ?? null,
            role: workspace.role,
            createdAt: workspace.createdAt ?? 0,
            isActive: workspace.isActive ?? workspace.id === session.workspace.id
          }))
          .sort((a, b) => b.createdAt - a.createdAt)
      }
    })
  )

  router.post(
    "/api/workspaces",
    host.route(async (event) => {
      host.requireMutation(event)
      const session = await host.requireSession(event, "workspace.read")
      const fields = workspaceFields(await readLimitedJsonBody(event, CONTROL_BODY_BYTES))
      const { workspaceId } = await store.createWorkspace({ userId: session.user.id, ...fields })
      return { id: workspaceId }
    })
  )

  router.patch(
    "/api/workspaces/:id",
    host.route(async (event) => {
      host.requireMutation(event)
      const session = await host.requireSession(event, "workspace.read")
      const workspaceId = workspaceIdParam(event)
      const fields = workspaceFields(await readLimitedJsonBody(event, CONTROL_BODY_BYTES))
      await store.updateWorkspace({ userId: session.user.id, workspaceId, ...fields })
      // Cached sessions carry the workspace's name.
      host.sessions.cache.forgetWorkspace(workspaceId)
      return { ok: true }
    })
  )

  router.delete(
    "/api/workspaces/:id",
    host.route(async (event) => {
      host.requireMutation(event, false)
      const session = await host.requireSession(event, "workspace.read")
      const workspaceId = workspaceIdParam(event)
      // Owner of the *active* workspace only: removing another one means switching to it first.
      requireCan(session, "workspace.settings.manage", { kind: "workspace", id: workspaceId })
      await store.removeWorkspace({ userId: session.user.id, workspaceId })
      // Every member was moved elsewhere, not only the caller (the host forgets the caller only).
      host.sessions.cache.forgetWorkspace(workspaceId)
      return { ok: true }
    })
  )

  router.post(
    "/api/workspaces/active",
    host.route(async (event) => {
      host.requireMutation(event)
      const session = await host.requireSession(event, "workspace.read")
      const body = await readLimitedJsonBody(event, CONTROL_BODY_BYTES)
      const raw = typeof body === "object" && body !== null ? (body as { id?: unknown }).id : undefined
      const workspaceId = typeof raw === "string" ? raw.trim() : ""
      if (workspaceId === "") throw httpError(400, "Workspace id is required")
      // The session the user would have there: a non-member (or a deleted workspace) has no role.
      const role = await store.getWorkspaceRole({ userId: session.user.id, workspaceId })
      const target = { ...session, workspace: { id: workspaceId }, role }
      requireCan(target, "workspace.read", { kind: "workspace", id: workspaceId })
      await store.setActiveWorkspace({ userId: session.user.id, workspaceId })
      host.sessions.cache.forgetIdentity(session)
      return { ok: true }
    })
  )
}
