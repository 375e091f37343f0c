/**
 * pull: the current winners after a cursor, in one statement with a fixed text (DirectSql), so it
 * stays prepared.
 *
 * Serving rule (docs/sync.md): an entry is served only while it is its key's current winner
 * (`superseded = 0`, kept by push). A device keeps LWW state and never needs a key's intermediate
 * revisions, and a page then holds at most one change per key, so a client that compares a whole
 * page against the rows it read before the page (as the OR3 client does) cannot apply a stale one.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import { traced } from "../../layers/Spans.js"
import * as DirectSql from "../../layers/DirectSql.js"
import { decodeInput } from "../../schema/decode.js"
import { InvalidInput } from "../../schema/errors.js"
import { isSyncedTable, userOwnedTable } from "../../schema/tables.js"
import { PullRequest, type PullResponse, type SessionUser, type SyncChange } from "../../schema/wire.js"

/**
 * Versions one pull may scan past the cursor. With a table filter (or other users'
 * notifications) most scanned entries may be skipped; the bound keeps one request's work finite,
 * and `nextCursor` still moves past everything scanned.
 */
export const PULL_SCAN_WINDOW = 10_000

const decodeRequest = decodeInput(PullRequest, "pull")

/**
 * One row of a pull, in column order (rows are read as value arrays: better-sqlite3 builds an
 * object per row otherwise, which made a 1000-row page several times slower): the workspace's head
 * and horizon, then one change, or NULLs when the page is empty.
 */
type PullRow = readonly [
  head: number,
  horizon: number,
  serverVersion: number | null,
  tableName: string,
  pk: string,
  op: "put" | "delete",
  payloadJson: string | null,
  clock: number,
  hlc: string,
  deviceId: string,
  opId: string
]

/**
 * A pull is one statement, in four fixed texts (with or without a table filter, with or without a
 * session): the head and the page after the cursor together. Outside a transaction each statement
 * opens a read transaction of its own (locks and a check of the WAL index): one statement sees one
 * consistent state and pays that once. The page is bounded by the head it reads (entries above may
 * be committing right now), by the scan window and by the limit (+1, to tell `hasMore`).
 * Parameters: cursor, window (cursor + PULL_SCAN_WINDOW), [tables as JSON], [user], workspace,
 * limit + 1.
 */
const selectPull = (filtered: boolean, signedIn: boolean) => `
  SELECT h.head, h.horizon, c.server_version, c.table_name, c.pk, c.op, c.payload_json, c.clock, c.hlc,
    c.device_id, c.op_id
  FROM sync_heads h
  LEFT JOIN change_log c ON c.workspace_id = h.workspace_id AND c.server_version > ?
    AND c.server_version <= min(h.head, ?) AND c.superseded = 0
    ${filtered ? "AND c.table_name IN (SELECT value FROM json_each(?))" : ""}
    ${signedIn ? `AND (c.table_name <> '${userOwnedTable}' OR c.owner_user_id = ?)` : `AND c.table_name <> '${userOwnedTable}'`}
  WHERE h.workspace_id = ?
  ORDER BY c.server_version LIMIT ?`

const pullTexts = [selectPull(false, false), selectPull(false, true), selectPull(true, false), selectPull(true, true)]

export const makePull = Effect.gen(function*() {
  const direct = DirectSql.make(yield* SqlClient.SqlClient)

  /**
   * Cursor rule: `nextCursor` is the last version scanned, filtered and superseded entries
   * included, so a filtered pull never stalls; it never goes below the request cursor. The scan is
   * bounded by the head read first: entries above it may be committing right now and are left for
   * the next pull. An entry skipped as superseded lost its key to a later entry, which this pull or
   * a later one serves (a key's winner only ever moves to a higher version), so no state is skipped.
   *
   * Retention: only tombstone GC loses what a device may need (a delete it never saw), and the
   * horizon is the highest such delete. A device whose cursor is below it, or ahead of the head
   * (the database was restored from a backup), must rebuild from a snapshot; a device at cursor 0
   * has nothing to rebuild. Below the horizon the changes are still served: a client that ignores
   * `requiresSnapshot` (older OR3 clients do) then still converges on everything but those deletes.
   */
  const pull = Effect.fnUntraced(function*(input: unknown, session?: SessionUser) {
    const request = yield* decodeRequest(input)
    const unknown = request.tables?.find((table) => !isSyncedTable(table))
    if (unknown !== undefined) return yield* new InvalidInput({ field: "pull.tables", reason: `unknown table ${unknown}` })
    const { workspaceId } = request.scope
    const { cursor, limit } = request
    const filtered = request.tables !== undefined && request.tables.length > 0
    const params: Array<unknown> = [cursor, cursor + PULL_SCAN_WINDOW]
    if (filtered) params.push(JSON.stringify(request.tables))
    if (session !== undefined) params.push(session.userId)
    params.push(workspaceId, limit + 1)
    const rows = yield* direct.values<PullRow>(pullTexts[(filtered ? 2 : 0) + (session === undefined ? 0 : 1)], params)
    const [head, horizon] = rows.length === 0 ? [0, 0] : rows[0]
    const oldestRetainedVersion = horizon > 0 ? horizon + 1 : 0
    // At the head (most polls) there is nothing to serve; past it (a restored database), nothing either.
    if (cursor >= head) {
      return { changes: [], nextCursor: cursor, hasMore: false, oldestRetainedVersion, requiresSnapshot: cursor > head } satisfies PullResponse
    }
    const retention = { oldestRetainedVersion, requiresSnapshot: cursor > 0 && cursor < horizon }
    const windowEnd = Math.min(head, cursor + PULL_SCAN_WINDOW)
    const found = rows[0][2] === null ? 0 : rows.length
    const full = found > limit
    const count = full ? limit : found
    const changes: Array<SyncChange> = new Array(count)
    for (let i = 0; i < count; i++) {
      const r = rows[i]
      const stamp = { deviceId: r[9], opId: r[10], hlc: r[8], clock: r[7] }
      // Whole literals: adding `payload` afterwards gave each change a second hidden class.
      changes[i] = r[6] === null
        ? { serverVersion: r[2]!, tableName: r[3], pk: r[4], op: r[5], stamp }
        : { serverVersion: r[2]!, tableName: r[3], pk: r[4], op: r[5], payload: JSON.parse(r[6]), stamp }
    }
    return {
      changes,
      nextCursor: full ? changes[count - 1].serverVersion : windowEnd,
      hasMore: full || windowEnd < head,
      ...retention
    } satisfies PullResponse
  }, Effect.catchTag("SqlError", Effect.die), traced("SyncGateway.pull"))

  return { pull }
})
