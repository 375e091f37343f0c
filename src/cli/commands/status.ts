/** `or3-sqlite status`: schema, SQLite, pragmas, sizes and every workspace's sync state. */
import { Command } from "@effect/cli"
import * as Effect from "effect/Effect"
import { common, withDatabase } from "../CliDatabase.js"
import { CliOutput, formatBytes } from "../CliOutput.js"
import { gatherStatus, type StatusReport } from "../statusReport.js"

export const renderStatus = (report: StatusReport): string => {
  const { database, pragmas, schema } = report
  const lines = [
    `database   ${database.path} (${database.driver}${database.inMemory ? ", in memory" : ""})`,
    `sqlite     ${database.sqliteVersion}`,
    `schema     ${schema.version}${schema.latest === null ? " (empty ledger)" : ` (${schema.latest})`}${
      schema.pending.length > 0 ? `; pending: ${schema.pending.join(", ")}` : ""
    }${schema.unknown.length > 0 ? `; UNKNOWN (newer release): ${schema.unknown.join(", ")}` : ""}`,
    `pragmas    journal_mode=${pragmas.journal_mode} synchronous=${pragmas.synchronous} foreign_keys=${pragmas.foreign_keys === 1 ? "on" : "off"} busy_timeout=${pragmas.busy_timeout} page_size=${pragmas.page_size}`,
    `size       file ${formatBytes(database.fileBytes)}, wal ${formatBytes(database.walBytes)}, ${pragmas.page_count} pages (${pragmas.freelist_count} free)`,
    `workspaces ${report.workspaces.length}`
  ]
  for (const ws of report.workspaces) {
    const rows = Object.entries(ws.rows)
      .filter(([, count]) => count.live + count.deleted > 0)
      .map(([table, count]) => `${table}=${count.live}${count.deleted > 0 ? `(+${count.deleted} deleted)` : ""}`)
    lines.push(
      `  ${ws.workspaceId}${ws.name === null ? "" : ` "${ws.name}"`}${ws.deleted ? " [deleted]" : ""}`,
      `    head ${ws.head}  horizon ${ws.horizon}  change_log ${ws.changeLog}  tombstones ${ws.tombstones}`,
      `    rows ${rows.length === 0 ? "(none)" : rows.join(" ")}`,
      ...(ws.cursors.length === 0
        ? ["    cursors (none)"]
        : ws.cursors.map((c) =>
          `    cursor ${c.deviceId} (user ${c.userId}) at ${c.version}, ${c.behind} behind, seen ${c.updatedAt}`
        ))
    )
  }
  return lines.join("\n")
}

export const statusCommand = Command.make("status", common, (flags) =>
  withDatabase(flags, "read", (target) =>
    Effect.gen(function*() {
      const output = yield* CliOutput
      const report = yield* gatherStatus(target)
      yield* output.result(report, renderStatus)
    })))
