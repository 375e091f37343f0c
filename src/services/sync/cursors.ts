/**
 * updateCursor: a device's confirmed position in the workspace log, one row per (workspace, device).
 * GC reads the lowest cursor to decide which winning entries every known device already has.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import { traced } from "../../layers/Spans.js"
import { decodeInput } from "../../schema/decode.js"
import { CursorRegressed, Forbidden, InvalidInput, Unauthenticated } from "../../schema/errors.js"
import { type SessionUser, UpdateCursorRequest } from "../../schema/wire.js"
import { nowMillis } from "../Ids.js"

const decodeRequest = decodeInput(UpdateCursorRequest, "cursor")

interface CursorRow {
  user_id: string
  version: number
}

export const makeCursors = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  /**
   * Moves a device cursor forward. GC deletes a workspace's newest entries only up to the lowest
   * cursor, so a cursor must never claim more than the device has (not past the head, which
   * would also let GC purge entries the device never pulled) and must never move back (a
   * regressed cursor would ask for history GC may already have removed: the device must
   * snapshot instead). All checks and the write happen in one `BEGIN IMMEDIATE` transaction,
   * so two calls for one device cannot both pass the regression check on the same old value.
   * Writing the same version again refreshes `updated_at`: a device that is current but
   * quiet keeps its cursor from expiring.
   */
  const updateCursor = Effect.fnUntraced(function*(input: unknown, session?: SessionUser) {
    const request = yield* decodeRequest(input)
    if (session === undefined) return yield* new Unauthenticated({ action: "update a device cursor" })
    const { workspaceId } = request.scope
    const { deviceId, version } = request
    yield* sql.withTransaction(Effect.gen(function*() {
      const [head] = yield* sql<{ head: number }>`SELECT head FROM sync_heads WHERE workspace_id = ${workspaceId}`
      if (version > (head?.head ?? 0)) {
        return yield* new InvalidInput({ field: "cursor.version", reason: "Cursor exceeds workspace version" })
      }
      const [stored] = yield* sql<CursorRow>`
        SELECT user_id, version FROM device_cursors WHERE workspace_id = ${workspaceId} AND device_id = ${deviceId}`
      if (stored !== undefined && stored.user_id !== session.userId) {
        return yield* new Forbidden({
          userId: session.userId,
          workspaceId,
          action: "update a device cursor",
          reason: "Device cursor belongs to another user"
        })
      }
      if (stored !== undefined && version < stored.version) {
        return yield* new CursorRegressed({ deviceId, current: stored.version, requested: version })
      }
      const now = yield* nowMillis
      yield* sql`
        INSERT INTO device_cursors (workspace_id, device_id, user_id, version, updated_at)
        VALUES (${workspaceId}, ${deviceId}, ${session.userId}, ${version}, ${now})
        ON CONFLICT (workspace_id, device_id) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at`
    }))
  }, Effect.catchTag("SqlError", Effect.die), traced("SyncGateway.updateCursor"))

  return { updateCursor }
})
