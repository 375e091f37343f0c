/**
 * The SqlClient over libSQL (`@effect/sql-libsql`): a local `file:` database through the libsql
 * native driver, or a remote sqld / Turso primary (`libsql:`, `https:`, `wss:`). The services
 * depend only on `SqlClient`, so they run unchanged on it.
 *
 * Write transactions: `@effect/sql-libsql` begins every `withTransaction` with the SDK's
 * `transaction("write")`, which is `BEGIN IMMEDIATE`, so the write-lock rule of the SQLite layer
 * holds here too (test/libsql.test.ts shows the lock is held from BEGIN on).
 *
 * Connections: for `file:` URLs the SDK hands its connection to each transaction and opens a new
 * one for the statements that follow. Per-connection pragmas (`busy_timeout`, `synchronous`,
 * `foreign_keys`) would silently fall back to SQLite's defaults on that new connection (no busy
 * timeout at all, foreign keys off), so `withConnectionPragmas` applies them to every connection
 * the SDK opens, before its first statement. A remote server keeps its own settings.
 *
 * The driver packages (`@effect/sql-libsql`, `@libsql/client` with its native binaries) are
 * optional peer dependencies: they are loaded when a libSQL layer is built, so an app on
 * better-sqlite3 neither installs nor loads them, and this module (imported by the CLI for
 * `parseLibsqlUrl`) loads without them.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import type * as LibsqlClient from "@effect/sql-libsql/LibsqlClient"
import type * as Libsql from "@libsql/client"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { fileURLToPath } from "node:url"
import { ConfigInvalid } from "../schema/errors.js"
import { ensureDatabaseDir } from "./databaseDir.js"
import { connectionPragmas, logStart, SqliteInfo, type SqliteInfoShape } from "./Sqlite.js"
import { optionalString, readSqliteOptionsFromEnv, resolveSqliteSettings, type SqliteOptions } from "./SqliteConfig.js"

/** libSQL settings as given; every unset one falls back to its variable. */
export interface LibsqlOptions extends Omit<SqliteOptions, "path"> {
  /** `file:/path/db.sqlite`, `libsql://db.turso.io`, `https://...`, `wss://...`. */
  readonly url?: string | undefined
  /** Server-only: never logged, never part of `SqliteInfo`. */
  readonly authToken?: Redacted.Redacted<string> | undefined
}

const optionalRedacted = (name: string) =>
  Config.redacted(name).pipe(
    Config.option,
    Config.map(Option.filter((value) => Redacted.value(value).trim() !== "")),
    Config.map(Option.getOrUndefined)
  )

/**
 * `OR3_SQLITE_LIBSQL_URL` / `OR3_SQLITE_LIBSQL_AUTH_TOKEN`; the contract's names for the same
 * settings (`OR3_SQLITE_TURSO_URL` / `OR3_SQLITE_TURSO_AUTH_TOKEN`) are read when those are unset.
 */
export const libsqlOptionsFromEnv = Config.all({
  url: Config.all([optionalString("OR3_SQLITE_LIBSQL_URL"), optionalString("OR3_SQLITE_TURSO_URL")]).pipe(
    Config.map(([url, turso]) => url ?? turso)
  ),
  authToken: Config.all([
    optionalRedacted("OR3_SQLITE_LIBSQL_AUTH_TOKEN"),
    optionalRedacted("OR3_SQLITE_TURSO_AUTH_TOKEN")
  ]).pipe(Config.map(([token, turso]) => token ?? turso))
})

/** Where a URL points: a local file (its path), memory, or a remote server. */
export type LibsqlTarget =
  | { readonly _tag: "File"; readonly path: string }
  | { readonly _tag: "Memory" }
  | { readonly _tag: "Remote"; readonly display: string }

export const parseLibsqlUrl = (url: string): Effect.Effect<LibsqlTarget, ConfigInvalid> => {
  const invalid = (reason: string) => new ConfigInvalid({ variable: "OR3_SQLITE_LIBSQL_URL", reason })
  const trimmed = url.trim()
  if (trimmed === ":memory:" || trimmed === "file::memory:") return Effect.succeed({ _tag: "Memory" })
  if (trimmed.startsWith("file:")) {
    // `file:relative/path.db` (what the SDK accepts) and `file:///abs/path.db` both name a file.
    const rest = trimmed.slice("file:".length).split("?")[0]
    const path = rest.startsWith("//") ? fileURLToPath(trimmed.split("?")[0]) : rest
    return path === "" ? Effect.fail(invalid("a file: URL needs a path")) : Effect.succeed({ _tag: "File", path })
  }
  return Effect.try({
    try: () => new URL(trimmed),
    catch: () => invalid(`"${trimmed}" is not a URL (file:, libsql:, http(s): or ws(s):)`)
  }).pipe(
    Effect.filterOrFail(
      (parsed) => ["libsql:", "http:", "https:", "ws:", "wss:"].includes(parsed.protocol),
      (parsed) => invalid(`unsupported scheme ${parsed.protocol}; use file:, libsql:, http(s): or ws(s):`)
    ),
    // What logs and the admin page may show: no credentials, no query string.
    Effect.map((parsed) => ({ _tag: "Remote" as const, display: `${parsed.protocol}//${parsed.host}${parsed.pathname}` }))
  )
}

/**
 * Wraps an SDK client so that every connection it opens gets `pragmas` before its first
 * statement. The SDK opens a connection lazily after each `transaction()` (the old one now
 * belongs to the transaction); the pragmas run synchronously inside that first call (the local
 * driver is synchronous), so no other statement can slip in between.
 */
export const withConnectionPragmas = (client: Libsql.Client, pragmas: ReadonlyArray<string>): Libsql.Client => {
  if (pragmas.length === 0) return client
  let fresh = true
  const prepare = () => {
    if (!fresh) return Promise.resolve()
    fresh = false
    return Promise.all(pragmas.map((pragma) => client.execute(pragma))).then(() => undefined)
  }
  return new Proxy(client, {
    get(target, property, receiver) {
      switch (property) {
        case "execute":
        case "batch":
        case "executeMultiple":
        case "migrate":
          return (...args: Array<any>) => {
            const ready = prepare()
            const result = (target as any)[property](...args)
            return ready.then(() => result)
          }
        case "transaction":
          return (...args: Array<any>) => {
            const ready = prepare()
            const result = (target as any).transaction(...args)
            fresh = true
            return ready.then(() => result)
          }
        default: {
          const value = Reflect.get(target, property, receiver)
          return typeof value === "function" ? value.bind(target) : value
        }
      }
    }
  })
}

/** What to install for the libSQL driver (package.json `peerDependencies`, kept in step by a test). */
const driverPackages = ["@effect/sql-libsql@0.42.0", "@libsql/client@0.12.0"] as const

const loadDriver = Effect.tryPromise({
  try: () => Promise.all([import("@effect/sql-libsql/LibsqlClient"), import("@libsql/client")]),
  catch: (cause) =>
    new ConfigInvalid({
      variable: "OR3_SQLITE_DRIVER",
      reason: `libsql needs the optional packages ${driverPackages.join(" and ")} (npm install ${
        driverPackages.join(" ")
      }): ${(cause as Error)?.message ?? String(cause)}`
    })
})

const makeContext = (options: LibsqlOptions) =>
  Effect.gen(function*() {
    const [EffectLibsql, LibsqlSdk] = yield* loadDriver
    const fromEnv = yield* readSqliteOptionsFromEnv
    const env = yield* Effect.mapError(libsqlOptionsFromEnv, (error) =>
      new ConfigInvalid({ variable: "OR3_SQLITE_LIBSQL_URL", reason: error.message }))
    const url = options.url ?? env.url
    const authToken = options.authToken ?? env.authToken
    if (url === undefined) {
      return yield* new ConfigInvalid({
        variable: "OR3_SQLITE_LIBSQL_URL",
        reason: "is required with OR3_SQLITE_DRIVER=libsql; use file:/path/or3.sqlite, or libsql://<db>.turso.io"
      })
    }
    const target = yield* parseLibsqlUrl(url)
    const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined))
    const settings = yield* resolveSqliteSettings({
      ...fromEnv,
      ...given,
      path: target._tag === "File" ? target.path : target._tag === "Memory" ? ":memory:" : target.display
    })
    if (target._tag === "File") yield* ensureDatabaseDir(target.path, "OR3_SQLITE_LIBSQL_URL")

    const local = target._tag !== "Remote"
    const sdk = yield* Effect.acquireRelease(
      Effect.try({
        try: () =>
          LibsqlSdk.createClient({
            url: target._tag === "File" ? `file:${target.path}` : url,
            ...(authToken === undefined ? {} : { authToken: Redacted.value(authToken) }),
            intMode: "number"
          }),
        catch: (cause) =>
          new ConfigInvalid({
            variable: "OR3_SQLITE_LIBSQL_URL",
            reason: `cannot open ${settings.path}: ${(cause as Error)?.message ?? String(cause)}`
          })
      }),
      (client) => Effect.sync(() => client.close())
    )
    const pragmas = local ? connectionPragmas(settings) : []
    const client = yield* EffectLibsql.make({ liveClient: withConnectionPragmas(sdk, pragmas) }).pipe(
      Effect.provide(Reactivity.layer)
    )
    const sql: SqlClient.SqlClient = client
    if (target._tag === "File") yield* sql.unsafe(`PRAGMA journal_mode = ${settings.journalMode}`)
    const [{ version }] = yield* sql<{ version: string }>`SELECT sqlite_version() AS version`
    // The worker-thread checkpointer belongs to the better-sqlite3 layer; libSQL checkpoints on commit.
    const info: SqliteInfoShape = { driver: "libsql", settings: { ...settings, backgroundCheckpoint: false }, sqliteVersion: version }
    yield* logStart(info)
    return Context.make(SqlClient.SqlClient, sql).pipe(
      Context.add(EffectLibsql.LibsqlClient, client),
      Context.add(SqliteInfo, info)
    )
  }).pipe(
    Effect.catchTag("SqlError", (error) =>
      new ConfigInvalid({
        variable: "OR3_SQLITE_LIBSQL_URL",
        reason: `the database could not be opened: ${String((error.cause as Error)?.message ?? error.message)}`
      })),
    Effect.annotateLogs("package", "or3-sqlite")
  )

export type LibsqlServices = SqlClient.SqlClient | LibsqlClient.LibsqlClient | SqliteInfo

/** The SqlClient over libSQL from explicit options (each unset one falls back to its variable). */
export const layer = (options: LibsqlOptions = {}): Layer.Layer<LibsqlServices, ConfigInvalid> =>
  Layer.scopedContext(makeContext(options))

/** A libSQL database at `url` with the package defaults (WAL, FULL), for tests and tools. */
export const layerUrl = (url: string, options: Omit<LibsqlOptions, "url"> = {}): Layer.Layer<LibsqlServices> =>
  Layer.scopedContext(makeContext({ ...options, url, isTest: true })).pipe(Layer.orDie)
