/**
 * The database layer an OR3 server or the CLI builds: better-sqlite3 (`Sqlite.layer`) or libSQL
 * (`Libsql.layer`), picked by `OR3_SQLITE_DRIVER`. Both give `SqlClient` and `SqliteInfo`, which
 * is all the services and the admin status need.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { ConfigInvalid } from "../schema/errors.js"
import type * as Libsql from "./Libsql.js"
import * as Sqlite from "./Sqlite.js"
import type { SqliteInfo } from "./Sqlite.js"
import type { SqliteOptions } from "./SqliteConfig.js"

export type Driver = "better-sqlite3" | "libsql"

/**
 * Accepted `OR3_SQLITE_DRIVER` spellings (contract section 7). `bun` and `d1` are drivers of other
 * OR3 SQLite providers and are refused with the same message as theirs.
 */
const driverNames: Record<string, Driver> = {
  "better-sqlite3": "better-sqlite3",
  better: "better-sqlite3",
  sqlite: "better-sqlite3",
  libsql: "libsql",
  turso: "libsql"
}

/** Resolves a driver name (case-insensitive); unset means better-sqlite3. */
export const parseDriver = (value: string | undefined): Effect.Effect<Driver, ConfigInvalid> => {
  if (value === undefined || value.trim() === "") return Effect.succeed("better-sqlite3")
  const driver = driverNames[value.trim().toLowerCase()]
  return driver === undefined
    ? Effect.fail(
      new ConfigInvalid({
        variable: "OR3_SQLITE_DRIVER",
        reason: `Unsupported OR3_SQLITE_DRIVER value "${value}"; use better-sqlite3 (default) or libsql`
      })
    )
    : Effect.succeed(driver)
}

/** `OR3_SQLITE_DRIVER`, resolved. */
export const driverFromEnv: Effect.Effect<Driver, ConfigInvalid> = Config.string("OR3_SQLITE_DRIVER").pipe(
  Config.option,
  Config.map(Option.getOrUndefined),
  Effect.mapError((error) => new ConfigInvalid({ variable: "OR3_SQLITE_DRIVER", reason: error.message })),
  Effect.flatMap(parseDriver)
)

export interface DatabaseOptions extends SqliteOptions {
  /** Overrides `OR3_SQLITE_DRIVER`. */
  readonly driver?: Driver | undefined
  /** libSQL only: overrides `OR3_SQLITE_LIBSQL_URL` and `OR3_SQLITE_LIBSQL_AUTH_TOKEN`. */
  readonly libsql?: Pick<Libsql.LibsqlOptions, "url" | "authToken"> | undefined
}

/**
 * SqlClient and SqliteInfo from the driver the options or `OR3_SQLITE_DRIVER` name. For libSQL a
 * `path` option (the CLI's `--db`) stands for `file:<path>` unless a URL is given.
 */
export const layer = (
  options: DatabaseOptions = {}
): Layer.Layer<SqlClient.SqlClient | SqliteInfo, ConfigInvalid> =>
  Layer.unwrapEffect(
    Effect.gen(function*() {
      const driver = options.driver ?? (yield* driverFromEnv)
      const { driver: _, libsql, path, ...rest } = options
      if (driver === "better-sqlite3") return Sqlite.layer({ ...rest, path })
      const url = libsql?.url ?? (path === undefined ? undefined : path.includes(":") ? path : `file:${path}`)
      // Loaded only when chosen: the libSQL client brings its HTTP and WebSocket stack.
      const { layer: libsqlLayer } = yield* Effect.promise(() => import("./Libsql.js"))
      return libsqlLayer({ ...rest, url, authToken: libsql?.authToken })
    })
  )
