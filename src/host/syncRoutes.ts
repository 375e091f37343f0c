/**
 * `POST /api/sync/{push,pull,snapshot,update-cursor}` as the host serves them (contract 5.1-5.4):
 * no-store, bounded body, envelope decoding (400), session (401), permission on the request's
 * workspace (403), then the adapter, whose reply must pass the host's checks (502).
 */
import * as Either from "effect/Either"
import type { Router } from "h3"
import type { PullRequest as HostPullRequest, SnapshotRequest as HostSnapshotRequest } from "../or3/types.js"
import { Limits } from "../schema/limits.js"
import { PullRequest, PushBatch, SnapshotRequest, type SyncScope, UpdateCursorRequest } from "../schema/wire.js"
import { CONTROL_BODY_BYTES, readLimitedJsonBody } from "./body.js"
import { httpError, setNoStore } from "./guards.js"
import { decodeBody, type HostContext } from "./HostContext.js"
import { mergeResults, validateOps } from "./pushOps.js"
import { checkPullResponse, checkPushResult, checkSnapshotResponse } from "./responseChecks.js"

const decodePush = decodeBody(PushBatch, "Invalid push request")
const decodePull = decodeBody(PullRequest, "Invalid pull request")
const decodeSnapshot = decodeBody(SnapshotRequest, "Invalid snapshot request")
const decodeCursor = decodeBody(UpdateCursorRequest, "Invalid cursor request")

const hostScope = (scope: SyncScope) => ({ ...scope })
const hostTables = (tables: ReadonlyArray<string> | undefined) => (tables === undefined ? {} : { tables: [...tables] })

const toHostPull = ({ scope, tables, ...request }: PullRequest): HostPullRequest => ({
  ...request,
  scope: hostScope(scope),
  ...hostTables(tables)
})

const toHostSnapshot = ({ scope, tables, ...request }: SnapshotRequest): HostSnapshotRequest => ({
  ...request,
  scope: hostScope(scope),
  ...hostTables(tables)
})

export const registerSyncRoutes = (router: Router, host: HostContext): void => {
  const adapter = host.provider.syncGatewayAdapter

  /** The adapter broke the contract: the reason goes to the log, the client gets a 502. */
  const badGateway = <A>(route: string, checked: Either.Either<A, string>): A =>
    Either.getOrThrowWith(checked, (reason) => {
      host.logError(`adapter ${adapter.id} sent an invalid ${route} response: ${reason}`, undefined)
      return httpError(502, `Invalid ${route} response`)
    })

  router.post(
    "/api/sync/push",
    host.route(async (event) => {
      setNoStore(event)
      host.requireMutation(event)
      const envelope = decodePush(await readLimitedJsonBody(event, Limits.maxPushBytes))
      await host.requireSession(event, "workspace.write", envelope.scope.workspaceId)
      const validated = validateOps(envelope.ops)
      // Nothing valid: the host answers alone, and 0 tells the client no version was allocated.
      if (validated.valid.length === 0) return { results: validated.results, serverVersion: 0 }
      // `fileKindCapability` is the host's business; it is not forwarded (contract 5.1 step 7).
      const batch = { scope: hostScope(envelope.scope), ops: [...validated.valid] }
      const result = badGateway("push", checkPushResult(batch.ops, await adapter.push(event, batch)))
      return { results: mergeResults(validated, result.results), serverVersion: result.serverVersion }
    })
  )

  router.post(
    "/api/sync/pull",
    host.route(async (event) => {
      setNoStore(event)
      const request = decodePull(await readLimitedJsonBody(event, Limits.maxPullBytes))
      await host.requireSession(event, "workspace.read", request.scope.workspaceId)
      return badGateway("pull", checkPullResponse(request, await adapter.pull(event, toHostPull(request))))
    })
  )

  router.post(
    "/api/sync/snapshot",
    host.route(async (event) => {
      setNoStore(event)
      const request = decodeSnapshot(await readLimitedJsonBody(event, CONTROL_BODY_BYTES))
      await host.requireSession(event, "workspace.read", request.scope.workspaceId)
      if (adapter.snapshot === undefined) {
        throw httpError(503, "Snapshot bootstrap unavailable for active sync adapter")
      }
      const reply = await adapter.snapshot(event, toHostSnapshot(request))
      return badGateway("snapshot", checkSnapshotResponse(request, reply))
    })
  )

  router.post(
    "/api/sync/update-cursor",
    host.route(async (event) => {
      setNoStore(event)
      const request = decodeCursor(await readLimitedJsonBody(event, CONTROL_BODY_BYTES))
      await host.requireSession(event, "workspace.read", request.scope.workspaceId)
      await adapter.updateCursor(event, { ...request, scope: hostScope(request.scope) })
      return { ok: true }
    })
  )
}
