/**
 * `POST /api/sync/gc-tombstones` and `/api/sync/gc-change-log` (contract 5.5): owner-only
 * (`workspace.settings.manage`) mutations on the active workspace, refused with 503 unless the
 * adapter declares both snapshot capabilities: deleting history is safe only when a client that
 * falls behind it can bootstrap from a snapshot instead.
 */
import type { Router } from "h3"
import { sendNoContent } from "h3"
import type { SyncGatewayAdapter, SyncGatewayCapabilities } from "../or3/types.js"
import { GcRequest } from "../schema/wire.js"
import { CONTROL_BODY_BYTES, readLimitedJsonBody } from "./body.js"
import { httpError, setNoStore } from "./guards.js"
import { decodeBody, type HostContext } from "./HostContext.js"

const decodeGc = decodeBody(GcRequest, "Invalid GC request")

/** `supportsSyncHistoryRetention`: both capabilities, or nothing (a missing field fails closed). */
export const supportsHistoryRetention = (capabilities: SyncGatewayCapabilities | undefined): boolean =>
  capabilities?.snapshotBootstrap === "snapshot-v1" && capabilities?.historyRetention === "snapshot-v1"

const gcMethods = {
  "gc-tombstones": { method: "gcTombstones", label: "GC tombstones" },
  "gc-change-log": { method: "gcChangeLog", label: "GC change log" }
} as const satisfies Record<string, { method: keyof SyncGatewayAdapter; label: string }>

export const registerGcRoutes = (router: Router, host: HostContext): void => {
  const adapter = host.provider.syncGatewayAdapter
  for (const [path, { label, method }] of Object.entries(gcMethods)) {
    router.post(
      `/api/sync/${path}`,
      host.route(async (event) => {
        setNoStore(event)
        host.requireMutation(event)
        const request = decodeGc(await readLimitedJsonBody(event, CONTROL_BODY_BYTES))
        await host.requireSession(event, "workspace.settings.manage", request.scope.workspaceId)
        if (!supportsHistoryRetention(adapter.capabilities)) {
          throw httpError(503, "Sync history retention unavailable for active sync adapter")
        }
        const run = adapter[method]
        if (run === undefined) throw httpError(501, `${label} not supported by adapter`)
        await run.call(adapter, event, { scope: { ...request.scope }, retentionSeconds: request.retentionSeconds })
        // The adapter returns nothing, and neither does the host.
        sendNoContent(event, 204)
      })
    )
  }
}
