/**
 * push: one `BEGIN IMMEDIATE` transaction per batch (shared with the pushes queued behind it:
 * `groupCommit.ts`) and a handful of statements whatever its size:
 * the replay lookup, the head, the state of the new ops' keys, then multi-row writes in a few fixed
 * chunk sizes. The statements run on the transaction's connection (`DirectSql`).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import type * as Types from "effect/Types"
import * as DirectSql from "../../layers/DirectSql.js"
import { traced } from "../../layers/Spans.js"
import { decodeInput } from "../../schema/decode.js"
import { InvalidInput } from "../../schema/errors.js"
import { Limits } from "../../schema/limits.js"
import { SyncedTables, type SyncedTableName } from "../../schema/tables.js"
import { type PushResult, type PushResultItem, type SessionUser, SyncScope } from "../../schema/wire.js"
import { nowMillis } from "../Ids.js"
import * as GroupCommit from "./groupCommit.js"
import { failure, prepareOps, sameOp, samePayload, type ValidOp } from "./ops.js"
import { outranks } from "./revision.js"
import { current, type KeyState, keyOf, readKeyStates, type RowState, winnerOf, writeKeyStates } from "./state.js"

/** A change-log entry of one of the batch's opIds, as `selectLogged` reads it. */
type LoggedRow = readonly [
  opId: string,
  serverVersion: number,
  tableName: SyncedTableName,
  pk: string,
  op: ValidOp["operation"],
  payloadJson: string | null,
  clock: number,
  hlc: string,
  deviceId: string,
  /** The opId of the key's current revision (its row's, else its tombstone's), if any. */
  winnerOpId: string | null
]

const decodeScope = decodeInput(SyncScope, "scope")

/**
 * The entries of the batch's opIds that are already logged, each with its key's current winner,
 * so a replay needs nothing else (a batch of retries reads no row).
 */
const selectLogged = `
  SELECT c.op_id, c.server_version, c.table_name, c.pk, c.op, c.payload_json, c.clock, c.hlc, c.device_id,
    coalesce(
      CASE c.table_name ${
  Object.entries(SyncedTables).map(([name, { sqlTable }]) =>
    `WHEN '${name}' THEN (SELECT op_id FROM ${sqlTable} r WHERE r.workspace_id = c.workspace_id AND r.pk = c.pk)`
  ).join(" ")
} END,
      (SELECT op_id FROM tombstones t WHERE t.workspace_id = c.workspace_id AND t.table_name = c.table_name AND t.pk = c.pk))
  FROM change_log c WHERE c.workspace_id = ? AND c.op_id IN (SELECT value FROM json_each(?))`

const selectHead = "SELECT head FROM sync_heads WHERE workspace_id = ?"

const upsertHead = `
  INSERT INTO sync_heads (workspace_id, head) VALUES (?, ?)
  ON CONFLICT (workspace_id) DO UPDATE SET head = excluded.head`

const insertEntries = DirectSql.multiRow(14, (values) => `
  INSERT OR FAIL INTO change_log (workspace_id, server_version, table_name, pk, op, payload_json, clock, hlc,
    device_id, op_id, owner_user_id, prior_version, created_at, superseded)
  VALUES ${values}`)

/** Where `superseded` is in an entry's values: the last of `insertEntries`' columns. */
const SUPERSEDED = insertEntries.columns - 1

/** Marks the entries of the given versions superseded: their keys have a new winner. */
const supersede = `
  UPDATE change_log SET superseded = 1
  WHERE workspace_id = ? AND server_version IN (SELECT value FROM json_each(?))`

export const makePush = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const direct = DirectSql.make(sql)
  const commits = GroupCommit.make(sql)

  const readHead = (workspaceId: string) =>
    Effect.map(direct.values<readonly [number]>(selectHead, [workspaceId]), (rows) => rows[0]?.[0] ?? 0)

  /**
   * Applies the valid units of a batch. This is where `server_version` is allocated: the
   * transaction holds the write lock from its first statement, so the head read here is the head,
   * the block head+1..head+n belongs to this batch alone, and every version gets exactly one
   * change-log row (UNIQUE (workspace_id, server_version) would abort the batch otherwise).
   *
   * It is also where `superseded` is kept, the flag pull serves by: after the batch, exactly one
   * entry per key, its final winner's, is unflagged. A new entry is written flagged unless it is
   * that winner, and the winner the key had before the batch is flagged when it lost its place.
   */
  const applyBatch = Effect.fnUntraced(function*(
    workspaceId: string,
    ops: ReadonlyArray<ValidOp>,
    session: SessionUser | undefined
  ) {
    const results = new Map<string, PushResultItem>()
    const logged = yield* direct.values<LoggedRow>(selectLogged, [
      workspaceId,
      JSON.stringify(ops.map((op) => op.opId))
    ])
    const loggedById = new Map(logged.map((row) => [row[0], row]))

    // Only the keys of new ops need their whole state; a replay's key answers from its entry.
    const keys = new Map<SyncedTableName, Set<string>>()
    for (const op of ops) {
      if (loggedById.has(op.opId)) continue
      let pks = keys.get(op.tableName)
      if (pks === undefined) keys.set(op.tableName, (pks = new Set()))
      pks.add(op.pk)
    }
    const states = yield* readKeyStates(direct, workspaceId, keys)
    const base = yield* readHead(workspaceId)
    const now = yield* nowMillis

    let head = base
    const entries: Array<Array<unknown>> = []
    const entryStates: Array<KeyState> = []
    for (const op of ops) {
      const key = keyOf(op.tableName, op.pk)
      const stored = loggedById.get(op.opId)
      if (stored !== undefined) {
        // A key that a new op of this batch also touches answers with its state so far.
        const touched = states.get(key)
        const winner = touched === undefined ? stored[9] : current(touched)?.opId
        results.set(op.opId, replayResult(op, stored, winner === op.opId))
        continue
      }
      const state = states.get(key)! // read above: every new op's key is
      if (current(state)?.opId === op.opId) {
        // The op won and its entry is missing: the key still carries it.
        results.set(op.opId, purgedReplayResult(op, state))
        continue
      }
      const denied = ownershipError(op, state, session)
      if (denied !== undefined) {
        results.set(op.opId, failure(op.opId, "UNAUTHORIZED", denied))
        continue
      }
      head++
      const prior = current(state)?.serverVersion ?? 0
      results.set(op.opId, applyOp(op, state, head, now))
      entries.push([
        workspaceId,
        head,
        op.tableName,
        op.pk,
        op.operation,
        op.payloadJson,
        op.clock,
        op.hlc,
        op.deviceId,
        op.opId,
        op.ownerUserId,
        prior,
        now,
        0
      ])
      entryStates.push(state)
    }
    if (entries.length > 0) {
      for (let i = 0; i < entries.length; i++) {
        if (current(entryStates[i])!.serverVersion !== entries[i][1]) entries[i][SUPERSEDED] = 1
      }
      const replaced: Array<number> = []
      for (const state of states.values()) {
        if (state.storedVersion !== undefined && current(state)!.serverVersion !== state.storedVersion) {
          replaced.push(state.storedVersion)
        }
      }
      yield* DirectSql.writeRows(direct, insertEntries, entries)
      if (replaced.length > 0) yield* direct.values(supersede, [workspaceId, JSON.stringify(replaced)])
      yield* writeKeyStates(direct, workspaceId, states.values())
      yield* direct.values(upsertHead, [workspaceId, head])
    }
    return { results, head }
  })

  const push = Effect.fnUntraced(function*(
    input: { readonly scope: unknown; readonly ops: unknown },
    session?: SessionUser
  ) {
    const scope = yield* decodeScope(input.scope)
    if (!Array.isArray(input.ops)) {
      return yield* new InvalidInput({ field: "ops", reason: "must be an array" })
    }
    if (input.ops.length > Limits.maxPushOps) {
      return yield* new InvalidInput({
        field: "ops",
        reason: `at most ${Limits.maxPushOps} ops per push, got ${input.ops.length}`
      })
    }
    const units = prepareOps(input.ops, scope.workspaceId, session)
    const valid = units.flatMap((unit) => (unit._tag === "Valid" ? [unit.op] : []))
    const applied = valid.length === 0
      ? { results: new Map<string, PushResultItem>(), head: yield* readHead(scope.workspaceId) }
      : yield* commits.run(applyBatch(scope.workspaceId, valid, session))
    const results = units.map((unit) => unit._tag === "Valid" ? applied.results.get(unit.op.opId)! : unit.result)
    return { results, serverVersion: applied.head } satisfies PushResult
  }, Effect.catchTag("SqlError", Effect.die), traced("SyncGateway.push"))

  return { push }
})

/**
 * Notifications belong to one user: an op may not touch a notification someone else owns, and a
 * delete needs one that exists (so a delete cannot probe for other users' ids either).
 */
const ownershipError = (op: ValidOp, state: KeyState, session: SessionUser | undefined): string | undefined => {
  if (op.ownerUserId === null) return undefined
  const owner = state.row?.ownerUserId ?? state.tomb?.ownerUserId
  const foreign = owner !== undefined && owner !== null && owner !== session?.userId
  // One message for both cases, so a delete cannot tell "missing" from "someone else's".
  return foreign || (op.operation === "delete" && state.row === undefined)
    ? "Forbidden: no such notification of this user"
    : undefined
}

/** The row `op` leaves, with its revision and `content`, in the one property order rows have. */
const writtenRow = (
  op: ValidOp,
  serverVersion: number,
  now: number,
  content: Pick<RowState, "deleted" | "ownerUserId" | "dataJson" | "createdAt">
): RowState => ({
  clock: op.clock,
  hlc: op.hlc,
  opId: op.opId,
  deviceId: op.deviceId,
  serverVersion,
  deleted: content.deleted,
  ownerUserId: content.ownerUserId,
  dataJson: content.dataJson,
  createdAt: content.createdAt,
  updatedAt: now
})

/**
 * Applies one new op to its key's state by LWW and returns its result. States are built with one
 * property order (the one `readKeyStates` uses), so every row and tombstone shares a shape.
 */
const applyOp = (op: ValidOp, state: KeyState, serverVersion: number, now: number): PushResultItem => {
  const { opId, tableName, operation } = op
  const wasExisting = state.row !== undefined && !state.row.deleted
  if (!outranks(op, current(state))) {
    const winner = winnerOf(state)
    const result: Types.Mutable<PushResultItem> = {
      opId,
      success: true,
      serverVersion,
      tableName,
      operation,
      applied: false,
      wasExisting,
      winner
    }
    if (winner?.kind === "put") result.payload = winner.payload
    return result
  }
  const row = state.row
  if (operation === "put") {
    state.row = writtenRow(op, serverVersion, now, {
      deleted: false,
      ownerUserId: op.ownerUserId,
      dataJson: op.payloadJson!,
      createdAt: row?.createdAt ?? now
    })
    state.rowDirty = true
  } else {
    if (row !== undefined) {
      state.row = writtenRow(op, serverVersion, now, { ...row, deleted: true })
      state.rowDirty = true
    }
    state.tomb = {
      clock: op.clock,
      hlc: op.hlc,
      opId,
      serverVersion,
      ownerUserId: op.ownerUserId,
      deletedAt: now,
      createdAt: state.tomb?.createdAt ?? now
    }
    state.tombDirty = true
  }
  return { opId, success: true, serverVersion, tableName, operation, applied: true, wasExisting }
}

/**
 * An opId that is its key's current winner but missing from the log (GC never removes a winner's
 * entry, but a log damaged by hand can lack it): still a replay, answered with the version the key
 * records, when the key holds the same content, so a retry is never applied twice.
 */
const purgedReplayResult = (op: ValidOp, state: KeyState): PushResultItem => {
  const { row } = state
  const winner = current(state)!
  const same = winner.clock === op.clock && winner.hlc === op.hlc && (
    op.operation === "delete"
      ? row === undefined || (row.deleted && row.deviceId === op.deviceId)
      : row !== undefined && !row.deleted && row.deviceId === op.deviceId && op.payloadJson !== null &&
        samePayload(row.dataJson, op.payloadJson)
  )
  return same
    ? {
      opId: op.opId,
      success: true,
      serverVersion: winner.serverVersion,
      tableName: op.tableName,
      operation: op.operation,
      replayed: true,
      applied: true
    }
    : failure(op.opId, "CONFLICT", `Conflicting operation reuses processed op_id ${op.opId}`)
}

/** `op` as its change-log entry recorded it (the stored payload is already normalized). */
const loggedAs = (op: ValidOp, row: LoggedRow): ValidOp => ({
  ...op,
  tableName: row[2],
  pk: row[3],
  operation: row[4],
  payloadJson: row[5],
  clock: row[6],
  hlc: row[7],
  deviceId: row[8]
})

/** An opId already in the log: the original version when the content matches, else CONFLICT. */
const replayResult = (op: ValidOp, stored: LoggedRow, applied: boolean): PushResultItem =>
  sameOp(op, loggedAs(op, stored))
    ? {
      opId: op.opId,
      success: true,
      serverVersion: stored[1],
      tableName: op.tableName,
      operation: op.operation,
      replayed: true,
      applied
    }
    : failure(op.opId, "CONFLICT", `Conflicting operation reuses processed op_id ${op.opId}`)
