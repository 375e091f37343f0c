/**
 * updateCursor: a device's confirmed position in the workspace log, one row per (workspace, device).
 * GC reads the lowest cursor to decide which winning entries every known device already has.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as DirectSql from "../../layers/DirectSql.js"
import { traced } from "../../layers/Spans.js"
import { decodeInput } from "../../schema/decode.js"
import { CursorRegressed, Forbidden, InvalidInput, Unauthenticated } from "../../schema/errors.js"
import { type SessionUser, UpdateCursorRequest } from "../../schema/wire.js"
import { nowMillis } from "../Ids.js"

const decodeRequest = decodeInput(UpdateCursorRequest, "cursor")

/** The workspace's head, and the device's cursor row when it has one (its owner and version). */
const selectState = `
  SELECT (SELECT head FROM sync_heads WHERE workspace_id = ?), c.user_id, c.version
  FROM (SELECT 1) LEFT JOIN device_cursors c ON c.workspace_id = ? AND c.device_id = ?`

const upsertCursor = `
  INSERT INTO device_cursors (workspace_id, device_id, user_id, version, updated_at) VALUES (?, ?, ?, ?, ?)
  ON CONFLICT (workspace_id, device_id) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at`

export const makeCursors = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const direct = DirectSql.make(sql)

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
      const [[head, owner, stored]] = yield* direct.values<readonly [number | null, string | null, number | null]>(
        selectState,
        [workspaceId, workspaceId, deviceId]
      )
      if (version > (head ?? 0)) {
        return yield* new InvalidInput({ field: "cursor.version", reason: "Cursor exceeds workspace version" })
      }
      if (owner !== null && owner !== session.userId) {
        return yield* new Forbidden({
          userId: session.userId,
          workspaceId,
          action: "update a device cursor",
          reason: "Device cursor belongs to another user"
        })
      }
      if (stored !== null && version < stored) {
        return yield* new CursorRegressed({ deviceId, current: stored, requested: version })
      }
      yield* direct.values(upsertCursor, [workspaceId, deviceId, session.userId, version, yield* nowMillis])
    }))
  }, Effect.catchTag("SqlError", Effect.die), traced("SyncGateway.updateCursor"))

  return { updateCursor }
})
