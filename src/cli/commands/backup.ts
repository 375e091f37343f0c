/**
 * `or3-sqlite backup <file>`: an online, consistent copy while the server keeps writing.
 *
 * The copy is `VACUUM INTO`: one statement inside one read transaction, so it is the database as
 * of one commit; in WAL mode it never blocks the server's writers, and unlike the page-stepping
 * backup API it never restarts when another process writes between steps (a busy server could keep
 * that one restarting). It is written next to the target, flushed to disk (SQLite does not fsync
 * a VACUUM INTO output), opened read-only and checked (`integrity_check`, `foreign_key_check`),
 * and only then renamed to `<file>`: a failed backup never leaves a file under the final name.
 */
import { Args, Command } from "@effect/cli"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { ensureDatabaseDir } from "../../layers/databaseDir.js"
import { appliedMigrations } from "../../layers/Migrations.js"
import { SqliteInfo } from "../../layers/Sqlite.js"
import { checkFileInChild, runInChild } from "../ChildStatements.js"
import { common, withDatabase } from "../CliDatabase.js"
import { CliError } from "../CliErrors.js"
import { CliOutput, formatBytes } from "../CliOutput.js"
import { fsync } from "../fsync.js"
import * as ReadOnlySqlite from "../ReadOnlySqlite.js"
import { planReadOnly } from "../ReadOnlySqlite.js"
import { readHeads } from "../restoreFiles.js"

export interface CopyCheck {
  readonly integrity: string
  readonly foreignKeyViolations: number
  readonly schemaVersion: number
  readonly heads: ReadonlyArray<{ readonly workspaceId: string; readonly head: number }>
}

export interface BackupReport extends CopyCheck {
  readonly source: string
  readonly file: string
  readonly bytes: number
  readonly durationMs: number
}

/**
 * Checks a database file without writing to it: `integrity_check` and `foreign_key_check` in a
 * child process (they read the whole file; Ctrl-C must stop them at once), then its schema version
 * and workspace heads through a read-only connection.
 */
export const checkCopy = (file: string, busyTimeoutMs = 5000) =>
  Effect.gen(function*() {
    const { integrity, violations } = yield* checkFileInChild(file, busyTimeoutMs)
    const { heads, schemaVersion } = yield* Effect.scoped(
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const schemaVersion = (yield* appliedMigrations).at(-1)?.migration_id ?? 0
        const heads = yield* readHeads(<A>(statement: string) => sql.unsafe<A & object>(statement))
        return { schemaVersion, heads: [...heads].map(([workspaceId, head]) => ({ workspaceId, head })) }
      }).pipe(Effect.provide(Layer.orDie(ReadOnlySqlite.layer(file))))
    )
    return {
      integrity: integrity.join("; "),
      foreignKeyViolations: violations.length,
      schemaVersion,
      heads
    } satisfies CopyCheck
  })

const file = Args.file({ name: "file" })

export const backupCommand = Command.make("backup", { ...common, file }, (flags) =>
  withDatabase(flags, "read", (source) =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const info = yield* SqliteInfo
      const output = yield* CliOutput
      const target = Path.resolve(flags.file)
      if (Fs.existsSync(target)) {
        return yield* new CliError({ message: `${target} exists; backup never overwrites: remove it or pick another name` })
      }
      yield* ensureDatabaseDir(target, "<file>")
      const partial = `${target}.partial-${process.pid}`
      const started = Date.now()
      const progress = output.progress("backup")
      const [{ page_count }] = yield* sql<{ page_count: number }>`PRAGMA page_count`
      const [{ page_size }] = yield* sql<{ page_size: number }>`PRAGMA page_size`
      yield* progress.update(`copying ${page_count} pages (${formatBytes(page_count * page_size)}) with VACUUM INTO`, 0, 2)
      // Interrupted or failed, the partial copy goes: a half-written file is never left behind.
      const cleanup = Effect.sync(() => Fs.rmSync(partial, { force: true }))
      const report = yield* Effect.gen(function*() {
        yield* runInChild({
          name: "copy",
          filename: planReadOnly(source.location).filename,
          readonly: true,
          busyTimeoutMs: info.settings.busyTimeoutMs,
          statements: [{ sql: "VACUUM INTO ?", params: [partial] }]
        })
        fsync(partial)
        yield* progress.update("verifying the copy (integrity_check, foreign_key_check)", 1, 2)
        const check = yield* checkCopy(partial, info.settings.busyTimeoutMs)
        if (check.integrity !== "ok" || check.foreignKeyViolations > 0) {
          return yield* new CliError({
            message: `the copy failed its check (integrity: ${check.integrity}; foreign key violations: ${check.foreignKeyViolations}); nothing was written to ${target}`
          })
        }
        Fs.renameSync(partial, target)
        fsync(Path.dirname(target))
        return {
          source: info.settings.path,
          file: target,
          bytes: Fs.statSync(target).size,
          durationMs: Date.now() - started,
          ...check
        } satisfies BackupReport
      }).pipe(Effect.onError(() => cleanup))
      yield* progress.finish(`${formatBytes(report.bytes)} written and verified in ${report.durationMs} ms`)
      yield* output.result(
        report,
        (r) => `${r.file}: ${formatBytes(r.bytes)}, integrity ${r.integrity}, schema ${r.schemaVersion}, ${r.heads.length} workspace head(s)`
      )
    }), "backup"))
