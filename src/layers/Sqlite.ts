/**
 * The SqlClient layer: one better-sqlite3 connection per database file per process, with the
 * pragmas applied, and write transactions that take the write lock before their first read.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import Database from "better-sqlite3"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as Path from "node:path"
import { ConfigInvalid } from "../schema/errors.js"
import * as BetterSqliteClient from "./BetterSqliteClient.js"
import { ensureDatabaseDir } from "./databaseDir.js"
import { JOURNAL_SIZE_LIMIT_BYTES, startCheckpointer, WRITER_CHECKPOINT_PAGES } from "./Checkpointer.js"
import {
  MEMORY_PATH,
  readSqliteOptionsFromEnv,
  resolveSqliteSettings,
  type SqliteOptions,
  type SqliteSettings
} from "./SqliteConfig.js"

/** What the connection runs on, for the admin status and the CLI. */
export interface SqliteInfoShape {
  /** The SQLite binding the connection runs on. */
  readonly driver: "better-sqlite3" | "libsql"
  readonly settings: SqliteSettings
  readonly sqliteVersion: string
}

export class SqliteInfo extends Context.Tag("or3-provider-sqlite/layers/SqliteInfo")<SqliteInfo, SqliteInfoShape>() {}

/**
 * The connection's page cache, in KiB (SQLite's default is 2 MiB). A push inserts into two indexes
 * on random keys (opIds, pks); at a million entries their pages no longer fit in 2 MiB and each
 * batch re-reads ~200 of them from the OS. With 16 MiB, push p50 at 1M rows was 1.22x of p50 at
 * 10k instead of 1.38x (bench:scale), and RSS did not move measurably.
 */
export const PAGE_CACHE_KIB = 16 * 1024

/**
 * The pragmas every local connection gets, on better-sqlite3 and libSQL alike. Values come from
 * allow-lists (SqliteConfig), never from raw input.
 */
export const connectionPragmas = (settings: SqliteSettings): ReadonlyArray<string> => [
  `PRAGMA busy_timeout = ${settings.busyTimeoutMs}`,
  `PRAGMA synchronous = ${settings.synchronous}`,
  "PRAGMA foreign_keys = ON",
  `PRAGMA cache_size = -${PAGE_CACHE_KIB}`
]

/** SQLite releases before this one can corrupt a WAL database when the WAL is reset. */
export const MIN_SAFE_WAL_VERSION = "3.51.3"

const versionNumber = (version: string) =>
  version.split(".").reduce((acc, part, i) => acc + Number(part) * 1000 ** (2 - i), 0)

export const isSqliteVersionBefore = (version: string, minimum: string) =>
  versionNumber(version) < versionNumber(minimum)

interface OpenClient {
  readonly sql: SqlClient.SqlClient
  readonly info: SqliteInfoShape
}

/**
 * Opens the connection and wraps it in the SqlClient of `BetterSqliteClient.ts`, whose
 * transactions begin with `BEGIN IMMEDIATE`: a deferred `BEGIN` (the upstream driver's) lets a
 * transaction that reads and then writes meet a concurrent writer on another connection (a CLI, a
 * second process) with SQLITE_BUSY_SNAPSHOT, which busy_timeout does not retry. Taking the lock
 * first makes the writer wait its turn instead. No other client is made on the connection, so
 * nothing can open a deferred transaction on it.
 */
const openClient = (settings: SqliteSettings): Effect.Effect<OpenClient, ConfigInvalid, Scope.Scope> =>
  Effect.gen(function*() {
    if (!settings.inMemory) yield* ensureDatabaseDir(settings.path, "OR3_SQLITE_DB_PATH")
    const db = yield* Effect.acquireRelease(
      Effect.try(() => new Database(settings.path)),
      (db) => Effect.sync(() => db.close())
    )
    const sql = yield* BetterSqliteClient.make(db).pipe(Effect.provideService(Reactivity.Reactivity, yield* Reactivity.make))

    // Values come from allow-lists (SqliteConfig), never from raw input.
    for (const pragma of connectionPragmas(settings)) yield* sql.unsafe(pragma)
    yield* sql.unsafe(`PRAGMA journal_mode = ${settings.journalMode}`)
    // A worker that cannot start leaves the writer's auto-checkpoint at SQLite's default mark.
    const backgroundCheckpoint = settings.backgroundCheckpoint && (yield* startCheckpointer({ path: settings.path }))
    if (backgroundCheckpoint) {
      yield* sql.unsafe(`PRAGMA wal_autocheckpoint = ${WRITER_CHECKPOINT_PAGES}`)
      yield* sql.unsafe(`PRAGMA journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`)
    }
    const [{ version }] = yield* sql<{ version: string }>`SELECT sqlite_version() AS version`
    return {
      sql,
      info: { driver: "better-sqlite3" as const, settings: { ...settings, backgroundCheckpoint }, sqliteVersion: version }
    }
  }).pipe(
    // A path that cannot be opened as a database (not a SQLite file, no permission) is the
    // operator's to fix: say which variable and why, instead of failing with a stack trace.
    Effect.catchAllCause((cause) =>
      Effect.fail(
        new ConfigInvalid({
          variable: "OR3_SQLITE_DB_PATH",
          reason: `cannot open ${settings.path} as a SQLite database: ${causeMessage(cause)}`
        })
      )
    )
  )

const causeMessage = (cause: Cause.Cause<unknown>): string => {
  const failure = Cause.squash(cause) as { message?: unknown; cause?: { message?: unknown } }
  return String(failure?.cause?.message ?? failure?.message ?? failure)
}

interface Shared {
  readonly client: OpenClient
  readonly scope: Scope.CloseableScope
  refs: number
}

/** Open file clients of this process, by absolute path (kept across module reloads in dev). */
const registry: Map<string, Shared> = ((globalThis as any)[Symbol.for("or3-provider-sqlite/clients")] ??= new Map())
const registryLock = Effect.unsafeMakeSemaphore(1)

/**
 * A file database is opened once per process: a second layer for the same path (a dev reload, a
 * CLI command inside the server process) shares the open connection, and the last one to go
 * closes it. In-memory databases are private to their layer.
 */
const acquireClient = (settings: SqliteSettings): Effect.Effect<OpenClient, ConfigInvalid, Scope.Scope> => {
  if (settings.inMemory) return openClient(settings)
  const key = Path.resolve(settings.path)
  return Effect.acquireRelease(
    registryLock.withPermits(1)(
      Effect.gen(function*() {
        const existing = registry.get(key)
        if (existing) {
          const first = existing.client.info.settings
          if (first.synchronous !== settings.synchronous || first.busyTimeoutMs !== settings.busyTimeoutMs) {
            yield* Effect.logWarning(
              `${key} is already open in this process; its settings (synchronous=${first.synchronous}, busy_timeout=${first.busyTimeoutMs}) stay in force`
            )
          }
          existing.refs++
          return existing
        }
        const scope = yield* Scope.make()
        const client = yield* openClient({ ...settings, path: key }).pipe(
          Scope.extend(scope),
          Effect.onError((cause) => Scope.close(scope, Exit.failCause(cause)))
        )
        const shared: Shared = { client, scope, refs: 1 }
        registry.set(key, shared)
        return shared
      })
    ),
    (shared) =>
      registryLock.withPermits(1)(
        Effect.suspend(() => {
          shared.refs--
          if (shared.refs > 0) return Effect.void
          registry.delete(key)
          return Scope.close(shared.scope, Exit.void)
        })
      )
  ).pipe(Effect.map((shared) => shared.client))
}

/**
 * Logs the SQLite version once per layer, and warns when it is older than `MIN_SAFE_WAL_VERSION`
 * with WAL. Exported so the warning can be tested: the bundled library is newer than that release.
 */
export const logStart = (info: SqliteInfoShape) =>
  Effect.gen(function*() {
    const { settings, sqliteVersion } = info
    yield* Effect.logInfo(
      `SQLite ${sqliteVersion} at ${settings.path} (journal_mode=${settings.journalMode}, synchronous=${settings.synchronous})`
    )
    if (settings.journalMode === "WAL" && isSqliteVersionBefore(sqliteVersion, MIN_SAFE_WAL_VERSION)) {
      yield* Effect.logWarning(
        `SQLite ${sqliteVersion} is older than ${MIN_SAFE_WAL_VERSION}, which fixes a WAL-reset corruption bug; ${
          info.driver === "libsql"
            ? "libSQL bundles this SQLite: use the better-sqlite3 driver (OR3_SQLITE_DRIVER=better-sqlite3) or another journal mode (OR3_SQLITE_PRAGMA_JOURNAL_MODE)"
            : "upgrade better-sqlite3 or use another journal mode (OR3_SQLITE_PRAGMA_JOURNAL_MODE)"
        }`
      )
    }
  })

const makeContext = (settings: SqliteSettings) =>
  Effect.gen(function*() {
    const client = yield* acquireClient(settings)
    yield* logStart(client.info)
    return Context.make(SqlClient.SqlClient, client.sql).pipe(Context.add(SqliteInfo, client.info))
  }).pipe(Effect.annotateLogs("package", "or3-sqlite"))

export type SqliteServices = SqlClient.SqlClient | SqliteInfo

/** The SqlClient from explicit options (each unset option falls back to its variable). */
export const layer = (overrides: SqliteOptions = {}): Layer.Layer<SqliteServices, ConfigInvalid> =>
  Layer.scopedContext(
    Effect.gen(function*() {
      const fromEnv = yield* readSqliteOptionsFromEnv
      const given = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined))
      const settings = yield* resolveSqliteSettings({ ...fromEnv, ...given })
      return yield* makeContext(settings)
    })
  )

/** A private in-memory database, for tests. */
export const layerMemory: Layer.Layer<SqliteServices> = Layer.scopedContext(
  makeContext({
    path: MEMORY_PATH,
    inMemory: true,
    journalMode: "MEMORY",
    synchronous: "FULL",
    busyTimeoutMs: 5000,
    backgroundCheckpoint: false
  })
).pipe(Layer.orDie)

/** A database file at `path` with the package defaults (WAL, FULL), for tests and tools. */
export const layerFile = (
  path: string,
  options: {
    readonly synchronous?: SqliteSettings["synchronous"]
    readonly busyTimeoutMs?: number
    readonly backgroundCheckpoint?: boolean
  } = {}
): Layer.Layer<SqliteServices> =>
  Layer.scopedContext(
    makeContext({
      path,
      inMemory: false,
      journalMode: "WAL",
      synchronous: options.synchronous ?? "FULL",
      busyTimeoutMs: options.busyTimeoutMs ?? 5000,
      backgroundCheckpoint: options.backgroundCheckpoint ?? true
    })
  ).pipe(Layer.orDie)
