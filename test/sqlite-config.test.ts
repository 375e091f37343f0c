/**
 * Start-up rules of the SQLite layer, exercised through the public `Sqlite.layer(options)` with the
 * `OR3_SQLITE_*` variables fed by a ConfigProvider.
 */
import { assert, describe, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Sqlite from "../src/layers/Sqlite.js"
import type { SqliteOptions } from "../src/layers/SqliteConfig.js"
import { ConfigInvalid } from "../src/schema/errors.js"
import { makeLogCapture, pragma, tempDir, withVariables } from "./helpers/foundation.js"

const sqliteLayer = (variables: Record<string, string>, options: SqliteOptions = {}) =>
  Sqlite.layer(options).pipe(Layer.provide(withVariables(variables)))

/** The layer's start-up error, when it fails with one. */
const startupError = (variables: Record<string, string>, options: SqliteOptions = {}) =>
  Effect.flip(Effect.scoped(Layer.build(sqliteLayer(variables, options))))

const assertInvalid = (error: unknown, variable: string) => {
  assert.instanceOf(error, ConfigInvalid)
  const invalid = error as ConfigInvalid
  assert.strictEqual(invalid.variable, variable)
  assert.include(invalid.message, variable)
}

describe("strict mode", () => {
  it.effect("a missing path fails naming OR3_SQLITE_DB_PATH (variables and options)", () =>
    Effect.gen(function*() {
      assertInvalid(yield* startupError({ OR3_SQLITE_STRICT: "true" }), "OR3_SQLITE_DB_PATH")
      assertInvalid(yield* startupError({ OR3_SQLITE_STRICT: "true", VITEST: "true" }), "OR3_SQLITE_DB_PATH")
      assertInvalid(yield* startupError({}, { strict: true }), "OR3_SQLITE_DB_PATH")
      assertInvalid(yield* startupError({}, { strict: true, path: "   " }), "OR3_SQLITE_DB_PATH")
    }))

  it.effect(":memory: fails naming OR3_SQLITE_STRICT, even under a test runner", () =>
    Effect.gen(function*() {
      const memory = { OR3_SQLITE_STRICT: "true", OR3_SQLITE_DB_PATH: ":memory:" }
      assertInvalid(yield* startupError(memory), "OR3_SQLITE_STRICT")
      assertInvalid(yield* startupError({ ...memory, VITEST: "true" }), "OR3_SQLITE_STRICT")
      assertInvalid(yield* startupError({ ...memory, OR3_SQLITE_ALLOW_IN_MEMORY: "true" }), "OR3_SQLITE_STRICT")
      assertInvalid(yield* startupError({}, { strict: true, path: ":memory:" }), "OR3_SQLITE_STRICT")
    }))

  it.scoped("a file path starts", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = Path.join(dir, "strict.sqlite")
      const info = yield* Effect.provide(Sqlite.SqliteInfo, sqliteLayer({ OR3_SQLITE_STRICT: "true", OR3_SQLITE_DB_PATH: path }))
      assert.strictEqual(info.settings.path, path)
      assert.isFalse(info.settings.inMemory)
    }))
})

describe("a path that is not a database", () => {
  it.scoped("fails naming OR3_SQLITE_DB_PATH and saying why, and opens nothing", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const notDatabase = Path.join(dir, "notes.txt")
      Fs.writeFileSync(notDatabase, "this is not a SQLite database, just some text long enough to read".repeat(20))
      const error = yield* startupError({ OR3_SQLITE_DB_PATH: notDatabase })
      assertInvalid(error, "OR3_SQLITE_DB_PATH")
      assert.match((error as ConfigInvalid).message, /cannot open .*notes\.txt as a SQLite database: .*not a database/)
      // Nothing stayed open: the same path fails the same way, it is not served from the registry.
      assertInvalid(yield* startupError({ OR3_SQLITE_DB_PATH: notDatabase }), "OR3_SQLITE_DB_PATH")
    }))
})

describe("in-memory outside tests", () => {
  it.effect("without a path fails unless OR3_SQLITE_ALLOW_IN_MEMORY=true", () =>
    Effect.gen(function*() {
      const error = yield* startupError({})
      assertInvalid(error, "OR3_SQLITE_DB_PATH")
      assert.include((error as ConfigInvalid).message, "OR3_SQLITE_ALLOW_IN_MEMORY")
      assertInvalid(yield* startupError({ OR3_SQLITE_ALLOW_IN_MEMORY: "false" }), "OR3_SQLITE_DB_PATH")
      assertInvalid(yield* startupError({ OR3_SQLITE_DB_PATH: ":memory:", NODE_ENV: "production" }), "OR3_SQLITE_DB_PATH")
      assertInvalid(yield* startupError({ VITEST: "false" }), "OR3_SQLITE_DB_PATH")
    }))

  it.effect("OR3_SQLITE_ALLOW_IN_MEMORY=true starts in memory and logs exactly one warning", () =>
    Effect.gen(function*() {
      const logs = makeLogCapture()
      const info = yield* Effect.provide(Sqlite.SqliteInfo, sqliteLayer({ OR3_SQLITE_ALLOW_IN_MEMORY: "true" })).pipe(
        Effect.provide(logs.layer)
      )
      assert.isTrue(info.settings.inMemory)
      const warnings = logs.at("WARN")
      assert.strictEqual(warnings.length, 1, JSON.stringify(logs.entries))
      assert.include(warnings[0].message, "OR3_SQLITE_ALLOW_IN_MEMORY=true")
      assert.include(warnings[0].message, "lost on restart")
    }))

  it.effect("under a test runner (NODE_ENV=test or VITEST) a missing path is a silent in-memory database", () =>
    Effect.gen(function*() {
      const runners: ReadonlyArray<Record<string, string>> = [{ NODE_ENV: "test" }, { VITEST: "true" }, { VITEST: "1" }]
      for (const variables of runners) {
        const logs = makeLogCapture()
        const info = yield* Effect.provide(Sqlite.SqliteInfo, sqliteLayer(variables)).pipe(Effect.provide(logs.layer))
        assert.isTrue(info.settings.inMemory)
        assert.deepStrictEqual(logs.at("WARN"), [])
      }
    }))
})

describe("pragma values", () => {
  const invalid: ReadonlyArray<readonly [string, string]> = [
    ["OR3_SQLITE_PRAGMA_JOURNAL_MODE", "WAL; DROP TABLE x"],
    ["OR3_SQLITE_PRAGMA_JOURNAL_MODE", "wal2"],
    ["OR3_SQLITE_PRAGMA_SYNCHRONOUS", "FULL; DROP TABLE x"],
    ["OR3_SQLITE_PRAGMA_SYNCHRONOUS", "2"],
    ["OR3_SQLITE_BUSY_TIMEOUT_MS", "5000; DROP TABLE x"],
    ["OR3_SQLITE_BUSY_TIMEOUT_MS", "-1"],
    ["OR3_SQLITE_STRICT", "maybe"],
    ["OR3_SQLITE_ALLOW_IN_MEMORY", "sure"]
  ]
  for (const [variable, value] of invalid) {
    it.effect(`${variable}=${value} fails naming the variable`, () =>
      Effect.gen(function*() {
        assertInvalid(yield* startupError({ VITEST: "true", [variable]: value }), variable)
      }))
  }

  it.effect("options are checked against the same allow-lists", () =>
    Effect.gen(function*() {
      assertInvalid(yield* startupError({ VITEST: "true" }, { journalMode: "WAL; DROP TABLE x" }), "OR3_SQLITE_PRAGMA_JOURNAL_MODE")
      assertInvalid(yield* startupError({ VITEST: "true" }, { synchronous: "OFF --" }), "OR3_SQLITE_PRAGMA_SYNCHRONOUS")
      assertInvalid(yield* startupError({ VITEST: "true" }, { busyTimeoutMs: 1.5 }), "OR3_SQLITE_BUSY_TIMEOUT_MS")
    }))

  it.scoped("defaults on a file: WAL, synchronous FULL, busy_timeout 5000, foreign_keys on", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const values = yield* Effect.all({
        journal: pragma("journal_mode"),
        synchronous: pragma("synchronous"),
        busyTimeout: pragma("busy_timeout"),
        foreignKeys: pragma("foreign_keys")
      }).pipe(Effect.provide(sqliteLayer({ OR3_SQLITE_DB_PATH: Path.join(dir, "defaults.sqlite") })))
      assert.deepStrictEqual(values, { journal: "wal", synchronous: 2, busyTimeout: 5000, foreignKeys: 1 })
    }))

  it.scoped("the variables reach the connection (lower case accepted)", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const values = yield* Effect.all({
        journal: pragma("journal_mode"),
        synchronous: pragma("synchronous"),
        busyTimeout: pragma("busy_timeout")
      }).pipe(
        Effect.provide(
          sqliteLayer({
            OR3_SQLITE_DB_PATH: Path.join(dir, "custom.sqlite"),
            OR3_SQLITE_PRAGMA_JOURNAL_MODE: "delete",
            OR3_SQLITE_PRAGMA_SYNCHRONOUS: "normal",
            OR3_SQLITE_BUSY_TIMEOUT_MS: "250"
          })
        )
      )
      assert.deepStrictEqual(values, { journal: "delete", synchronous: 1, busyTimeout: 250 })
    }))

  it.scoped("options override the variables", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const fromOptions = Path.join(dir, "from-options.sqlite")
      const info = yield* Effect.provide(
        Sqlite.SqliteInfo,
        sqliteLayer(
          { OR3_SQLITE_DB_PATH: Path.join(dir, "from-env.sqlite"), OR3_SQLITE_PRAGMA_SYNCHRONOUS: "OFF" },
          { path: fromOptions, synchronous: "EXTRA" }
        )
      )
      assert.strictEqual(info.settings.path, fromOptions)
      assert.strictEqual(info.settings.synchronous, "EXTRA")
      assert.isTrue(Fs.existsSync(fromOptions))
      assert.isFalse(Fs.existsSync(Path.join(dir, "from-env.sqlite")))
    }))
})

describe("opening the file", () => {
  it.scoped("creates the parent directories of the path", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = Path.join(dir, "a", "b", "c", "or3.sqlite")
      assert.isFalse(Fs.existsSync(Path.dirname(path)))
      yield* Effect.provide(
        Effect.flatMap(SqlClient.SqlClient, (sql) => sql`CREATE TABLE t (x INTEGER)`),
        sqliteLayer({ OR3_SQLITE_DB_PATH: path })
      )
      assert.isTrue(Fs.statSync(path).isFile())
    }))

  it.scoped("logs the SQLite version once, and warns only when it is older than 3.51.3", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const logs = makeLogCapture()
      const version = yield* Effect.provide(
        Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ v: string }>`SELECT sqlite_version() AS v`),
        sqliteLayer({ OR3_SQLITE_DB_PATH: Path.join(dir, "version.sqlite") })
      ).pipe(
        Effect.map(([row]) => row.v),
        Effect.provide(logs.layer)
      )
      const mentions = logs.entries.filter((entry) => entry.message.includes(`SQLite ${version} `))
      assert.strictEqual(mentions.filter((entry) => entry.level === "INFO").length, 1, JSON.stringify(logs.entries))
      const old = Sqlite.isSqliteVersionBefore(version, Sqlite.MIN_SAFE_WAL_VERSION)
      assert.strictEqual(logs.at("WARN").length, old ? 1 : 0, JSON.stringify(logs.entries))
    }))
})

describe("SQLite version check", () => {
  it("compares versions as numbers, part by part", () => {
    const before = Sqlite.isSqliteVersionBefore
    assert.isTrue(before("3.51.2", "3.51.3"))
    assert.isTrue(before("3.50.4", "3.51.3"))
    assert.isTrue(before("3.9.0", "3.51.3"))
    assert.isTrue(before("2.99.99", "3.51.3"))
    assert.isFalse(before("3.51.3", "3.51.3"))
    assert.isFalse(before("3.51.10", "3.51.3"))
    assert.isFalse(before("3.52.0", "3.51.3"))
    assert.isFalse(before("4.0.0", "3.51.3"))
  })

  const info = (sqliteVersion: string, journalMode: "WAL" | "DELETE"): Sqlite.SqliteInfoShape => ({
    driver: "better-sqlite3",
    sqliteVersion,
    settings: {
      path: "/srv/or3.sqlite",
      inMemory: false,
      journalMode,
      synchronous: "FULL",
      busyTimeoutMs: 5000,
      backgroundCheckpoint: false
    }
  })

  const startLogs = (shape: Sqlite.SqliteInfoShape) =>
    Effect.gen(function*() {
      const logs = makeLogCapture()
      yield* Sqlite.logStart(shape).pipe(Effect.provide(logs.layer))
      return logs
    })

  it.effect("an older library with WAL logs the version, then one warning naming both versions", () =>
    Effect.gen(function*() {
      const logs = yield* startLogs(info("3.51.2", "WAL"))
      assert.strictEqual(logs.at("INFO").length, 1)
      assert.include(logs.at("INFO")[0].message, "SQLite 3.51.2 at /srv/or3.sqlite")
      assert.strictEqual(logs.at("WARN").length, 1)
      assert.include(logs.at("WARN")[0].message, "3.51.2")
      assert.include(logs.at("WARN")[0].message, "3.51.3")
    }))

  it.effect("no warning at 3.51.3 or later, nor without WAL", () =>
    Effect.gen(function*() {
      for (const shape of [info("3.51.3", "WAL"), info("3.53.2", "WAL"), info("3.40.0", "DELETE")]) {
        const logs = yield* startLogs(shape)
        assert.strictEqual(logs.at("INFO").length, 1)
        assert.deepStrictEqual(logs.at("WARN"), [])
      }
    }))
})
