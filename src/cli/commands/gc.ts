/**
 * `or3-sqlite gc --retention <duration> [--workspace <id>]`: the adapter's GC, run by hand. For
 * each workspace it calls the SyncGateway's `gcChangeLog` then `gcTombstones`, which follow the
 * rules of docs/sync.md in bounded batches (at most `Limits.gcBatchSize` rows per statement, one
 * short `BEGIN IMMEDIATE` transaction each), so a running server's pushes interleave with it.
 * Without `--workspace` it covers every non-deleted workspace plus any workspace that still has
 * sync state in `sync_heads` (a deleted workspace's history is collected too).
 */
import { Command, Options } from "@effect/cli"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { type GcBatch, SyncGateway } from "../../services/SyncGateway.js"
import { common, requireCurrentSchema, withDatabase } from "../CliDatabase.js"
import { CliError } from "../CliErrors.js"
import { CliOutput } from "../CliOutput.js"
import { parseRetention } from "../retention.js"

export interface GcWorkspaceReport {
  readonly workspaceId: string
  readonly changeLogDeleted: number
  readonly tombstonesDeleted: number
  readonly expiredCursors: number
  readonly horizon: number
}

export interface GcReport {
  readonly retentionSeconds: number
  readonly workspaces: ReadonlyArray<GcWorkspaceReport>
  readonly changeLogDeleted: number
  readonly tombstonesDeleted: number
  readonly expiredCursors: number
}

const render = (report: GcReport) =>
  [
    `retention ${report.retentionSeconds} s: ${report.workspaces.length} workspace(s), ${report.changeLogDeleted} change-log entries and ${report.tombstonesDeleted} tombstones deleted, ${report.expiredCursors} idle cursors dropped`,
    ...report.workspaces.map((ws) =>
      `  ${ws.workspaceId}: change_log -${ws.changeLogDeleted}, tombstones -${ws.tombstonesDeleted}, cursors -${ws.expiredCursors}, horizon ${ws.horizon}`
    )
  ].join("\n")

/** Non-deleted workspaces and every workspace with sync state, in id order. */
export const gcWorkspaceIds = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  Effect.map(
    sql<{ id: string }>`
      SELECT id FROM workspaces WHERE deleted = 0
      UNION SELECT workspace_id FROM sync_heads
      ORDER BY 1`,
    (rows) => rows.map((row) => row.id)
  ))

const retention = Options.text("retention")
const workspace = Options.text("workspace").pipe(Options.optional)

/**
 * `OR3_CLI_TEST_GC_BATCH_DELAY_MS`: a test knob. Each batch waits this long before its COMMIT, so
 * a test can interrupt one mid-batch on a small database and see it rolled back.
 */
const testDelay = Number(process.env.OR3_CLI_TEST_GC_BATCH_DELAY_MS ?? 0)

type Table = "change_log" | "tombstones"

/**
 * Rows GC may walk in each of `ids`: its superseded change-log entries (compaction removes only
 * those) and its tombstones. Counted for `only`, or grouped over every workspace: never with the
 * ids bound as variables, of which SQLite takes 32,766 per statement.
 */
export const gcRowCounts = (ids: ReadonlyArray<string>, only: Option.Option<string>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const count = (rows: ReadonlyArray<{ workspace_id: string; n: number }>) => new Map(rows.map((r) => [r.workspace_id, r.n]))
    const scope = Option.match(only, { onNone: () => sql`1 = 1`, onSome: (id) => sql`workspace_id = ${id}` })
    const log = count(yield* sql<{ workspace_id: string; n: number }>`
      SELECT workspace_id, count(*) AS n FROM change_log WHERE ${scope} AND superseded = 1 GROUP BY workspace_id`)
    const tombs = count(yield* sql<{ workspace_id: string; n: number }>`
      SELECT workspace_id, count(*) AS n FROM tombstones WHERE ${scope} GROUP BY workspace_id`)
    return new Map(ids.map((id) => [id, { change_log: log.get(id) ?? 0, tombstones: tombs.get(id) ?? 0 }]))
  })

export const gcCommand = Command.make("gc", { ...common, retention, workspace }, (flags) =>
  Effect.gen(function*() {
    const retentionSeconds = yield* parseRetention(flags.retention)
    yield* withDatabase(flags, "write", () =>
      Effect.gen(function*() {
        yield* requireCurrentSchema
        const output = yield* CliOutput
        const gateway = yield* SyncGateway
        const all = yield* gcWorkspaceIds
        const ids = Option.match(flags.workspace, { onNone: () => all, onSome: (id) => [id] })
        if (Option.isSome(flags.workspace) && !all.includes(flags.workspace.value)) {
          return yield* new CliError({ message: `unknown workspace ${flags.workspace.value} (no workspace row and no sync state)` })
        }
        const counts = yield* gcRowCounts(ids, flags.workspace)
        const total = [...counts.values()].reduce((n, c) => n + c.change_log + c.tombstones, 0)
        const progress = output.progress("gc")
        let done = 0
        const reports: Array<GcWorkspaceReport> = []
        for (const workspaceId of ids) {
          const request = { scope: { workspaceId }, retentionSeconds }
          const run = <A, E>(table: Table, call: (onBatch: (batch: GcBatch) => Effect.Effect<void>) => Effect.Effect<A, E>) =>
            Effect.gen(function*() {
              const start = done
              const label = `${workspaceId}: ${table === "change_log" ? "change log" : "tombstones"}`
              yield* progress.update(label, done, total)
              const result = yield* call((batch) =>
                Effect.zipRight(
                  progress.update(label, (done += batch.scanned), total),
                  testDelay > 0 ? Effect.sleep(testDelay) : Effect.void
                )
              )
              // GC stops at the first entry inside the window: the rest was looked at, and kept.
              done = start + counts.get(workspaceId)![table]
              return result
            })
          const log = yield* run("change_log", (onBatch) => gateway.gcChangeLog(request, { onBatch }))
          const tombs = yield* run("tombstones", (onBatch) => gateway.gcTombstones(request, { onBatch }))
          reports.push({
            workspaceId,
            changeLogDeleted: log.deleted,
            tombstonesDeleted: tombs.deleted,
            expiredCursors: log.expiredCursors + tombs.expiredCursors,
            horizon: Math.max(log.horizon, tombs.horizon)
          })
        }
        const sum = (pick: (ws: GcWorkspaceReport) => number) => reports.reduce((n, ws) => n + pick(ws), 0)
        const report: GcReport = {
          retentionSeconds,
          workspaces: reports,
          changeLogDeleted: sum((ws) => ws.changeLogDeleted),
          tombstonesDeleted: sum((ws) => ws.tombstonesDeleted),
          expiredCursors: sum((ws) => ws.expiredCursors)
        }
        yield* progress.finish(`${ids.length} workspace(s) done (${total} rows looked at)`)
        yield* output.result(report, render)
      }).pipe(Effect.provide(SyncGateway.Default)))
  }))
