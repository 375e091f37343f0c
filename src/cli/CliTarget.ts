/**
 * Which database a command works on, and which setting named it: `--db` (or the `inspect`
 * argument), `OR3_SQLITE_DB_PATH`, or, with `OR3_SQLITE_DRIVER=libsql`, `OR3_SQLITE_LIBSQL_URL` /
 * `OR3_SQLITE_TURSO_URL`. Messages name the setting that was actually used, so an operator who
 * typed `--db` is not told to check a variable they never set.
 */
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import { type Driver, driverFromEnv } from "../layers/Database.js"
import { MEMORY_PATH, optionalString } from "../layers/SqliteConfig.js"
import { ConfigInvalid } from "../schema/errors.js"

export type TargetKind =
  /** A local database file (better-sqlite3, or a libSQL `file:` URL). */
  | "file"
  /** A libSQL server (sqld, Turso). */
  | "remote"
  | "memory"
  /** Nothing set: the layer reports what is required. */
  | "unset"

export interface Target {
  readonly driver: Driver
  readonly kind: TargetKind
  /** The file path, the URL (as given, for the driver), or "" when unset. */
  readonly location: string
  /** The setting that named it: `--db`, `OR3_SQLITE_DB_PATH`, `OR3_SQLITE_LIBSQL_URL`, ... */
  readonly source: string
  /** A path or URL given explicitly (`--db`), which the layer must use over the variables. */
  readonly given: string | undefined
}

/** An optional variable, trimmed. */
const variable = (name: string) =>
  optionalString(name).pipe(
    Config.map((value) => value?.trim()),
    Effect.mapError((error) => new ConfigInvalid({ variable: name, reason: error.message }))
  )

/**
 * Resolves the database of a command from `given` (the `--db` flag, named `flag` in messages) and
 * the variables. With libSQL a given path stands for `file:<path>`.
 */
export const resolveTarget = (given: string | undefined, flag = "--db"): Effect.Effect<Target, ConfigInvalid> =>
  Effect.gen(function*() {
    const driver = yield* driverFromEnv
    if (driver === "better-sqlite3") {
      const fromEnv = yield* variable("OR3_SQLITE_DB_PATH")
      const location = given ?? fromEnv
      const source = given === undefined ? "OR3_SQLITE_DB_PATH" : flag
      if (location === undefined) return { driver, kind: "unset", location: "", source, given }
      return { driver, kind: location === MEMORY_PATH ? "memory" : "file", location, source, given }
    }
    const libsqlUrl = yield* variable("OR3_SQLITE_LIBSQL_URL")
    const tursoUrl = yield* variable("OR3_SQLITE_TURSO_URL")
    const [url, source] = given !== undefined
      ? [given.includes(":") ? given : `file:${given}`, flag]
      : libsqlUrl !== undefined
      ? [libsqlUrl, "OR3_SQLITE_LIBSQL_URL"]
      : [tursoUrl, "OR3_SQLITE_TURSO_URL"]
    if (url === undefined) return { driver, kind: "unset", location: "", source: "OR3_SQLITE_LIBSQL_URL", given }
    // Libsql.js loads the libSQL client: only when it is the driver.
    const { parseLibsqlUrl } = yield* Effect.promise(() => import("../layers/Libsql.js"))
    const parsed = yield* Effect.mapError(parseLibsqlUrl(url), (error) => new ConfigInvalid({ variable: source, reason: error.reason }))
    return parsed._tag === "File"
      ? { driver, kind: "file", location: parsed.path, source, given }
      : parsed._tag === "Memory"
      ? { driver, kind: "memory", location: MEMORY_PATH, source, given }
      : { driver, kind: "remote", location: url, source, given }
  })

/** Variables whose errors are really about the target, and so belong to whatever named it. */
const locationVariables = new Set(["OR3_SQLITE_DB_PATH", "OR3_SQLITE_LIBSQL_URL", "OR3_SQLITE_TURSO_URL"])

/** A `ConfigInvalid` about the database location, re-addressed to the setting that was used. */
export const renameLocationError = (target: Target) => (error: unknown): unknown =>
  error instanceof ConfigInvalid && locationVariables.has(error.variable) && error.variable !== target.source &&
    target.kind !== "unset"
    ? new ConfigInvalid({ variable: target.source, reason: error.reason })
    : error
