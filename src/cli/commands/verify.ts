/**
 * `or3-sqlite verify`: `integrity_check`, `foreign_key_check`, and every workspace's rows and
 * tombstones against a replay of its change log (see `../verifyReplay.ts` for when the log is
 * complete for a key). Read-only; exits with code 3 when anything is found.
 */
import { Command } from "@effect/cli"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import { SqliteInfo } from "../../layers/Sqlite.js"
import { checkFileInChild, type FileCheck } from "../ChildStatements.js"
import { common, requireCurrentSchema, withDatabase } from "../CliDatabase.js"
import { FindingsFound } from "../CliErrors.js"
import { CliOutput } from "../CliOutput.js"
import type { Target } from "../CliTarget.js"
import { type Finding, verifyWorkspace, type WorkspaceVerification } from "../verifyReplay.js"

export interface VerifyReport {
  readonly ok: boolean
  readonly integrity: ReadonlyArray<string>
  readonly workspaces: ReadonlyArray<WorkspaceVerification>
  readonly findings: ReadonlyArray<Finding>
}

const render = (report: VerifyReport) =>
  [
    `integrity_check: ${report.integrity.join("; ")}`,
    ...report.workspaces.map((ws) =>
      `  ${ws.workspaceId}: head ${ws.head}, horizon ${ws.horizon}, ${ws.logEntries} log entries; ${ws.keysChecked} keys match the replay, ${ws.keysChangedDuring} changed during the run`
    ),
    ...report.findings.map((f) =>
      `FINDING [${f.check}]${f.workspaceId === undefined ? "" : ` ${f.workspaceId}`}${f.table === undefined ? "" : ` ${f.table}`}${
        f.pk === undefined ? "" : `/${f.pk}`
      }: ${f.detail}`
    ),
    report.ok ? "verify: ok" : `verify: ${report.findings.length} finding(s)`
  ].join("\n")

/**
 * `integrity_check` and `foreign_key_check`: on a local file in a child process (one statement
 * reads the whole file, and Ctrl-C must stop it at once), else through the connection.
 */
const fileChecks = (target: Target): Effect.Effect<FileCheck, unknown, SqlClient.SqlClient | SqliteInfo> =>
  Effect.gen(function*() {
    if (target.kind === "file") {
      const info = yield* SqliteInfo
      return yield* checkFileInChild(target.location, info.settings.busyTimeoutMs)
    }
    const sql = yield* SqlClient.SqlClient
    const integrity = (yield* sql<{ integrity_check: string }>`PRAGMA integrity_check`).map((row) => row.integrity_check)
    return { integrity, violations: yield* sql<FileCheck["violations"][number]>`PRAGMA foreign_key_check` }
  })

export const verifyCommand = Command.make("verify", common, (flags) =>
  withDatabase(flags, "read", (target) =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const output = yield* CliOutput
      yield* requireCurrentSchema
      const progress = output.progress("verify")
      const findings: Array<Finding> = []

      yield* progress.update("integrity_check, foreign_key_check")
      const { integrity, violations } = yield* fileChecks(target)
      if (integrity.length !== 1 || integrity[0] !== "ok") {
        for (const line of integrity) findings.push({ check: "integrity", detail: line })
      }
      for (const v of violations) {
        findings.push({ check: "foreign_key", table: v.table, detail: `row ${v.rowid} references a missing ${v.parent}` })
      }

      const ids = (yield* sql<{ id: string }>`
        SELECT id FROM workspaces UNION SELECT workspace_id FROM sync_heads
        UNION SELECT DISTINCT workspace_id FROM change_log ORDER BY 1`).map((row) => row.id)
      const workspaces: Array<WorkspaceVerification> = []
      for (const workspaceId of ids) {
        const result = yield* verifyWorkspace(workspaceId, progress)
        findings.push(...result.findings)
        workspaces.push(result.summary)
      }
      yield* progress.finish(`${ids.length} workspace(s), ${findings.length} finding(s)`)
      const report: VerifyReport = { ok: findings.length === 0, integrity, workspaces, findings }
      yield* output.result(report, render)
      if (!report.ok) return yield* new FindingsFound({ count: findings.length })
    })))
