/**
 * What `npm run inspect [path]` does: open a database file, migrate it, and describe what it holds
 * (schema version, SQLite version, the pragmas in effect, the row count of every table).
 *
 * The path is the argument, else `OR3_SQLITE_DB_PATH`, else `./.data/or3.sqlite`; the other
 * `OR3_SQLITE_*` variables (the driver, the pragmas) apply as they do in the server.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Database from "../layers/Database.js"
import { appliedMigrations, runMigrations } from "../layers/Migrations.js"
import * as Sqlite from "../layers/Sqlite.js"

export const DEFAULT_PATH = "./.data/or3.sqlite"

/** The pragmas the layer sets, plus the file's size in pages. */
const PRAGMAS = ["journal_mode", "synchronous", "busy_timeout", "foreign_keys", "cache_size", "page_size", "page_count"] as const

export interface InspectReport {
  readonly path: string
  readonly sqliteVersion: string
  /** Newest applied migration (`NNNN_name`), or undefined for an empty ledger. */
  readonly schemaVersion: string | undefined
  readonly appliedNow: ReadonlyArray<string>
  readonly pragmas: Readonly<Record<(typeof PRAGMAS)[number], unknown>>
  readonly rowCounts: ReadonlyArray<readonly [table: string, rows: number]>
}

/** Migrates the database behind `SqlClient` and describes it. */
export const inspect = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const info = yield* Sqlite.SqliteInfo
  const appliedNow = yield* runMigrations()
  const ledger = yield* appliedMigrations
  const newest = ledger.at(-1)
  const pragmas = Object.fromEntries(
    yield* Effect.forEach(PRAGMAS, (name) =>
      Effect.map(sql.unsafe<Record<string, unknown>>(`PRAGMA ${name}`), (rows) => [name, Object.values(rows[0] ?? {})[0]])
    )
  ) as InspectReport["pragmas"]
  const tables = yield* sql<{ name: string }>`
    SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
  // Table names come from the database's own catalogue; `sql(name)` quotes them as identifiers.
  const rowCounts = yield* Effect.forEach(tables, ({ name }) =>
    Effect.map(sql<{ n: number }>`SELECT count(*) AS n FROM ${sql(name)}`, ([row]) => [name, row.n] as const)
  )
  return {
    path: info.settings.path,
    sqliteVersion: info.sqliteVersion,
    schemaVersion: newest && `${String(newest.migration_id).padStart(4, "0")}_${newest.name}`,
    appliedNow,
    pragmas,
    rowCounts
  } satisfies InspectReport
})

const SYNCHRONOUS = ["OFF", "NORMAL", "FULL", "EXTRA"]

/** The report as the lines `npm run inspect` prints. */
export const render = (report: InspectReport): string => {
  const { pragmas } = report
  const width = Math.max(...report.rowCounts.map(([table]) => table.length))
  return [
    `database  ${report.path}`,
    `sqlite    ${report.sqliteVersion}`,
    `schema    ${report.schemaVersion ?? "(none)"}${
      report.appliedNow.length > 0 ? `  (applied now: ${report.appliedNow.join(", ")})` : ""
    }`,
    `pragmas   journal_mode=${pragmas.journal_mode} synchronous=${
      SYNCHRONOUS[Number(pragmas.synchronous)] ?? pragmas.synchronous
    } busy_timeout=${pragmas.busy_timeout} foreign_keys=${pragmas.foreign_keys === 1 ? "on" : "off"} cache_size=${pragmas.cache_size}`,
    `size      ${Number(pragmas.page_count) * Number(pragmas.page_size)} bytes (${pragmas.page_count} pages of ${pragmas.page_size})`,
    `rows`,
    ...report.rowCounts.map(([table, rows]) => `  ${table.padEnd(width)}  ${rows}`)
  ].join("\n")
}

/** Inspects the database named by `args[0]`, `OR3_SQLITE_DB_PATH` or the default, and prints it. */
export const inspectCommand = (args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const path = args[0] ?? (yield* Config.string("OR3_SQLITE_DB_PATH").pipe(Config.withDefault(DEFAULT_PATH)))
    const report = yield* inspect.pipe(Effect.provide(Database.layer({ path })))
    yield* Console.log(render(report))
  })
