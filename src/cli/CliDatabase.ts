/**
 * What every command shares: the `--db` and `--json` flags, the database layer built from them and
 * the `OR3_SQLITE_*` variables (the same ones the server reads), and the schema check of the
 * commands that need the current schema.
 *
 * The CLI is a second connection next to a running server: its writes go through
 * `sql.withTransaction`, which begins `BEGIN IMMEDIATE` on both drivers, and it uses the driver
 * the server uses (`OR3_SQLITE_DRIVER`): two SQLite copies must never share a file in one process.
 */
import { Options } from "@effect/cli"
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Fs from "node:fs"
import * as Database from "../layers/Database.js"
import { libsqlOptionsFromEnv, parseLibsqlUrl } from "../layers/Libsql.js"
import { pendingMigrations, appliedMigrations } from "../layers/Migrations.js"
import type { SqliteInfo } from "../layers/Sqlite.js"
import { readSqliteOptionsFromEnv } from "../layers/SqliteConfig.js"
import { migrations } from "../migrations/index.js"
import { CliError } from "./CliErrors.js"
import * as CliOutput from "./CliOutput.js"

export const dbOption = Options.text("db").pipe(
  Options.withDescription(
    "Database file (overrides OR3_SQLITE_DB_PATH; with OR3_SQLITE_DRIVER=libsql a path or a libSQL URL)"
  ),
  Options.optional
)

export const jsonOption = Options.boolean("json").pipe(
  Options.withDescription("Print the result as one JSON document on stdout (no progress lines)")
)

export const common = { db: dbOption, json: jsonOption }

/** True for a libSQL server URL (`libsql://`, `https://`, ...), false for a local file path. */
export const isRemoteUrl = (path: string) => /^[a-z]+:\/\//.test(path)

export interface CommonFlags {
  readonly db: Option.Option<string>
  readonly json: boolean
}

export type CliDatabase = SqlClient.SqlClient | SqliteInfo

/** The local file a command would open, or undefined (memory, a remote server, nothing set yet). */
export const localFile = (db: Option.Option<string>) =>
  Effect.gen(function*() {
    const driver = yield* Database.driverFromEnv
    const given = Option.getOrUndefined(db)
    if (driver === "better-sqlite3") {
      const path = given ?? (yield* readSqliteOptionsFromEnv).path
      return path === undefined || path === ":memory:" ? undefined : path
    }
    const fromEnv = given === undefined ? (yield* Effect.orDie(libsqlOptionsFromEnv)).url : undefined
    const url = given === undefined ? fromEnv : given.includes(":") ? given : `file:${given}`
    if (url === undefined) return undefined
    const target = yield* parseLibsqlUrl(url)
    return target._tag === "File" ? target.path : undefined
  })

/**
 * The database of a command. Only `migrate` may create the file; every other command refuses a
 * path that does not exist, so a typo never leaves an empty database behind.
 */
export const databaseLayer = (
  flags: CommonFlags,
  options: { readonly create: boolean }
): Layer.Layer<CliDatabase, unknown> =>
  Layer.unwrapEffect(
    Effect.gen(function*() {
      const file = yield* localFile(flags.db)
      if (!options.create && file !== undefined && !Fs.existsSync(file)) {
        return yield* new CliError({
          message: `no database at ${file}; check --db / OR3_SQLITE_DB_PATH (or3-sqlite migrate creates a new one)`
        })
      }
      return Database.layer({ path: Option.getOrUndefined(flags.db) })
    })
  )

/** The output layer of a command's flags. */
export const outputLayer = (flags: CommonFlags) => CliOutput.layer({ json: flags.json })

/** Runs `program` with the command's database and output. */
export const withDatabase = <A, E, R>(
  flags: CommonFlags,
  program: Effect.Effect<A, E, R>,
  options: { readonly create: boolean } = { create: false }
) =>
  program.pipe(
    Effect.provide(Layer.merge(databaseLayer(flags, options), outputLayer(flags)))
  )

/** Fails unless the database is at exactly the schema this version knows (no pending, no newer). */
export const requireCurrentSchema = Effect.gen(function*() {
  const known = new Set(Object.keys(migrations).map((key) => Number(key.split("_")[0])))
  const unknown = (yield* appliedMigrations).filter((row) => !known.has(row.migration_id))
  if (unknown.length > 0) {
    return yield* new CliError({
      message: `the database was migrated by a newer or3-provider-sqlite (${unknown
        .map((row) => `${row.migration_id}_${row.name}`)
        .join(", ")}); use that version's CLI`
    })
  }
  const pending = yield* pendingMigrations()
  if (pending.length > 0) {
    return yield* new CliError({
      message: `the database schema is behind (pending: ${pending.join(", ")}); run or3-sqlite migrate first`
    })
  }
})
