/**
 * The LWW state of the keys a push touches: read in a fixed number of set-based statements, changed
 * in memory in batch order, then written back (only each key's final state).
 */
import type { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { SyncedTables, type SyncedTableName } from "../../schema/tables.js"
import type { PushWinner } from "../../schema/wire.js"
import type { Revision } from "./revision.js"

export interface RowState extends Revision {
  readonly deviceId: string
  readonly serverVersion: number
  readonly deleted: boolean
  readonly ownerUserId: string | null
  readonly dataJson: string
  readonly createdAt: number
  readonly updatedAt: number
}

export interface TombState extends Revision {
  readonly serverVersion: number
  readonly ownerUserId: string | null
  readonly deletedAt: number
  readonly createdAt: number
}

export interface KeyState {
  readonly tableName: SyncedTableName
  readonly pk: string
  /** Whether the row is in the database (decides insert or update on write-back). */
  readonly rowStored: boolean
  row: RowState | undefined
  tomb: TombState | undefined
  rowDirty: boolean
  tombDirty: boolean
}

/** The revision that decides LWW for a key: its row's, or its tombstone's when the row is gone. */
export const current = (key: KeyState): RowState | TombState | undefined => key.row ?? key.tomb

export const winnerOf = (key: KeyState): PushWinner | undefined => {
  const { row, tomb } = key
  if (row !== undefined) {
    const revision = { clock: row.clock, hlc: row.hlc, opId: row.opId }
    return row.deleted
      ? { kind: "delete", revision, serverDeletedAt: row.updatedAt }
      : { kind: "put", payload: JSON.parse(row.dataJson), revision }
  }
  return tomb && {
    kind: "delete",
    revision: { clock: tomb.clock, hlc: tomb.hlc, opId: tomb.opId },
    serverDeletedAt: tomb.deletedAt
  }
}

export const keyOf = (tableName: string, pk: string) => `${tableName}\u0000${pk}`

interface RowRecord {
  pk: string
  data_json: string
  clock: number
  hlc: string
  op_id: string
  device_id: string
  server_version: number
  owner_user_id: string | null
  deleted: number
  created_at: number
  updated_at: number
}

interface TombRecord {
  pk: string
  clock: number
  hlc: string
  op_id: string
  server_version: number
  owner_user_id: string | null
  deleted_at: number
  created_at: number
}

/**
 * Reads the stored state of `keys` (table → pks): one statement per table for rows, and one per
 * table for the tombstones of keys that have no row (a row always carries a revision at least as
 * new as its tombstone, so only row-less keys need theirs).
 */
export const readKeyStates = Effect.fnUntraced(function*(
  sql: SqlClient.SqlClient,
  workspaceId: string,
  keys: ReadonlyMap<SyncedTableName, ReadonlySet<string>>
) {
  const states = new Map<string, KeyState>()
  for (const [tableName, pkSet] of keys) {
    const pks = [...pkSet]
    const rows = yield* sql<RowRecord>`
      SELECT pk, data_json, clock, hlc, op_id, device_id, server_version, owner_user_id, deleted, created_at, updated_at
      FROM ${sql(SyncedTables[tableName].sqlTable)}
      WHERE workspace_id = ${workspaceId} AND pk IN ${sql.in(pks)}`
    const found = new Map(rows.map((r) => [r.pk, r]))
    const missing = pks.filter((pk) => !found.has(pk))
    const tombs = missing.length === 0 ? [] : yield* sql<TombRecord>`
      SELECT pk, clock, hlc, op_id, server_version, owner_user_id, deleted_at, created_at
      FROM tombstones
      WHERE workspace_id = ${workspaceId} AND table_name = ${tableName} AND pk IN ${sql.in(missing)}`
    const tombByPk = new Map(tombs.map((t) => [t.pk, t]))
    for (const pk of pks) {
      const r = found.get(pk)
      const t = tombByPk.get(pk)
      states.set(keyOf(tableName, pk), {
        tableName,
        pk,
        rowStored: r !== undefined,
        row: r && {
          clock: r.clock,
          hlc: r.hlc,
          opId: r.op_id,
          deviceId: r.device_id,
          serverVersion: r.server_version,
          deleted: r.deleted === 1,
          ownerUserId: r.owner_user_id,
          dataJson: r.data_json,
          createdAt: r.created_at,
          updatedAt: r.updated_at
        },
        tomb: t && {
          clock: t.clock,
          hlc: t.hlc,
          opId: t.op_id,
          serverVersion: t.server_version,
          ownerUserId: t.owner_user_id,
          deletedAt: t.deleted_at,
          createdAt: t.created_at
        },
        rowDirty: false,
        tombDirty: false
      })
    }
  }
  return states
})

const rowColumns = (workspaceId: string, key: KeyState, row: RowState) => ({
  workspace_id: workspaceId,
  pk: key.pk,
  data_json: row.dataJson,
  clock: row.clock,
  hlc: row.hlc,
  op_id: row.opId,
  device_id: row.deviceId,
  server_version: row.serverVersion,
  owner_user_id: row.ownerUserId,
  deleted: row.deleted ? 1 : 0,
  created_at: row.createdAt,
  updated_at: row.updatedAt
})

/**
 * Writes each changed key's final state: per table one multi-row INSERT of new rows and one
 * `UPDATE ... FROM (VALUES ...)` of stored ones, then one tombstone upsert for all tables.
 * Writes are `OR FAIL`: under the default ABORT a multi-row statement keeps a statement journal
 * (spilling to a temp file past 64 KiB) to undo itself; the enclosing transaction rolls back on
 * any error anyway.
 */
export const writeKeyStates = Effect.fnUntraced(function*(
  sql: SqlClient.SqlClient,
  workspaceId: string,
  states: Iterable<KeyState>
) {
  const inserts = new Map<SyncedTableName, Array<ReturnType<typeof rowColumns>>>()
  const updates = new Map<SyncedTableName, Array<ReturnType<typeof rowColumns>>>()
  const tombs: Array<Record<string, unknown>> = []
  for (const key of states) {
    if (key.rowDirty && key.row !== undefined) {
      const target = key.rowStored ? updates : inserts
      let list = target.get(key.tableName)
      if (list === undefined) target.set(key.tableName, (list = []))
      list.push(rowColumns(workspaceId, key, key.row))
    }
    if (key.tombDirty && key.tomb !== undefined) {
      const t = key.tomb
      tombs.push({
        workspace_id: workspaceId,
        table_name: key.tableName,
        pk: key.pk,
        clock: t.clock,
        hlc: t.hlc,
        op_id: t.opId,
        server_version: t.serverVersion,
        owner_user_id: t.ownerUserId,
        deleted_at: t.deletedAt,
        created_at: t.createdAt
      })
    }
  }
  for (const [tableName, rows] of inserts) {
    yield* sql`INSERT OR FAIL INTO ${sql(SyncedTables[tableName].sqlTable)} ${sql.insert(rows)}`
  }
  for (const [tableName, rows] of updates) {
    const table = sql(SyncedTables[tableName].sqlTable)
    const values = sql.csv(rows.map((r) =>
      sql`(${r.pk}, ${r.data_json}, ${r.clock}, ${r.hlc}, ${r.op_id}, ${r.device_id}, ${r.server_version}, ${r.owner_user_id}, ${r.deleted}, ${r.updated_at})`
    ))
    yield* sql`
      WITH v(pk, data_json, clock, hlc, op_id, device_id, server_version, owner_user_id, deleted, updated_at)
        AS (VALUES ${values})
      UPDATE OR FAIL ${table} SET
        data_json = v.data_json, clock = v.clock, hlc = v.hlc, op_id = v.op_id, device_id = v.device_id,
        server_version = v.server_version, owner_user_id = v.owner_user_id, deleted = v.deleted,
        updated_at = v.updated_at
      FROM v WHERE ${table}.workspace_id = ${workspaceId} AND ${table}.pk = v.pk`
  }
  if (tombs.length > 0) {
    yield* sql`
      INSERT INTO tombstones ${sql.insert(tombs)}
      ON CONFLICT (workspace_id, table_name, pk) DO UPDATE SET
        clock = excluded.clock, hlc = excluded.hlc, op_id = excluded.op_id,
        server_version = excluded.server_version, owner_user_id = excluded.owner_user_id,
        deleted_at = excluded.deleted_at`
  }
})
