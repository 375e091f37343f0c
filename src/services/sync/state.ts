/**
 * The LWW state of the keys a push touches: read in a fixed number of set-based statements, changed
 * in memory in batch order, then written back (only each key's final state).
 */
import * as Effect from "effect/Effect"
import { type DirectSql, multiRow, writeRows } from "../../layers/DirectSql.js"
import { syncedTableNames, SyncedTables, type SyncedTableName } from "../../schema/tables.js"
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
  /** The version of the key's state as read (its winning entry's), before the batch changed it. */
  readonly storedVersion: number | undefined
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

/** A materialized row as read by push, in column order. */
type RowRecord = readonly [
  pk: string,
  dataJson: string,
  clock: number,
  hlc: string,
  opId: string,
  deviceId: string,
  serverVersion: number,
  ownerUserId: string | null,
  deleted: number,
  createdAt: number,
  updatedAt: number
]

/** A tombstone as read by push, in column order. */
type TombRecord = readonly [
  pk: string,
  clock: number,
  hlc: string,
  opId: string,
  serverVersion: number,
  ownerUserId: string | null,
  deletedAt: number,
  createdAt: number
]

/** One statement per synced table, built from its SQL table name. */
const perTable = <A>(make: (sqlTable: string) => A) =>
  Object.fromEntries(syncedTableNames.map((name) => [name, make(SyncedTables[name].sqlTable)])) as Record<
    SyncedTableName,
    A
  >

const selectRows = perTable((table) => `
  SELECT pk, data_json, clock, hlc, op_id, device_id, server_version, owner_user_id, deleted, created_at, updated_at
  FROM ${table} WHERE workspace_id = ? AND pk IN (SELECT value FROM json_each(?))`)

const selectTombs = `
  SELECT pk, clock, hlc, op_id, server_version, owner_user_id, deleted_at, created_at
  FROM tombstones WHERE workspace_id = ? AND table_name = ? AND pk IN (SELECT value FROM json_each(?))`

/**
 * Reads the stored state of `keys` (table → pks): one statement per table for rows, and one per
 * table for the tombstones of keys that have no row (a row always carries a revision at least as
 * new as its tombstone, so only row-less keys need theirs).
 */
export const readKeyStates = Effect.fnUntraced(function*(
  direct: DirectSql,
  workspaceId: string,
  keys: ReadonlyMap<SyncedTableName, ReadonlySet<string>>
) {
  const states = new Map<string, KeyState>()
  for (const [tableName, pkSet] of keys) {
    const pks = [...pkSet]
    const rows = yield* direct.values<RowRecord>(selectRows[tableName], [workspaceId, JSON.stringify(pks)])
    const found = new Map(rows.map((r) => [r[0], r]))
    const missing = pks.filter((pk) => !found.has(pk))
    const tombs = missing.length === 0
      ? []
      : yield* direct.values<TombRecord>(selectTombs, [workspaceId, tableName, JSON.stringify(missing)])
    const tombByPk = new Map(tombs.map((t) => [t[0], t]))
    for (const pk of pks) {
      const r = found.get(pk)
      const t = tombByPk.get(pk)
      states.set(keyOf(tableName, pk), {
        tableName,
        pk,
        rowStored: r !== undefined,
        storedVersion: r?.[6] ?? t?.[4],
        row: r && {
          clock: r[2],
          hlc: r[3],
          opId: r[4],
          deviceId: r[5],
          serverVersion: r[6],
          deleted: r[8] === 1,
          ownerUserId: r[7],
          dataJson: r[1],
          createdAt: r[9],
          updatedAt: r[10]
        },
        tomb: t && {
          clock: t[1],
          hlc: t[2],
          opId: t[3],
          serverVersion: t[4],
          ownerUserId: t[5],
          deletedAt: t[6],
          createdAt: t[7]
        },
        rowDirty: false,
        tombDirty: false
      })
    }
  }
  return states
})

/** The columns of a row write, in the order of the statements below. */
const rowValues = (workspaceId: string, key: KeyState, row: RowState) => [
  workspaceId,
  key.pk,
  row.dataJson,
  row.clock,
  row.hlc,
  row.opId,
  row.deviceId,
  row.serverVersion,
  row.ownerUserId,
  row.deleted ? 1 : 0,
  row.createdAt,
  row.updatedAt
]

const rowColumns =
  "workspace_id, pk, data_json, clock, hlc, op_id, device_id, server_version, owner_user_id, deleted, created_at, updated_at"

const insertRows = perTable((table) =>
  multiRow(12, (values) => `INSERT OR FAIL INTO ${table} (${rowColumns}) VALUES ${values}`)
)

const updateRows = perTable((table) =>
  multiRow(12, (values) => `
    WITH v(${rowColumns}) AS (VALUES ${values})
    UPDATE OR FAIL ${table} SET
      data_json = v.data_json, clock = v.clock, hlc = v.hlc, op_id = v.op_id, device_id = v.device_id,
      server_version = v.server_version, owner_user_id = v.owner_user_id, deleted = v.deleted,
      updated_at = v.updated_at
    FROM v WHERE ${table}.workspace_id = v.workspace_id AND ${table}.pk = v.pk`)
)

const upsertTombs = multiRow(10, (values) => `
  INSERT INTO tombstones
    (workspace_id, table_name, pk, clock, hlc, op_id, server_version, owner_user_id, deleted_at, created_at)
  VALUES ${values}
  ON CONFLICT (workspace_id, table_name, pk) DO UPDATE SET
    clock = excluded.clock, hlc = excluded.hlc, op_id = excluded.op_id,
    server_version = excluded.server_version, owner_user_id = excluded.owner_user_id,
    deleted_at = excluded.deleted_at`)

/**
 * Writes each changed key's final state: per table multi-row INSERTs of new rows and
 * `UPDATE ... FROM (VALUES ...)` of stored ones, then tombstone upserts for all tables.
 * Writes are `OR FAIL`: under the default ABORT a multi-row statement keeps a statement journal
 * (spilling to a temp file past 64 KiB) to undo itself; the enclosing transaction rolls back on
 * any error anyway.
 */
export const writeKeyStates = Effect.fnUntraced(function*(
  direct: DirectSql,
  workspaceId: string,
  states: Iterable<KeyState>
) {
  const inserts = new Map<SyncedTableName, Array<ReadonlyArray<unknown>>>()
  const updates = new Map<SyncedTableName, Array<ReadonlyArray<unknown>>>()
  const tombs: Array<ReadonlyArray<unknown>> = []
  for (const key of states) {
    if (key.rowDirty && key.row !== undefined) {
      const target = key.rowStored ? updates : inserts
      let list = target.get(key.tableName)
      if (list === undefined) target.set(key.tableName, (list = []))
      list.push(rowValues(workspaceId, key, key.row))
    }
    if (key.tombDirty && key.tomb !== undefined) {
      const t = key.tomb
      tombs.push([
        workspaceId,
        key.tableName,
        key.pk,
        t.clock,
        t.hlc,
        t.opId,
        t.serverVersion,
        t.ownerUserId,
        t.deletedAt,
        t.createdAt
      ])
    }
  }
  for (const [tableName, rows] of inserts) yield* writeRows(direct, insertRows[tableName], rows)
  for (const [tableName, rows] of updates) yield* writeRows(direct, updateRows[tableName], rows)
  yield* writeRows(direct, upsertTombs, tombs)
})
