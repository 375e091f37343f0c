/**
 * 0003: the change log knows which entries are still their key's current winner.
 *
 * Pull serves only those entries (docs/sync.md, "Serving rule"), so each entry carries
 * `superseded` (1 once it lost LWW or a later entry won its key), kept by push and read by pull
 * without a lookup. Compaction walks the superseded entries through a partial index.
 *
 * Databases written by 0.1 need three repairs, in this order:
 * 1. the old change-log GC purged current winners (rule 4) and raised the horizon: each key whose
 *    winning entry is gone gets it back, rebuilt from its row or tombstone, under the version the
 *    key records (still free: versions are never reused), so a pull from any cursor sees every key;
 *    with nothing lost any more, the horizon returns to 0;
 * 2. the flags, from the rows and tombstones;
 * 3. the old tombstone GC dropped tombstones whose row kept the delete: each deleted row gets its
 *    tombstone back, so tombstone GC, which walks tombstones, finds every delete.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import { SyncedTables, syncedTableNames } from "../schema/tables.js"

/** The device id of a winner entry rebuilt from a tombstone, which does not record it. */
export const REBUILT_DEVICE_ID = "or3-sqlite:rebuilt"

const perTable = (statement: (table: string, sqlTable: string) => string) =>
  syncedTableNames.map((name) => statement(name, SyncedTables[name].sqlTable))

/** The version of a key's current state: its row's, else its tombstone's. */
const winnerVersion = `coalesce(CASE c.table_name ${
  perTable((table, sqlTable) =>
    `WHEN '${table}' THEN (SELECT server_version FROM ${sqlTable} r WHERE r.workspace_id = c.workspace_id AND r.pk = c.pk)`
  ).join(" ")
} END, (SELECT server_version FROM tombstones t
  WHERE t.workspace_id = c.workspace_id AND t.table_name = c.table_name AND t.pk = c.pk))`

const restoreRowWinners = perTable((table, sqlTable) => `
  INSERT OR IGNORE INTO change_log (workspace_id, server_version, table_name, pk, op, payload_json, clock, hlc,
    device_id, op_id, owner_user_id, prior_version, created_at)
  SELECT r.workspace_id, r.server_version, '${table}', r.pk, CASE r.deleted WHEN 1 THEN 'delete' ELSE 'put' END,
    CASE r.deleted WHEN 1 THEN NULL ELSE r.data_json END, r.clock, r.hlc, r.device_id, r.op_id,
    r.owner_user_id, 0, r.updated_at
  FROM ${sqlTable} r
  WHERE NOT EXISTS (SELECT 1 FROM change_log c WHERE c.workspace_id = r.workspace_id AND c.server_version = r.server_version)`)

const restoreTombWinners = perTable((table, sqlTable) => `
  INSERT OR IGNORE INTO change_log (workspace_id, server_version, table_name, pk, op, payload_json, clock, hlc,
    device_id, op_id, owner_user_id, prior_version, created_at)
  SELECT t.workspace_id, t.server_version, '${table}', t.pk, 'delete', NULL, t.clock, t.hlc,
    '${REBUILT_DEVICE_ID}', t.op_id, t.owner_user_id, 0, t.deleted_at
  FROM tombstones t
  WHERE t.table_name = '${table}'
    AND NOT EXISTS (SELECT 1 FROM ${sqlTable} r WHERE r.workspace_id = t.workspace_id AND r.pk = t.pk)
    AND NOT EXISTS (SELECT 1 FROM change_log c WHERE c.workspace_id = t.workspace_id AND c.server_version = t.server_version)`)

const restoreTombstones = perTable((table, sqlTable) => `
  INSERT INTO tombstones (workspace_id, table_name, pk, clock, hlc, op_id, server_version, owner_user_id,
    deleted_at, created_at)
  SELECT r.workspace_id, '${table}', r.pk, r.clock, r.hlc, r.op_id, r.server_version, r.owner_user_id,
    r.updated_at, r.updated_at
  FROM ${sqlTable} r WHERE r.deleted = 1
  ON CONFLICT (workspace_id, table_name, pk) DO UPDATE SET
    clock = excluded.clock, hlc = excluded.hlc, op_id = excluded.op_id, server_version = excluded.server_version,
    owner_user_id = excluded.owner_user_id, deleted_at = excluded.deleted_at
  WHERE excluded.server_version > tombstones.server_version`)

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const statements = [
    `ALTER TABLE change_log ADD COLUMN superseded INTEGER NOT NULL DEFAULT 0 CHECK (superseded IN (0, 1))`,
    ...restoreRowWinners,
    ...restoreTombWinners,
    `UPDATE sync_heads SET horizon = 0`,
    `UPDATE change_log AS c SET superseded = 1 WHERE c.server_version IS NOT ${winnerVersion}`,
    ...restoreTombstones,
    // Compaction's candidates: superseded entries only, in version order.
    `CREATE INDEX change_log_superseded ON change_log (workspace_id, server_version) WHERE superseded = 1`
  ]
  for (const statement of statements) yield* sql.unsafe(statement)
})
