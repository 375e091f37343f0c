/**
 * The OR3 `SyncGatewayAdapter` over the `SyncGateway` service. Each method reads the caller from
 * the event, checks the workspace scope, runs the service program and maps its errors; the sync
 * rules themselves live in the service.
 */
import * as Effect from "effect/Effect"
import type { H3Event } from "h3"
import type { SyncGatewayAdapter, SyncGatewayCapabilities } from "../or3/types.js"
import type { Forbidden, InvalidInput } from "../schema/errors.js"
import type { SessionUser } from "../schema/wire.js"
import { SyncGateway, type SyncGatewayShape } from "../services/SyncGateway.js"
import type { MaintenanceTracker } from "./MaintenanceTracker.js"
import { asMutable, type Runner } from "./Runner.js"
import { requireWorkspaceScope, sessionFromEvent, sessionUser } from "./Session.js"

/** The id this package registers under everywhere: gateway, store and admin adapter. */
export const SQLITE_PROVIDER_ID = "sqlite"

/** Snapshot bootstrap and history retention are both implemented (contract 4.5). */
export const SYNC_CAPABILITIES = {
  snapshotBootstrap: "snapshot-v1",
  historyRetention: "snapshot-v1"
} as const satisfies SyncGatewayCapabilities

/** The adapter with every optional method this package implements made required. */
export type SqliteSyncGatewayAdapter = SyncGatewayAdapter &
  Required<
    Pick<
      SyncGatewayAdapter,
      | "capabilities"
      | "snapshot"
      | "gcTombstones"
      | "gcChangeLog"
      | "listWorkspaceIds"
      | "getMaintenanceState"
      | "beginMaintenanceRun"
      | "completeMaintenanceRun"
      | "failMaintenanceRun"
    >
  >

/**
 * Runs `body` for a request that names a workspace: the scope is checked against the event's
 * session first (400 blank, 403 another workspace), then the service sees the session user.
 */
const scoped = <A, E>(
  action: string,
  event: H3Event,
  input: unknown,
  body: (gateway: SyncGatewayShape, user: SessionUser | undefined) => Effect.Effect<A, E>
): Effect.Effect<A, E | InvalidInput | Forbidden, SyncGateway> => {
  const session = sessionFromEvent(event)
  return requireWorkspaceScope(action, input, session).pipe(
    Effect.zipRight(SyncGateway),
    Effect.flatMap((gateway) => body(gateway, sessionUser(session)))
  )
}

export const makeSyncGatewayAdapter = (
  run: Runner<SyncGateway>,
  maintenance: MaintenanceTracker
): SqliteSyncGatewayAdapter => ({
  id: SQLITE_PROVIDER_ID,
  capabilities: { ...SYNC_CAPABILITIES },

  pull: (event, input) =>
    run(
      "SyncGateway.pull",
      scoped("sync.pull", event, input, (gateway, user) =>
        Effect.map(gateway.pull(input, user), (response) => ({ ...response, changes: asMutable(response.changes) })))
    ),

  push: (event, input) =>
    run(
      "SyncGateway.push",
      scoped("sync.push", event, input, (gateway, user) =>
        Effect.map(gateway.push(input, user), (result) => ({ ...result, results: asMutable(result.results) })))
    ),

  updateCursor: (event, input) =>
    run(
      "SyncGateway.updateCursor",
      scoped("sync.updateCursor", event, input, (gateway, user) => gateway.updateCursor(input, user))
    ),

  snapshot: (event, input) =>
    run(
      "SyncGateway.snapshot",
      scoped("sync.snapshot", event, input, (gateway, user) =>
        Effect.map(gateway.snapshot(input, user), (page) => ({ ...page, items: asMutable(page.items) })))
    ),

  gcTombstones: (event, input) =>
    run(
      "SyncGateway.gcTombstones",
      scoped("sync.gcTombstones", event, input, (gateway) =>
        gateway.gcTombstones(input).pipe(
          Effect.tap((report) => Effect.logDebug("gcTombstones", report)),
          Effect.asVoid
        ))
    ),

  gcChangeLog: (event, input) =>
    run(
      "SyncGateway.gcChangeLog",
      scoped("sync.gcChangeLog", event, input, (gateway) =>
        gateway.gcChangeLog(input).pipe(
          Effect.tap((report) => Effect.logDebug("gcChangeLog", report)),
          Effect.asVoid
        ))
    ),

  listWorkspaceIds: () =>
    run(
      "SyncGateway.listWorkspaceIds",
      Effect.flatMap(SyncGateway, (gateway) => Effect.map(gateway.listWorkspaceIds, (ids) => Array.from(ids)))
    ),

  getMaintenanceState: () => maintenance.state(),
  beginMaintenanceRun: () => maintenance.begin(),
  completeMaintenanceRun: (input) => maintenance.complete(input.lastRun),
  failMaintenanceRun: (error) => maintenance.fail(error)
})
