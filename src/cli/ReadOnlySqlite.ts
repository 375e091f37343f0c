/**
 * A read-only connection to a local database file, for the commands that only read (`status`,
 * `verify`, `migrate --dry-run`, `npm run inspect`, the source of `backup`, the checks of `restore`).
 *
 * Read-only by construction: the file is opened `SQLITE_OPEN_READONLY` through better-sqlite3 (a
 * second process may read a file another driver writes), no journal mode is set, nothing is
 * migrated, no checkpoint worker runs. Only per-connection settings are applied (busy timeout,
 * synchronous, cache size), which change nothing on disk.
 *
 * Two cases need care, both in WAL mode (file header bytes 18-19 = 2):
 * - Reading a WAL file needs its `-wal` and `-shm` files. In a folder this process may not write,
 *   with no `-wal` present (the file was closed cleanly, so nobody has it open), SQLite cannot
 *   create them and the open fails: the file is then opened `immutable=1` (no locks, no WAL), which
 *   is exact for a file nobody writes.
 *   SQLite reads a `file:` name as a URI only when URI names were turned on before it started:
 *   better-sqlite3 reads `SQLITE_USE_URI` once, when its native addon loads (at the process's
 *   first open). Every open here sets it first; a process that opened a database before (without
 *   it) is refused with `ConfigInvalid` naming `SQLITE_USE_URI`, instead of a bare "unable to open".
 * - A read-only connection cannot remove the `-wal`/`-shm` files it had SQLite create. When they
 *   did not exist before, they are removed afterwards the way SQLite does it: a plain connection
 *   reads once and closes; being the last connection, it deletes both (an empty WAL is checkpointed
 *   without writing a byte of the database). If another process opened the file meanwhile, SQLite
 *   sees it and leaves them alone.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import * as NodeSqlite from "@effect/sql-sqlite-node/SqliteClient"
import BetterSqlite3 from "better-sqlite3"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { pathToFileURL } from "node:url"
import { connectionPragmas, SqliteInfo } from "../layers/Sqlite.js"
import { readSqliteOptionsFromEnv, resolveSqliteSettings } from "../layers/SqliteConfig.js"
import { ConfigInvalid } from "../schema/errors.js"

/** The journal mode a file's header records: WAL (2), or a rollback journal (1, or a new file). */
const headerSaysWal = (path: string): boolean => {
  const header = Buffer.alloc(20)
  const fd = Fs.openSync(path, "r")
  try {
    return Fs.readSync(fd, header, 0, 20, 0) === 20 && header[18] === 2 && header[19] === 2
  } finally {
    Fs.closeSync(fd)
  }
}

const writable = (path: string) => {
  try {
    Fs.accessSync(path, Fs.constants.W_OK)
    return true
  } catch {
    return false
  }
}

/** How to open `path` read-only, and what to tidy after the last read-only connection closed. */
export interface ReadOnlyOpen {
  /** A path, or a `file:` URI with `immutable=1` (needs URI names, see `uriNames`). */
  readonly filename: string
  /** True when `filename` is the `immutable=1` URI (a WAL file no process can have open). */
  readonly immutable: boolean
  readonly wal: boolean
  /** Removes the `-wal`/`-shm` files this read created, if SQLite agrees nobody else uses them. */
  readonly tidy: () => void
}

export const planReadOnly = (path: string): ReadOnlyOpen => {
  const wal = headerSaysWal(path)
  const hadWal = Fs.existsSync(`${path}-wal`)
  const hadShm = Fs.existsSync(`${path}-shm`)
  const immutable = wal && !hadWal && !writable(Path.dirname(path))
  return {
    filename: immutable ? `${pathToFileURL(path).href}?immutable=1` : path,
    immutable,
    wal,
    tidy: () => {
      if (!wal || hadWal || hadShm || !writable(path)) return
      if (!Fs.existsSync(`${path}-wal`) && !Fs.existsSync(`${path}-shm`)) return
      try {
        const db = new BetterSqlite3(path, { fileMustExist: true, timeout: 0 })
        try {
          db.prepare("SELECT count(*) FROM sqlite_master").get()
        } finally {
          db.close()
        }
      } catch {
        // Someone else holds the file: the files are theirs now.
      }
    }
  }
}

/**
 * Asks for URI names, which takes effect only if the driver's addon has not loaded yet in this
 * process: set before every open, so that the first one loads it with them.
 */
const askForUriNames = () => {
  process.env.SQLITE_USE_URI ??= "1"
}

/**
 * Whether SQLite in this process reads `file:` names as URIs. The probe opens an anonymous
 * in-memory database read-only; without URI names that is a file that does not exist, and a
 * read-only open never creates one.
 */
const uriNames = (): boolean => {
  try {
    new BetterSqlite3("file:?mode=memory", { readonly: true }).close()
    return true
  } catch {
    return false
  }
}

/** SqlClient and SqliteInfo over `path`, read-only; the settings come from `OR3_SQLITE_*`. */
export const layer = (path: string): Layer.Layer<SqlClient.SqlClient | SqliteInfo, ConfigInvalid> =>
  Layer.scopedContext(
    Effect.gen(function*() {
      const settings = yield* resolveSqliteSettings({ ...(yield* readSqliteOptionsFromEnv), path })
      const plan = yield* Effect.try({
        try: () => planReadOnly(path),
        catch: (cause) => new ConfigInvalid({ variable: "OR3_SQLITE_DB_PATH", reason: `cannot read ${path}: ${(cause as Error).message}` })
      })
      askForUriNames()
      if (plan.immutable && !uriNames()) {
        return yield* new ConfigInvalid({
          variable: "SQLITE_USE_URI",
          reason: `cannot open ${path} read-only: it is a WAL database with no -wal file, in a folder this process cannot ` +
            "write, which SQLite reads only through a file: URI with immutable=1, and URI names are off here " +
            "(better-sqlite3 was loaded before SQLITE_USE_URI=1 was set, or it is 0). Run the or3-sqlite CLI, or set " +
            "SQLITE_USE_URI=1 before the process opens its first database"
        })
      }
      // Registered first, so it runs after the connection's own finalizer closed it.
      yield* Effect.addFinalizer(() => Effect.sync(plan.tidy))
      const sql = yield* NodeSqlite.make({ filename: plan.filename, readonly: true, disableWAL: true }).pipe(
        Effect.provide(Reactivity.layer)
      )
      for (const pragma of connectionPragmas(settings)) yield* sql.unsafe(pragma)
      const [{ version }] = yield* sql<{ version: string }>`SELECT sqlite_version() AS version`
      const info = {
        driver: "better-sqlite3" as const,
        settings: { ...settings, journalMode: plan.wal ? "WAL" as const : "DELETE" as const, backgroundCheckpoint: false },
        sqliteVersion: version
      }
      return Context.make(SqlClient.SqlClient, sql).pipe(Context.add(SqliteInfo, info))
    }).pipe(
      Effect.catchAll((error) =>
        Effect.fail(
          error instanceof ConfigInvalid
            ? error
            : new ConfigInvalid({
              variable: "OR3_SQLITE_DB_PATH",
              reason: `cannot open ${path} read-only as a SQLite database: ${
                String((error as { cause?: { message?: unknown } }).cause?.message ?? (error as Error).message)
              }`
            })
        )
      )
    )
  )
