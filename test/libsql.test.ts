/**
 * The libSQL layer: driver selection, write transactions that hold the write lock from BEGIN on,
 * per-connection pragmas on every connection the SDK opens, and an auth token that never shows.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Redacted } from "effect"
import * as ChildProcess from "node:child_process"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import * as DatabaseLayer from "../src/layers/Database.js"
import * as Libsql from "../src/layers/Libsql.js"
import { runMigrations } from "../src/layers/Migrations.js"
import { SqliteInfo } from "../src/layers/Sqlite.js"
import { ConfigInvalid } from "../src/schema/errors.js"
import { makeLogCapture, pragma, tempDir, withVariables } from "./helpers/foundation.js"

const lockProbe = fileURLToPath(new URL("./fixtures/try-write-lock.mjs", import.meta.url))

/** A libSQL client on `path`, open until the test's scope closes. */
const libsqlFile = (path: string) =>
  Effect.map(Layer.build(Libsql.layerUrl(`file:${path}`)), (context) => Context.get(context, SqlClient.SqlClient))

describe("OR3_SQLITE_DRIVER", () => {
  it.effect("accepts the contract's spellings and refuses the others by name", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* DatabaseLayer.parseDriver(undefined), "better-sqlite3")
      assert.strictEqual(yield* DatabaseLayer.parseDriver("better"), "better-sqlite3")
      assert.strictEqual(yield* DatabaseLayer.parseDriver("SQLite"), "better-sqlite3")
      assert.strictEqual(yield* DatabaseLayer.parseDriver("libsql"), "libsql")
      assert.strictEqual(yield* DatabaseLayer.parseDriver("turso"), "libsql")
      const error = yield* Effect.flip(DatabaseLayer.parseDriver("d1"))
      assert.instanceOf(error, ConfigInvalid)
      assert.strictEqual(error.variable, "OR3_SQLITE_DRIVER")
      assert.match(error.message, /Unsupported OR3_SQLITE_DRIVER value "d1"/)
    }))

  it.scoped("OR3_SQLITE_DRIVER=libsql with OR3_SQLITE_LIBSQL_URL opens the file through libSQL", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = Path.join(dir, "env.sqlite")
      const layer = DatabaseLayer.layer().pipe(
        Layer.provide(withVariables({ OR3_SQLITE_DRIVER: "libsql", OR3_SQLITE_LIBSQL_URL: `file:${path}` }))
      )
      const info = yield* Effect.provide(SqliteInfo, layer)
      assert.strictEqual(info.settings.path, path)
      assert.strictEqual(info.settings.synchronous, "FULL")
      // libSQL bundles its own SQLite, older than better-sqlite3's.
      assert.match(info.sqliteVersion, /^3\.\d+\.\d+$/)
    }))

  it.effect("libsql without a URL fails naming the variable", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Effect.provide(SqliteInfo, DatabaseLayer.layer().pipe(Layer.provide(withVariables({ OR3_SQLITE_DRIVER: "libsql" }))))
      )
      assert.instanceOf(error, ConfigInvalid)
      assert.strictEqual(error.variable, "OR3_SQLITE_LIBSQL_URL")
    }))
})

describe("libSQL write transactions", () => {
  it.scoped("hold the write lock from BEGIN on, before any write (BEGIN IMMEDIATE)", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = Path.join(dir, "lock.sqlite")
      const sql = yield* libsqlFile(path)
      yield* sql`CREATE TABLE t (x INTEGER)`
      // Another process: two SQLite copies in one process do not see each other's locks.
      const tryWrite = () =>
        ChildProcess.execFileSync(process.execPath, [lockProbe, path], { encoding: "utf8" }).trim()
      assert.strictEqual(tryWrite(), "free")
      // A transaction that has only read so far: a deferred BEGIN would leave the lock free.
      const during = yield* sql.withTransaction(Effect.zipRight(sql`SELECT count(*) AS n FROM t`, Effect.sync(tryWrite)))
      assert.strictEqual(during, "SQLITE_BUSY")
      assert.strictEqual(tryWrite(), "free")
    }))

  it.scoped("every connection the SDK opens gets busy_timeout, synchronous, foreign_keys and cache_size", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const sql = yield* libsqlFile(Path.join(dir, "pragmas.sqlite"))
      const read = Effect.all({
        busy: pragma("busy_timeout"),
        sync: pragma("synchronous"),
        fk: pragma("foreign_keys"),
        cache: pragma("cache_size"),
        journal: pragma("journal_mode")
      }).pipe(Effect.provideService(SqlClient.SqlClient, sql))
      const expected = { busy: 5000, sync: 2, fk: 1, cache: -16384, journal: "wal" }
      assert.deepStrictEqual(yield* read, expected)
      // The SDK gives its connection to the transaction and opens a new one afterwards.
      for (let i = 0; i < 3; i++) {
        yield* sql.withTransaction(sql`SELECT 1`)
        assert.deepStrictEqual(yield* read, expected)
        assert.deepStrictEqual(yield* sql.withTransaction(read), expected)
      }
    }))

  it.scoped("migrations and a rolled-back transaction behave as on better-sqlite3", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const sql = yield* libsqlFile(Path.join(dir, "migrate.sqlite"))
      const applied = yield* runMigrations().pipe(Effect.provideService(SqlClient.SqlClient, sql))
      assert.isAbove(applied.length, 0)
      const failed = yield* sql.withTransaction(
        Effect.zipRight(sql`INSERT INTO sync_heads (workspace_id, head) VALUES ('w', 1)`, Effect.fail("boom" as const))
      ).pipe(Effect.flip)
      assert.strictEqual(failed, "boom")
      const [row] = yield* sql<{ n: number }>`SELECT count(*) AS n FROM sync_heads`
      assert.strictEqual(row.n, 0)
    }))
})

describe("libSQL auth token", () => {
  it.scoped("is never logged nor shown, even when the server cannot be reached", () =>
    Effect.gen(function*() {
      const secret = "tok-SECRET-1234567890"
      const logs = makeLogCapture()
      // Loopback port 9 (discard): refused at once, nothing leaves the machine.
      const layer = Libsql.layer({ url: "http://127.0.0.1:9/db?authToken=x", authToken: Redacted.make(secret) }).pipe(
        Layer.provide(withVariables({ OR3_SQLITE_ALLOW_IN_MEMORY: "true" }))
      )
      const error = yield* Effect.flip(Effect.provide(SqliteInfo, layer).pipe(Effect.provide(logs.layer)))
      assert.instanceOf(error, ConfigInvalid)
      assert.notInclude(error.message, secret)
      assert.notInclude(JSON.stringify(logs.entries), secret)
    }))

  it.effect("OR3_SQLITE_LIBSQL_AUTH_TOKEN is read as a redacted value", () =>
    Effect.gen(function*() {
      const options = yield* Libsql.libsqlOptionsFromEnv.pipe(
        Effect.provide(withVariables({ OR3_SQLITE_TURSO_URL: "libsql://db.example", OR3_SQLITE_LIBSQL_AUTH_TOKEN: "tok" }))
      )
      assert.strictEqual(options.url, "libsql://db.example")
      assert.isTrue(Redacted.isRedacted(options.authToken))
      assert.notInclude(String(options.authToken), "tok")
      assert.notInclude(JSON.stringify(options), "tok")
    }))
})
