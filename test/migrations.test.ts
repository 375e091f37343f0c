import { assert, describe, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Exit, Cause } from "effect"
import { makeLogCapture } from "./helpers/foundation.js"
import * as Sqlite from "../src/layers/Sqlite.js"
import { runMigrations, pendingMigrations } from "../src/layers/Migrations.js"
import { migrations } from "../src/migrations/index.js"
import { MigrationFailed, SchemaTooNew } from "../src/schema/errors.js"

/** Every migration key, in order; a migration "after the newest" gets the next number. */
const allKeys = Object.keys(migrations).sort()
const nextKey = (name: string) => `${String(Number(allKeys.at(-1)!.split("_")[0]) + 1).padStart(4, "0")}_${name}`

const tableNames = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`
  return rows.map((r) => r.name)
})

describe("migrations", () => {
  it.effect("apply once, then find nothing pending", () =>
    Effect.gen(function*() {
      const first = yield* runMigrations()
      assert.deepStrictEqual(first, allKeys)
      assert.deepStrictEqual(yield* runMigrations(), [])
      assert.deepStrictEqual(yield* pendingMigrations(), [])
      const tables = yield* tableNames
      for (const t of ["users", "workspaces", "change_log", "s_messages", "tombstones", "device_cursors"]) {
        assert.include(tables, t)
      }
    }).pipe(Effect.provide(Sqlite.layerMemory)))

  it.effect("logs the applied migrations by their keys", () =>
    Effect.gen(function*() {
      const logs = makeLogCapture()
      yield* runMigrations().pipe(Effect.provide(logs.layer))
      assert.deepStrictEqual(logs.at("INFO").map((entry) => entry.message), [`Applied migrations: ${allKeys.join(", ")}`])
    }).pipe(Effect.provide(Sqlite.layerMemory)))

  it.effect("a failing migration names itself and leaves the schema as it was", () =>
    Effect.gen(function*() {
      yield* runMigrations()
      const before = yield* tableNames
      const half = nextKey("half")
      const broken = {
        ...migrations,
        [half]: Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          yield* sql`CREATE TABLE half_done (x INTEGER)`
          yield* sql`INSERT INTO no_such_table VALUES (1)`
        })
      }
      const exit = yield* Effect.exit(runMigrations(broken))
      assert.isTrue(Exit.isFailure(exit))
      const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : undefined
      assert.instanceOf(error?._tag === "Some" ? error.value : undefined, MigrationFailed)
      assert.strictEqual((error as any).value.migration, half)
      assert.include((error as any).value.message, half)
      assert.deepStrictEqual(yield* tableNames, before)
      assert.deepStrictEqual(yield* pendingMigrations(broken), [half])
    }).pipe(Effect.provide(Sqlite.layerMemory)))

  it.effect("a database migrated by a newer release refuses to start", () =>
    Effect.gen(function*() {
      yield* runMigrations()
      const sql = yield* SqlClient.SqlClient
      yield* sql`INSERT INTO or3_sqlite_migrations (migration_id, name) VALUES (9001, 'from_the_future')`
      const error = yield* Effect.flip(runMigrations())
      assert.instanceOf(error, SchemaTooNew)
      assert.deepStrictEqual(error.unknownMigrations, ["9001_from_the_future"])
    }).pipe(Effect.provide(Sqlite.layerMemory)))
})
