/**
 * What `npm run inspect [path]` does: open a database read-only and describe what it holds
 * (schema version and pending migrations, SQLite version, the pragmas in effect, the row count of
 * every table). It never migrates and never creates anything: a mistyped path is an error.
 *
 * The database is the argument, else what the server would open: `OR3_SQLITE_DB_PATH`, or with
 * `OR3_SQLITE_DRIVER=libsql` `OR3_SQLITE_LIBSQL_URL`; else `./.data/or3.sqlite` (where `npm start`
 * keeps its database). The other `OR3_SQLITE_*` variables apply as they do in the server.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { appliedMigrations, migrationKey, pendingMigrations } from "../layers/Migrations.js"
import * as Sqlite from "../layers/Sqlite.js"
import { databaseLayer } from "./CliDatabase.js"
import { resolveTarget, type TargetKind } from "./CliTarget.js"
import { readPragmas } from "./pragmas.js"

export const DEFAULT_PATH = "./.data/or3.sqlite"

/** The pragmas the layer sets, plus the file's size in pages (codes by name, see `pragmas.ts`). */
const PRAGMAS = ["journal_mode", "synchronous", "busy_timeout", "foreign_keys", "cache_size", "page_size", "page_count"] as const

export interface InspectReport {
  readonly path: string
  readonly sqliteVersion: string
  /** Newest applied migration (`NNNN_name`), or undefined for an empty ledger. */
  readonly schemaVersion: string | undefined
  /** Migrations this version would apply (`npm start` applies them). */
  readonly pending: ReadonlyArray<string>
  readonly pragmas: Readonly<Record<(typeof PRAGMAS)[number], unknown>>
  readonly rowCounts: ReadonlyArray<readonly [table: string, rows: number]>
}

/** Describes the database behind `SqlClient` (a target of `kind`), changing nothing. */
export const inspect = (kind: TargetKind) => Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const info = yield* Sqlite.SqliteInfo
  const pending = yield* pendingMigrations()
  const ledger = yield* appliedMigrations
  const newest = ledger.at(-1)
  const pragmas = yield* readPragmas(PRAGMAS, kind)
  const tables = yield* sql<{ name: string }>`
    SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
  // Table names come from the database's own catalogue; `sql(name)` quotes them as identifiers.
  const rowCounts = yield* Effect.forEach(tables, ({ name }) =>
    Effect.map(sql<{ n: number }>`SELECT count(*) AS n FROM ${sql(name)}`, ([row]) => [name, row.n] as const)
  )
  return {
    path: info.settings.path,
    sqliteVersion: info.sqliteVersion,
    schemaVersion: newest && migrationKey(newest.migration_id, newest.name),
    pending,
    pragmas,
    rowCounts
  } satisfies InspectReport
})

/** The report as the lines `npm run inspect` prints. */
export const render = (report: InspectReport): string => {
  const { pragmas } = report
  const width = Math.max(...report.rowCounts.map(([table]) => table.length))
  return [
    `database  ${report.path}`,
    `sqlite    ${report.sqliteVersion}`,
    `schema    ${report.schemaVersion ?? "(none)"}${
      report.pending.length > 0 ? `  (pending: ${report.pending.join(", ")})` : ""
    }`,
    `pragmas   journal_mode=${pragmas.journal_mode} synchronous=${pragmas.synchronous} busy_timeout=${pragmas.busy_timeout} foreign_keys=${pragmas.foreign_keys === 1 ? "on" : "off"} cache_size=${pragmas.cache_size}`,
    `size      ${Number(pragmas.page_count) * Number(pragmas.page_size)} bytes (${pragmas.page_count} pages of ${pragmas.page_size})`,
    `rows`,
    ...report.rowCounts.map(([table, rows]) => `  ${table.padEnd(width)}  ${rows}`)
  ].join("\n")
}

/** Inspects the database named by `args[0]` or the server's settings, and prints it. */
export const inspectCommand = (args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const configured = yield* resolveTarget(args[0], "the path argument")
    const target = configured.kind === "unset"
      ? yield* resolveTarget(DEFAULT_PATH, "OR3_SQLITE_DB_PATH or the path argument")
      : configured
    const report = yield* inspect(target.kind).pipe(Effect.provide(databaseLayer(target, "read")))
    yield* Console.log(render(report))
  })
