/**
 * `or3-sqlite migrate [--dry-run]`: applies the pending migrations in one `BEGIN IMMEDIATE`
 * transaction (what the server does at boot), or lists them without touching the database: a dry
 * run opens the file read-only, and on a path with no database yet lists every migration and
 * creates nothing.
 */
import { Command, Options } from "@effect/cli"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Fs from "node:fs"
import { appliedMigrations, pendingMigrations, requireKnownSchema, runMigrations } from "../../layers/Migrations.js"
import { SqliteInfo } from "../../layers/Sqlite.js"
import { migrations } from "../../migrations/index.js"
import { common, withDatabase } from "../CliDatabase.js"
import * as CliOutput from "../CliOutput.js"
import { resolveTarget } from "../CliTarget.js"

export interface MigrateReport {
  readonly database: string
  readonly dryRun: boolean
  /** Keys (`NNNN_name`) pending before the command ran. */
  readonly pending: ReadonlyArray<string>
  /** Keys applied by this run (none for a dry run). */
  readonly applied: ReadonlyArray<string>
  /** Schema version after the run (the newest applied migration number). */
  readonly schemaVersion: number
}

const render = (report: MigrateReport) =>
  report.dryRun
    ? report.pending.length === 0
      ? `${report.database}: up to date (schema ${report.schemaVersion})`
      : [`${report.database}: ${report.pending.length} pending (not applied, --dry-run):`, ...report.pending.map((key) => `  ${key}`)].join("\n")
    : report.applied.length === 0
    ? `${report.database}: up to date (schema ${report.schemaVersion})`
    : [`${report.database}: applied ${report.applied.length}:`, ...report.applied.map((key) => `  ${key}`), `schema ${report.schemaVersion}`].join("\n")

const dryRun = Options.boolean("dry-run")

export const migrateCommand = Command.make("migrate", { ...common, dryRun }, (flags) =>
  Effect.gen(function*() {
    const target = yield* resolveTarget(Option.getOrUndefined(flags.db))
    if (flags.dryRun && target.kind === "file" && !Fs.existsSync(target.location)) {
      // Nothing to open: the database would be created with every migration.
      const report: MigrateReport = {
        database: target.location,
        dryRun: true,
        pending: Object.keys(migrations).sort(),
        applied: [],
        schemaVersion: 0
      }
      return yield* CliOutput.make({ json: flags.json }).result(report, render)
    }
    yield* withDatabase(flags, flags.dryRun ? "read" : "create", () =>
      Effect.gen(function*() {
        const output = yield* CliOutput.CliOutput
        const info = yield* SqliteInfo
        yield* requireKnownSchema()
        const pending = yield* pendingMigrations()
        const applied = flags.dryRun ? [] : yield* runMigrations()
        const latest = (yield* appliedMigrations).at(-1)
        yield* output.result(
          {
            database: info.settings.path,
            dryRun: flags.dryRun,
            pending,
            applied,
            schemaVersion: latest?.migration_id ?? 0
          } satisfies MigrateReport,
          render
        )
      }))
  }))
