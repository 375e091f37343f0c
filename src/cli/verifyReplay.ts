/**
 * `verify`'s replay check: each materialized row and tombstone against the change log, replayed by
 * the LWW rule (`compareRevision`: clock, then hlc, then opId).
 *
 * The log always holds every key's winning entry (docs/sync.md, "GC rules"): compaction removes
 * superseded entries only, and tombstone GC forgets a delete together with its row, tombstone and
 * entry. So for every key with a state, the replay winner (the greatest remaining entry) must be
 * exactly the stored state: same version, revision, device, owner, delete flag and, for a put,
 * payload; it must be the key's only entry with `superseded = 0` (what pull serves), and no
 * remaining entry may outrank it. A key in the log with no row and no tombstone was forgotten: its
 * remaining entries must all be superseded.
 *
 * Consistency while the server writes: no long transaction is held. The head H is read first and
 * only entries up to H are replayed; a row or tombstone whose `server_version` is above H changed
 * during the run and is skipped (counted). A key at or below H was decided by entries up to H.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import { createHash } from "node:crypto"
import { SyncedTables, type SyncedTableName, syncedTableNames } from "../schema/tables.js"
import { compareRevision, type Revision } from "../services/sync/revision.js"
import { keyOf } from "../services/sync/state.js"
import type { Progress } from "./CliOutput.js"

export interface Finding {
  readonly check: string
  readonly workspaceId?: string
  readonly table?: string
  readonly pk?: string
  readonly detail: string
}

export interface WorkspaceVerification {
  readonly workspaceId: string
  readonly head: number
  readonly horizon: number
  readonly logEntries: number
  /** Keys compared against their replay winner. */
  readonly keysChecked: number
  /** Keys that changed while verify ran (state above the head read at its start). */
  readonly keysChangedDuring: number
}

interface Entry extends Revision {
  readonly version: number
  readonly op: string
  readonly payloadHash: string | null
  readonly deviceId: string
  readonly owner: string | null
}

/** What the replay keeps of one key: its greatest entry, and its entries pull would serve. */
interface KeyLog {
  winner: Entry
  readonly served: Array<number>
}

const PAGE = 2000
const hash = (text: string | null) => (text === null ? null : createHash("sha256").update(text).digest("base64"))

interface StateRow {
  pk: string
  clock: number
  hlc: string
  op_id: string
  server_version: number
  owner_user_id: string | null
}

export const verifyWorkspace = (workspaceId: string, progress: Progress) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const findings: Array<Finding> = []
    const find = (check: string, detail: string, table?: string, pk?: string) =>
      findings.push({ check, workspaceId, ...(table === undefined ? {} : { table }), ...(pk === undefined ? {} : { pk }), detail })
    const [headRow] = yield* sql<{ head: number }>`SELECT head FROM sync_heads WHERE workspace_id = ${workspaceId}`
    const head = headRow?.head ?? 0
    const [{ total }] = yield* sql<{ total: number }>`
      SELECT count(*) AS total FROM change_log WHERE workspace_id = ${workspaceId} AND server_version <= ${head}`

    // 1. Replay: the greatest entry of each key (memory: one small record per key).
    const logs = new Map<string, KeyLog>()
    let after = 0
    let scanned = 0
    for (;;) {
      const page = yield* sql<{
        server_version: number; table_name: string; pk: string; op: string; payload_json: string | null
        clock: number; hlc: string; op_id: string; device_id: string; owner_user_id: string | null; superseded: number
      }>`
        SELECT server_version, table_name, pk, op, payload_json, clock, hlc, op_id, device_id, owner_user_id, superseded
        FROM change_log WHERE workspace_id = ${workspaceId} AND server_version > ${after} AND server_version <= ${head}
        ORDER BY server_version LIMIT ${PAGE}`
      for (const e of page) {
        const entry: Entry = {
          version: e.server_version, clock: e.clock, hlc: e.hlc, opId: e.op_id, op: e.op,
          payloadHash: hash(e.payload_json), deviceId: e.device_id, owner: e.owner_user_id
        }
        const key = keyOf(e.table_name, e.pk)
        let log = logs.get(key)
        if (log === undefined) logs.set(key, (log = { winner: entry, served: [] }))
        else if (compareRevision(entry, log.winner) > 0) log.winner = entry
        if (e.superseded === 0) log.served.push(e.server_version)
      }
      scanned += page.length
      yield* progress.update(`${workspaceId}: replaying the change log`, scanned, total)
      if (page.length < PAGE) break
      after = page[page.length - 1].server_version
    }

    const [{ horizon }] = yield* sql<{ horizon: number }>`
      SELECT coalesce(max(horizon), 0) AS horizon FROM sync_heads WHERE workspace_id = ${workspaceId}`
    const counts = { checked: 0, changed: 0 }

    /** Compares one key's stored state with its replay winner; `fields` are the state's. */
    const compare = (
      table: string, pk: string, state: StateRow,
      fields: { deleted: boolean; dataHash?: string | null; deviceId?: string }
    ) => {
      const key = keyOf(table, pk)
      const log = logs.get(key)
      logs.delete(key)
      if (state.server_version > head) return void counts.changed++
      const winner = log?.winner
      const stored: Revision = { clock: state.clock, hlc: state.hlc, opId: state.op_id }
      if (winner !== undefined && compareRevision(winner, stored) > 0) {
        find("replay", `change-log entry v${winner.version} (${winner.opId}) outranks the stored state v${state.server_version} (${state.op_id})`, table, pk)
        return
      }
      if (winner === undefined || winner.version !== state.server_version) {
        find("replay", winner === undefined
          ? `no change-log entry for this key, though GC never removes its winner v${state.server_version}`
          : `stored state v${state.server_version} (${state.op_id}) but the log's winner is v${winner.version} (${winner.opId})`, table, pk)
        return
      }
      if (log!.served.length !== 1 || log!.served[0] !== winner.version) {
        find("superseded", `pull would serve v${log!.served.join(", v") || " nothing"} for this key; its winner is v${winner.version}`, table, pk)
      }
      counts.checked++
      const diffs: Array<string> = []
      if (compareRevision(winner, stored) !== 0) diffs.push("revision")
      if (winner.owner !== state.owner_user_id) diffs.push("owner_user_id")
      if ((winner.op === "delete") !== fields.deleted) diffs.push(`deleted (log: ${winner.op})`)
      if (fields.deviceId !== undefined && winner.deviceId !== fields.deviceId) diffs.push("device_id")
      if (winner.op === "put" && fields.dataHash !== undefined && winner.payloadHash !== fields.dataHash) diffs.push("payload")
      if (diffs.length > 0) find("replay", `stored state v${state.server_version} differs from the log's winner in ${diffs.join(", ")}`, table, pk)
    }

    // 2. Rows, table by table, in primary-key order.
    for (const table of syncedTableNames) {
      let last = ""
      for (;;) {
        const rows = yield* sql<StateRow & { data_json: string; device_id: string; deleted: number }>`
          SELECT pk, data_json, clock, hlc, op_id, device_id, server_version, owner_user_id, deleted
          FROM ${sql(SyncedTables[table].sqlTable)} WHERE workspace_id = ${workspaceId} AND pk > ${last}
          ORDER BY pk LIMIT ${PAGE}`
        for (const row of rows) {
          compare(table, row.pk, row, { deleted: row.deleted === 1, dataHash: hash(row.data_json), deviceId: row.device_id })
        }
        yield* progress.update(`${workspaceId}: rows of ${table}`)
        if (rows.length < PAGE) break
        last = rows[rows.length - 1].pk
      }
    }

    // 3. Tombstones: the state of keys without a row; never newer than the row of keys with one.
    for (const table of syncedTableNames) {
      let last = ""
      for (;;) {
        const tombs = yield* sql<StateRow>`
          SELECT pk, clock, hlc, op_id, server_version, owner_user_id FROM tombstones
          WHERE workspace_id = ${workspaceId} AND table_name = ${table} AND pk > ${last}
          ORDER BY pk LIMIT ${PAGE}`
        if (tombs.length === 0) break
        const rows = yield* sql<StateRow & { deleted: number }>`
          SELECT pk, clock, hlc, op_id, server_version, owner_user_id, deleted FROM ${sql(SyncedTables[table as SyncedTableName].sqlTable)}
          WHERE workspace_id = ${workspaceId} AND pk IN ${sql.in(tombs.map((t) => t.pk))}`
        const rowByPk = new Map(rows.map((row) => [row.pk, row]))
        for (const tomb of tombs) {
          const row = rowByPk.get(tomb.pk)
          if (row === undefined) {
            compare(table, tomb.pk, tomb, { deleted: true })
            continue
          }
          if (tomb.server_version > head || row.server_version > head) continue
          const order = compareRevision(
            { clock: tomb.clock, hlc: tomb.hlc, opId: tomb.op_id },
            { clock: row.clock, hlc: row.hlc, opId: row.op_id }
          )
          if (order > 0) find("tombstone", `tombstone v${tomb.server_version} is newer than the row v${row.server_version}`, table, tomb.pk)
          if (row.deleted === 1 && row.server_version === tomb.server_version && order !== 0) {
            find("tombstone", `row and tombstone record different deletes at v${row.server_version}`, table, tomb.pk)
          }
        }
        if (tombs.length < PAGE) break
        last = tombs[tombs.length - 1].pk
      }
    }

    // 4. Keys in the log with no state at all: forgotten by tombstone GC, so nothing of them is served.
    for (const [key, log] of logs) {
      if (log.served.length === 0) continue
      const [table, pk] = key.split("\u0000")
      find("replay", `the change log serves v${log.served.join(", v")} for this key but there is no row and no tombstone`, table, pk)
    }

    // 5. Heads and cursors.
    const [{ maxVersion }] = yield* sql<{ maxVersion: number | null }>`
      SELECT max(server_version) AS maxVersion FROM change_log WHERE workspace_id = ${workspaceId}`
    const [now] = yield* sql<{ head: number; horizon: number }>`SELECT head, horizon FROM sync_heads WHERE workspace_id = ${workspaceId}`
    const currentHead = now?.head ?? 0
    if ((maxVersion ?? 0) > currentHead) find("head", `change_log reaches v${maxVersion} but the head is ${currentHead}`)
    if ((now?.horizon ?? 0) > currentHead) find("head", `horizon ${now?.horizon} is above the head ${currentHead}`)
    const ahead = yield* sql<{ device_id: string; version: number }>`
      SELECT device_id, version FROM device_cursors WHERE workspace_id = ${workspaceId} AND version > ${currentHead}`
    for (const cursor of ahead) find("cursor", `device ${cursor.device_id} is at ${cursor.version}, past the head ${currentHead}`)

    return {
      findings,
      summary: {
        workspaceId,
        head,
        horizon,
        logEntries: scanned,
        keysChecked: counts.checked,
        keysChangedDuring: counts.changed
      } satisfies WorkspaceVerification
    }
  })
