/**
 * `or3-sqlite migrate [--dry-run]`: applies the pending migrations in one `BEGIN IMMEDIATE`
 * transaction (what the server does at boot), or lists them without touching the database.
 */
import { Command, Options } from "@effect/cli"
import * as Effect from "effect/Effect"
import { appliedMigrations, pendingMigrations, runMigrations } from "../../layers/Migrations.js"
import { SqliteInfo } from "../../layers/Sqlite.js"
import { migrations } from "../../migrations/index.js"
import { common, withDatabase } from "../CliDatabase.js"
import { CliError } from "../CliErrors.js"
import { CliOutput } from "../CliOutput.js"

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

const dryRun = Options.boolean("dry-run").pipe(Options.withDescription("List the pending migrations; change nothing"))

export const migrateCommand = Command.make("migrate", { ...common, dryRun }, (flags) =>
  withDatabase(
    flags,
    Effect.gen(function*() {
      const output = yield* CliOutput
      const info = yield* SqliteInfo
      const known = new Set(Object.keys(migrations).map((key) => Number(key.split("_")[0])))
      const newer = (yield* appliedMigrations).filter((row) => !known.has(row.migration_id))
      if (newer.length > 0) {
        return yield* new CliError({
          message: `the database was migrated by a newer or3-provider-sqlite (${newer
            .map((row) => `${row.migration_id}_${row.name}`)
            .join(", ")}); roll forward with that version, never back`
        })
      }
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
    }),
    // Only migrate may create the database file.
    { create: !flags.dryRun }
  )).pipe(Command.withDescription("Apply pending migrations (--dry-run lists them without applying)"))
