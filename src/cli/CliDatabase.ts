/**
 * What every command shares: the `--db` and `--json` flags, the database layer built from them and
 * the `OR3_SQLITE_*` variables (the same ones the server reads), and the schema checks.
 *
 * Commands that only read get a read-only connection (`ReadOnlySqlite.ts`; a remote libSQL server
 * is read through its client, which sets nothing there). Commands that write go through the driver
 * the server uses (`OR3_SQLITE_DRIVER`), with `BEGIN IMMEDIATE` transactions, and without the
 * background checkpoint worker: a CLI process checkpoints on commit like any writer, and `vacuum`
 * measures a file no worker is holding.
 */
import { Options } from "@effect/cli"
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Fs from "node:fs"
import * as Database from "../layers/Database.js"
import { pendingMigrations, requireKnownSchema } from "../layers/Migrations.js"
import type { SqliteInfo } from "../layers/Sqlite.js"
import { CliError } from "./CliErrors.js"
import * as CliOutput from "./CliOutput.js"
import { renameLocationError, resolveTarget, type Target } from "./CliTarget.js"
import * as ReadOnlySqlite from "./ReadOnlySqlite.js"

// What each flag means is written once, in help.ts (the only help the CLI prints).
export const dbOption = Options.text("db").pipe(Options.optional)

export const jsonOption = Options.boolean("json")

export const common = { db: dbOption, json: jsonOption }

export interface CommonFlags {
  readonly db: Option.Option<string>
  readonly json: boolean
}

export type CliDatabase = SqlClient.SqlClient | SqliteInfo

/**
 * How a command uses its database: `read` opens it read-only, `write` opens it to write, `create`
 * may also create the file (only `migrate`). Every access but `create` refuses a missing file, so
 * a typo never leaves an empty database behind.
 */
export type Access = "read" | "write" | "create"

/** Fails when the target is a local file that does not exist (and the command may not create it). */
const requireExisting = (target: Target) =>
  target.kind === "file" && !Fs.existsSync(target.location)
    ? Effect.fail(
      new CliError({ message: `no database at ${target.location}; check ${target.source} (or3-sqlite migrate creates a new one)` })
    )
    : Effect.void

/** The database layer of `target` for `access`. */
export const databaseLayer = (target: Target, access: Access): Layer.Layer<CliDatabase, unknown> => {
  const opened = access === "read" && target.kind === "file"
    ? ReadOnlySqlite.layer(target.location)
    : target.driver === "better-sqlite3"
    ? Database.layer({ driver: target.driver, path: target.kind === "unset" ? undefined : target.location, backgroundCheckpoint: false })
    : Database.layer({ driver: target.driver, path: target.given, backgroundCheckpoint: false })
  return Layer.unwrapEffect(
    Effect.as(access === "create" ? Effect.void : requireExisting(target), Layer.mapError(opened, renameLocationError(target)))
  )
}

/**
 * Runs `program(target)` with the command's database and output. A command that works on a local
 * database file only (backup, vacuum) names itself in `localFileOnly`: any other target is refused
 * before anything is opened.
 */
export const withDatabase = <A, E, R>(
  flags: CommonFlags,
  access: Access,
  program: (target: Target) => Effect.Effect<A, E, R>,
  localFileOnly?: string
) =>
  Effect.flatMap(resolveTarget(Option.getOrUndefined(flags.db)), (target) =>
    Effect.zipRight(
      localFileOnly === undefined ? Effect.void : requireLocalFile(target, localFileOnly),
      program(target).pipe(
        Effect.provide(Layer.merge(databaseLayer(target, access), CliOutput.layer({ json: flags.json })))
      )
    ))

/** Fails unless the database is at exactly the schema this version knows (no pending, no newer). */
export const requireCurrentSchema = Effect.gen(function*() {
  yield* requireKnownSchema()
  const pending = yield* pendingMigrations()
  if (pending.length > 0) {
    return yield* new CliError({
      message: `the database schema is behind (pending: ${pending.join(", ")}); run or3-sqlite migrate first`
    })
  }
})

/** Refuses a target a file-level command (backup, vacuum, restore) cannot work on. */
export const requireLocalFile = (target: Target, what: string) =>
  target.kind === "file"
    ? Effect.void
    : Effect.fail(
      new CliError({
        message: target.kind === "remote"
          ? `${what} works on a local database file; for a remote sqld/Turso primary use the server's own backups`
          : target.kind === "memory"
          ? `${what} works on a local database file, not an in-memory database`
          : `${what} needs a database: set OR3_SQLITE_DB_PATH or pass --db <path>`
      })
    )
