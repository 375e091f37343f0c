/**
 * Reads the state of a workspace at a pinned watermark W, key by key in (table, pk) order, without
 * copying anything: a key whose current state is at or below W is read as it is, and a key changed
 * after W is walked back along `prior_version` to its winner at W (docs/sync.md, "Snapshots").
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import { SyncedTables, type SyncedTableName, userOwnedTable } from "../../schema/tables.js"
import type { SnapshotItem } from "../../schema/wire.js"

/** What one page reads: a chain's watermark, its tables and its owner. */
export interface PageScope {
  readonly workspaceId: string
  readonly watermark: number
  readonly tables: ReadonlyArray<SyncedTableName>
  readonly userId: string
}

/** The state at W of one key, or a note that the history it needs is gone. */
export type KeyAtW =
  | { readonly _tag: "Item"; readonly item: SnapshotItem }
  | { readonly _tag: "Absent" }
  | { readonly _tag: "Lost" }

export interface Candidate {
  pk: string
  data_json: string | null
  clock: number
  hlc: string
  op_id: string
  server_version: number
  deleted: number
  deleted_at: number
}

interface WalkRow {
  pk: string
  v: number
  op: "put" | "delete" | null
  payload_json: string | null
  clock: number | null
  hlc: string | null
  op_id: string | null
  created_at: number | null
  tomb_version: number | null
  tomb_clock: number | null
  tomb_hlc: string | null
  tomb_op_id: string | null
  tomb_deleted_at: number | null
}

const revision = (r: { clock: number; hlc: string; op_id: string }) => ({ clock: r.clock, hlc: r.hlc, opId: r.op_id })

/**
 * The next `limit` keys of `table` after `afterPk` (all keys when undefined), in pk order, with
 * their current state: rows (with the tombstone's `deleted_at` when it still matches a deleted
 * row, else the row's `updated_at`, which push sets to the same server time) and tombstones that
 * have no row. One statement, so a concurrent push that turns a row-less tombstone into a row
 * cannot make the key appear twice or not at all. Notifications: only the user's rows, and never
 * a row-less tombstone (whose owner the client must not learn).
 */
export const readCandidates = Effect.fnUntraced(function*(
  sql: SqlClient.SqlClient,
  scope: PageScope,
  table: SyncedTableName,
  afterPk: string | undefined,
  limit: number
) {
  const s = sql(SyncedTables[table].sqlTable)
  const rowAfter = afterPk === undefined ? sql`` : sql`AND r.pk > ${afterPk}`
  const rows = sql`
    SELECT * FROM (
      SELECT r.pk AS pk, r.data_json AS data_json, r.clock AS clock, r.hlc AS hlc, r.op_id AS op_id,
        r.server_version AS server_version, r.deleted AS deleted,
        CASE WHEN t.server_version = r.server_version THEN t.deleted_at ELSE r.updated_at END AS deleted_at
      FROM ${s} r
      LEFT JOIN tombstones t
        ON r.deleted = 1 AND t.workspace_id = r.workspace_id AND t.table_name = ${table} AND t.pk = r.pk
      WHERE r.workspace_id = ${scope.workspaceId} ${rowAfter}
        ${table === userOwnedTable ? sql`AND r.owner_user_id = ${scope.userId}` : sql``}
      ORDER BY r.pk LIMIT ${limit})`
  if (table === userOwnedTable) return yield* sql<Candidate>`${rows}`
  const tombAfter = afterPk === undefined ? sql`` : sql`AND t.pk > ${afterPk}`
  return yield* sql<Candidate>`
    ${rows}
    UNION ALL
    SELECT * FROM (
      SELECT t.pk AS pk, NULL AS data_json, t.clock AS clock, t.hlc AS hlc, t.op_id AS op_id,
        t.server_version AS server_version, 1 AS deleted, t.deleted_at AS deleted_at
      FROM tombstones t
      WHERE t.workspace_id = ${scope.workspaceId} AND t.table_name = ${table} ${tombAfter}
        AND NOT EXISTS (SELECT 1 FROM ${s} r WHERE r.workspace_id = t.workspace_id AND r.pk = t.pk)
      ORDER BY t.pk LIMIT ${limit})
    ORDER BY pk LIMIT ${limit}`
})

/**
 * The winner at W of keys whose current state is newer than W, in one recursive statement: from
 * the current winning entry, follow `prior_version` (the winner just before each entry) until it
 * is at or below W. That version is the winner at W (0: the key did not exist yet). Every step
 * is a point lookup in `change_log_version`. GC keeps every entry a live chain walks (docs/sync.md,
 * rules 2 and 4); a winner at W missing from a damaged or 0.1-era log is recovered from the
 * tombstone when it was the delete the tombstone still holds, else reported `Lost`.
 */
export const walkBack = Effect.fnUntraced(function*(
  sql: SqlClient.SqlClient,
  scope: PageScope,
  table: SyncedTableName,
  keys: ReadonlyArray<{ readonly pk: string; readonly version: number }>
) {
  const result = new Map<string, KeyAtW>()
  if (keys.length === 0) return result
  // Bound as values, not JSON: a pk must reach SQLite exactly as push bound it.
  const seeds = sql.csv(keys.map((k) => sql`(${k.pk}, ${k.version})`))
  const w = scope.watermark
  const rows = yield* sql<WalkRow>`
    WITH RECURSIVE
      seed(pk, v) AS (VALUES ${seeds}),
      walk(pk, v) AS (
        SELECT pk, v FROM seed
        UNION ALL
        SELECT walk.pk, c.prior_version FROM walk
        JOIN change_log c ON c.workspace_id = ${scope.workspaceId} AND c.server_version = walk.v
          AND c.table_name = ${table} AND c.pk = walk.pk AND c.prior_version < walk.v
        WHERE walk.v > ${w}
      )
    SELECT walk.pk AS pk, walk.v AS v, e.op AS op, e.payload_json AS payload_json, e.clock AS clock,
      e.hlc AS hlc, e.op_id AS op_id, e.created_at AS created_at,
      t.server_version AS tomb_version, t.clock AS tomb_clock, t.hlc AS tomb_hlc, t.op_id AS tomb_op_id,
      t.deleted_at AS tomb_deleted_at
    FROM walk
    LEFT JOIN change_log e ON walk.v > 0 AND e.workspace_id = ${scope.workspaceId} AND e.server_version = walk.v
      AND e.table_name = ${table} AND e.pk = walk.pk
    LEFT JOIN tombstones t ON walk.v > 0 AND e.op IS NULL AND t.workspace_id = ${scope.workspaceId}
      AND t.table_name = ${table} AND t.pk = walk.pk
    WHERE walk.v <= ${w}`
  for (const r of rows) result.set(r.pk, atW(table, r))
  // A walk that stopped above W met a missing entry: the chain cannot be rebuilt.
  for (const k of keys) if (!result.has(k.pk)) result.set(k.pk, { _tag: "Lost" })
  return result
})

const entryRevision = (r: WalkRow) => ({ clock: r.clock!, hlc: r.hlc!, opId: r.op_id! })

const atW = (tableName: SyncedTableName, r: WalkRow): KeyAtW => {
  if (r.v === 0) return { _tag: "Absent" }
  if (r.op === "put") {
    return {
      _tag: "Item",
      item: { kind: "row", tableName, pk: r.pk, payload: JSON.parse(r.payload_json!), revision: entryRevision(r) }
    }
  }
  if (r.op === "delete") {
    // Push writes the tombstone's deleted_at and the entry's created_at from one clock reading.
    return {
      _tag: "Item",
      item: { kind: "tombstone", tableName, pk: r.pk, revision: entryRevision(r), serverDeletedAt: r.created_at! }
    }
  }
  if (r.tomb_version === r.v) {
    return {
      _tag: "Item",
      item: {
        kind: "tombstone",
        tableName,
        pk: r.pk,
        revision: { clock: r.tomb_clock!, hlc: r.tomb_hlc!, opId: r.tomb_op_id! },
        serverDeletedAt: r.tomb_deleted_at!
      }
    }
  }
  return { _tag: "Lost" }
}

/** A key whose current state is at or below W: that state is its state at W. */
export const currentItem = (tableName: SyncedTableName, c: Candidate): SnapshotItem =>
  c.deleted === 1
    ? { kind: "tombstone", tableName, pk: c.pk, revision: revision(c), serverDeletedAt: c.deleted_at }
    : { kind: "row", tableName, pk: c.pk, payload: JSON.parse(c.data_json!), revision: revision(c) }

