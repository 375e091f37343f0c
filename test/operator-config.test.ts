/**
 * What an operator meets when a setting or the disk is wrong (issue 14's minor defects): flags in
 * any case, a path under /proc that fails at once, one log line naming the SQLite cause of a server
 * fault (read-only file, full disk), and warnings that give the right advice.
 */
import { assert, describe, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Logger } from "effect"
import type { H3Error } from "h3"
import * as Path from "node:path"
import { providerLayer } from "../src/facades/createSqliteProvider.js"
import { INTERNAL_ERROR_MESSAGE } from "../src/facades/H3Errors.js"
import { makeSqliteProvider } from "../src/facades/SqliteProvider.js"
import { describeWorkerError } from "../src/layers/Checkpointer.js"
import * as Sqlite from "../src/layers/Sqlite.js"
import { ConfigInvalid } from "../src/schema/errors.js"
import { makeLogCapture, tempDir, withVariables } from "./helpers/foundation.js"
import { eventWithSession } from "./or3-doubles/services.js"
import { put } from "./support/ops.js"

const info = (variables: Record<string, string>) =>
  Effect.provide(Sqlite.SqliteInfo, Sqlite.layer().pipe(Layer.provide(withVariables(variables))))

describe("flags", () => {
  it.effect("accept true/false, yes/no, on/off, 1/0 in any case", () =>
    Effect.gen(function*() {
      for (const value of ["TRUE", "True", "Yes", "ON", "1"]) {
        const error = yield* Effect.flip(info({ VITEST: "true", OR3_SQLITE_STRICT: value }))
        assert.include(error.message, "is required when OR3_SQLITE_STRICT=true", `strict=${value} is on`)
      }
      for (const value of ["FALSE", "No", "OFF", "0"]) {
        assert.isTrue((yield* info({ VITEST: "true", OR3_SQLITE_STRICT: value })).settings.inMemory)
      }
      const allowed = yield* info({ OR3_SQLITE_ALLOW_IN_MEMORY: "YES" }).pipe(Effect.provide(makeLogCapture().layer))
      assert.isTrue(allowed.settings.inMemory)
    }))
})

describe("a database path under /proc", () => {
  it.effect("fails at once with ConfigInvalid instead of spinning in mkdir", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(info({ OR3_SQLITE_DB_PATH: "/proc/or3-sqlite-test/data/or3.sqlite" }))
      assert.instanceOf(error, ConfigInvalid)
      assert.strictEqual(error.variable, "OR3_SQLITE_DB_PATH")
      assert.include(error.message, "/proc/or3-sqlite-test")
    }), 20_000)
})

describe("warnings", () => {
  const old = (driver: "better-sqlite3" | "libsql"): Sqlite.SqliteInfoShape => ({
    driver,
    sqliteVersion: "3.45.1",
    settings: { path: "/srv/or3.sqlite", inMemory: false, journalMode: "WAL", synchronous: "FULL", busyTimeoutMs: 5000, backgroundCheckpoint: false }
  })

  it.effect("an old SQLite under libSQL is not answered with 'upgrade better-sqlite3'", () =>
    Effect.gen(function*() {
      const logs = makeLogCapture()
      yield* Sqlite.logStart(old("libsql")).pipe(Effect.provide(logs.layer))
      const [warning] = logs.at("WARN")
      assert.notInclude(warning.message, "upgrade better-sqlite3")
      assert.include(warning.message, "libSQL bundles this SQLite")
      const better = makeLogCapture()
      yield* Sqlite.logStart(old("better-sqlite3")).pipe(Effect.provide(better.layer))
      assert.include(better.at("WARN")[0].message, "upgrade better-sqlite3")
    }))

  it("a checkpoint worker's death names its SQLite code, never 'undefined'", () => {
    // What a worker's SqliteError looks like on this thread (seen with a read-only folder).
    assert.strictEqual(describeWorkerError({ code: "SQLITE_READONLY_DIRECTORY" }), "SQLITE_READONLY_DIRECTORY")
    assert.strictEqual(describeWorkerError(new Error("disk I/O error")), "disk I/O error")
  })
})

describe("server faults", () => {
  const faultLogs = (setup: (sql: SqlClient.SqlClient) => Effect.Effect<unknown, unknown>) =>
    Effect.gen(function*() {
      const path = Path.join(yield* tempDir, "or3.sqlite")
      const logs = makeLogCapture()
      const silent = Logger.remove(Logger.defaultLogger)
      const quiet = Layer.mergeAll(providerLayer({ path }).pipe(Layer.provide(silent)), logs.layer, silent)
      const provider = yield* Effect.promise(() => makeSqliteProvider(quiet))
      yield* Effect.addFinalizer(() => Effect.promise(() => provider.dispose()))
      // A layer on the same file shares the provider's connection (one per file per process).
      yield* Effect.flatMap(SqlClient.SqlClient, setup).pipe(Effect.provide(Sqlite.layerFile(path)), Effect.orDie)
      const event = eventWithSession({ userId: "u1", workspaceId: "w1" })
      const statuses: Array<number> = []
      for (let i = 0; i < 5; i++) {
        const ops = Array.from({ length: 20 }, (_, j) => put({ pk: `k-${i}-${j}`, payload: { id: `k-${i}-${j}`, text: "x".repeat(2000) } }))
        const error = yield* Effect.promise(() =>
          provider.syncGatewayAdapter.push(event, { scope: { workspaceId: "w1" }, ops } as never).then(() => undefined, (e: H3Error) => e)
        )
        assert.isDefined(error, "the push failed")
        assert.strictEqual(error!.message, INTERNAL_ERROR_MESSAGE)
        statuses.push(error!.statusCode)
      }
      assert.deepStrictEqual(statuses, [500, 500, 500, 500, 500])
      return logs.at("ERROR").map((entry) => entry.message)
    })

  it.scoped("a read-only database: the log names SQLITE_READONLY, one line per failure", () =>
    Effect.gen(function*() {
      const errors = yield* faultLogs((sql) => sql`PRAGMA query_only = 1`)
      assert.strictEqual(errors.length, 5)
      for (const line of errors) {
        assert.match(line, /^SyncGateway\.push failed: SQLITE_READONLY: attempt to write a readonly database( \(then [^\n]*\))?$/)
      }
    }), 60_000)

  it.scoped("a full disk: one line per failed push naming SQLITE_FULL, no stack", () =>
    Effect.gen(function*() {
      const errors = yield* faultLogs((sql) =>
        Effect.flatMap(sql<{ page_count: number }>`PRAGMA page_count`, ([{ page_count }]) =>
          sql.unsafe(`PRAGMA max_page_count = ${page_count}`)))
      assert.strictEqual(errors.length, 5)
      for (const line of errors) {
        assert.match(line, /^SyncGateway\.push failed: SQLITE_FULL: database or disk is full( \(then [^\n]*\))?$/)
      }
    }), 60_000)
})
