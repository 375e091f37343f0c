import { assert, describe, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Cause, Effect, Exit, Layer } from "effect"
import { makeLogCapture } from "./helpers/foundation.js"
import * as Sqlite from "../src/layers/Sqlite.js"
import { runMigrations, pendingMigrations } from "../src/layers/Migrations.js"
import { migrations } from "../src/migrations/index.js"
import { MigrationFailed, SchemaTooNew } from "../src/schema/errors.js"
import { SyncGateway } from "../src/services/SyncGateway.js"
import { Ids } from "../src/services/Ids.js"

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

  it.effect("0003 repairs a 0.1 database: purged winners come back, flags are set, deleted rows get their tombstones", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* runMigrations({ "0001_initial": migrations["0001_initial"] })
      // What 0.1's GC left of: v1 put a, v2 put b, v3 put a (clock 2), v4 delete b, v5 delete orphan,
      // v6 put c. Its rule 4 purged the winners v3-v5 (horizon 5), rule 3 the superseded v2, and its
      // rule 5 dropped b's tombstone (the row kept the delete); v1 is still there.
      const row = (pk: string, v: number, clock: number, deleted: number, data: string) =>
        sql`INSERT INTO s_messages (workspace_id, pk, data_json, clock, hlc, op_id, device_id, server_version,
          owner_user_id, deleted, created_at, updated_at)
          VALUES ('ws', ${pk}, ${data}, ${clock}, ${`h${v}`}, ${`op-${v}`}, 'dev', ${v}, NULL, ${deleted}, 1, ${v * 10})`
      yield* row("a", 3, 2, 0, `{"id":"a","v":3}`)
      yield* row("b", 4, 2, 1, `{"id":"b","v":2}`)
      yield* row("c", 6, 1, 0, `{"id":"c","v":6}`)
      yield* sql`INSERT INTO tombstones (workspace_id, table_name, pk, clock, hlc, op_id, server_version, owner_user_id,
        deleted_at, created_at) VALUES ('ws', 'messages', 'orphan', 1, 'h5', 'op-5', 5, NULL, 50, 50)`
      for (const [v, pk, payload] of [[1, "a", `{"id":"a","v":1}`], [6, "c", `{"id":"c","v":6}`]] as const) {
        yield* sql`INSERT INTO change_log (workspace_id, server_version, table_name, pk, op, payload_json, clock, hlc,
          device_id, op_id, owner_user_id, prior_version, created_at)
          VALUES ('ws', ${v}, 'messages', ${pk}, 'put', ${payload}, 1, ${`h${v}`}, 'dev', ${`op-${v}`}, NULL, 0, ${v * 10})`
      }
      yield* sql`INSERT INTO sync_heads (workspace_id, head, horizon) VALUES ('ws', 6, 5)`

      yield* runMigrations()
      const gateway = yield* SyncGateway
      const page = yield* gateway.pull({ scope: { workspaceId: "ws" }, cursor: 0, limit: 100 }, { userId: "u" })
      assert.deepStrictEqual(
        page.changes.map((c) => [c.serverVersion, c.pk, c.op, c.stamp.opId, c.payload ?? null]),
        [
          [3, "a", "put", "op-3", { id: "a", v: 3 }],
          [4, "b", "delete", "op-4", null],
          [5, "orphan", "delete", "op-5", null],
          [6, "c", "put", "op-6", { id: "c", v: 6 }]
        ]
      )
      assert.deepStrictEqual([page.requiresSnapshot, page.oldestRetainedVersion], [false, 0])
      const tombs = yield* sql<{ pk: string; server_version: number }>`SELECT pk, server_version FROM tombstones ORDER BY pk`
      assert.deepStrictEqual(tombs.map((t) => [t.pk, t.server_version]), [["b", 4], ["orphan", 5]])
      const flags = yield* sql<{ v: number; s: number }>`SELECT server_version AS v, superseded AS s FROM change_log ORDER BY 1`
      assert.deepStrictEqual(flags.map((f) => [f.v, f.s]), [[1, 1], [3, 0], [4, 0], [5, 0], [6, 0]])
    }).pipe(
      Effect.provide(SyncGateway.DefaultWithoutDependencies.pipe(Layer.provide(Ids.Test), Layer.provideMerge(Sqlite.layerMemory)))
    ))
})
