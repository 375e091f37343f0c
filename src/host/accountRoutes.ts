/**
 * `GET /api/auth/session` (contract 5.7) and the sync provider's admin routes (contract 4.4).
 * In the reference host there are no deployment admins: the owner of the active workspace is
 * the admin, and both admin routes are owner-only.
 */
import * as Schema from "effect/Schema"
import type { Router } from "h3"
import type { ProviderAdminAdapter } from "../or3/types.js"
import { CONTROL_BODY_BYTES, readLimitedJsonBody } from "./body.js"
import { httpError, setNoStore } from "./guards.js"
import { decodeBody, type HostContext } from "./HostContext.js"
import { can } from "./permissions.js"
import { isResolved, requireResolved, type ResolvedSession } from "./session.js"

const ProviderActionBody = Schema.Struct({
  kind: Schema.Literal("auth", "sync", "storage"),
  actionId: Schema.String.pipe(Schema.minLength(1)),
  payload: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
})
const decodeAction = decodeBody(ProviderActionBody, "Invalid request")

const requireOwner = (session: ResolvedSession): void => {
  if (session.role !== "owner") throw httpError(403, "Forbidden: owner access required")
}

/** What the host shows when no admin adapter is registered for the provider. */
const stubAdapter = (id: string): ProviderAdminAdapter => ({
  id,
  kind: "sync",
  getStatus: async () => ({ warnings: [], actions: [] })
})

export const registerAccountRoutes = (router: Router, host: HostContext): void => {
  const syncProviderId = host.provider.syncGatewayAdapter.id
  const admin = host.provider.syncAdminAdapter ?? stubAdapter(syncProviderId)

  router.get(
    "/api/auth/session",
    host.route(async (event) => {
      setNoStore(event)
      const session = await host.sessions.resolve(event)
      if (!isResolved(session)) return { session: null, appAccessAllowed: false }
      const access = can(session, "workspace.read", { kind: "workspace", id: session.workspace.id })
      return { session, appAccessAllowed: access.allowed }
    })
  )

  router.get(
    "/api/admin/system/provider-status",
    host.route(async (event) => {
      setNoStore(event)
      const session = requireResolved(await host.sessions.resolve(event))
      requireOwner(session)
      const status = await admin.getStatus(event, { enabled: true, provider: syncProviderId })
      return {
        status: { sync: { enabled: true, provider: syncProviderId, ...status } },
        warnings: status.warnings,
        session: { workspaceId: session.workspace.id, role: session.role }
      }
    })
  )

  router.post(
    "/api/admin/system/provider-action",
    host.route(async (event) => {
      setNoStore(event)
      host.requireMutation(event)
      const session = requireResolved(await host.sessions.resolve(event))
      requireOwner(session)
      const body = decodeAction(await readLimitedJsonBody(event, CONTROL_BODY_BYTES))
      // Only the sync provider is served here; auth and storage have the host's stub (no actions).
      const runAction = body.kind === "sync" ? admin.runAction : undefined
      if (runAction === undefined) throw httpError(501, "Action not supported")
      const payload = body.payload === undefined ? undefined : { ...body.payload }
      const result = await runAction.call(admin, event, body.actionId, payload, {
        provider: syncProviderId,
        enabled: true,
        session
      })
      return { ok: true, result }
    })
  )
}
