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

/**
 * A key as push reads it, in column order: its row (`rowPk` null when it has none), and its
 * tombstone when it has no row (a row always carries a revision at least as new as its tombstone).
 */
type KeyRecord = readonly [
  pk: string,
  rowPk: string | null,
  dataJson: string,
  clock: number,
  hlc: string,
  opId: string,
  deviceId: string,
  serverVersion: number,
  ownerUserId: string | null,
  deleted: number,
  createdAt: number,
  updatedAt: number,
  tombClock: number | null,
  tombHlc: string,
  tombOpId: string,
  tombVersion: number,
  tombOwnerUserId: string | null,
  tombDeletedAt: number,
  tombCreatedAt: number
]

/** One statement per synced table, built from its name and its SQL table name. */
const perTable = <A>(make: (name: SyncedTableName, sqlTable: string) => A) =>
  Object.fromEntries(syncedTableNames.map((name) => [name, make(name, SyncedTables[name].sqlTable)])) as Record<
    SyncedTableName,
    A
  >

/** Parameters: the pks as one JSON array, then the workspace twice. */
const selectKeys = perTable((name, table) => `
  SELECT j.value, r.pk, r.data_json, r.clock, r.hlc, r.op_id, r.device_id, r.server_version, r.owner_user_id,
    r.deleted, r.created_at, r.updated_at,
    t.clock, t.hlc, t.op_id, t.server_version, t.owner_user_id, t.deleted_at, t.created_at
  FROM json_each(?) j
  LEFT JOIN ${table} r ON r.workspace_id = ? AND r.pk = j.value
  LEFT JOIN tombstones t ON r.pk IS NULL AND t.workspace_id = ? AND t.table_name = '${name}' AND t.pk = j.value`)

/** Reads the stored state of `keys` (table → pks): one statement per table. */
export const readKeyStates = Effect.fnUntraced(function*(
  direct: DirectSql,
  workspaceId: string,
  keys: ReadonlyMap<SyncedTableName, ReadonlySet<string>>
) {
  const states = new Map<string, KeyState>()
  for (const [tableName, pks] of keys) {
    const records = yield* direct.values<KeyRecord>(selectKeys[tableName], [JSON.stringify([...pks]), workspaceId, workspaceId])
    for (const k of records) {
      const hasRow = k[1] !== null
      const hasTomb = !hasRow && k[12] !== null
      states.set(keyOf(tableName, k[0]), {
        tableName,
        pk: k[0],
        rowStored: hasRow,
        storedVersion: hasRow ? k[7] : hasTomb ? k[15] : undefined,
        row: hasRow
          ? {
            clock: k[3],
            hlc: k[4],
            opId: k[5],
            deviceId: k[6],
            serverVersion: k[7],
            deleted: k[9] === 1,
            ownerUserId: k[8],
            dataJson: k[2],
            createdAt: k[10],
            updatedAt: k[11]
          }
          : undefined,
        tomb: hasTomb
          ? {
            clock: k[12]!,
            hlc: k[13],
            opId: k[14],
            serverVersion: k[15],
            ownerUserId: k[16],
            deletedAt: k[17],
            createdAt: k[18]
          }
          : undefined,
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

const insertRows = perTable((_, table) =>
  multiRow(12, (values) => `INSERT OR FAIL INTO ${table} (${rowColumns}) VALUES ${values}`)
)

const updateRows = perTable((_, table) =>
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
