import { assert, describe, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import * as DirectSql from "../src/layers/DirectSql.js"
import * as Sqlite from "../src/layers/Sqlite.js"
import { SyncGateway } from "../src/services/SyncGateway.js"
import { put } from "./support/ops.js"

const observed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.suspend(() => {
    const texts: Array<string> = []
    return Effect.locally(effect, DirectSql.currentObserver, (sql) => texts.push(sql)).pipe(
      Effect.map((value) => ({ value, texts }))
    )
  })

const pairs = DirectSql.multiRow(2, (values) => `INSERT INTO pairs (a, b) VALUES ${values}`)

describe("DirectSql", () => {
  it.effect("writes any number of rows in power-of-two chunks, in order, inside a transaction", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const direct = DirectSql.make(sql)
      yield* sql`CREATE TABLE pairs (a INTEGER PRIMARY KEY, b TEXT)`
      const rows = Array.from({ length: 100 }, (_, i) => [i, `row ${i}`])
      const { texts, value } = yield* observed(sql.withTransaction(DirectSql.writeRows(direct, pairs, rows)))
      assert.deepStrictEqual(texts.map((text) => text.split("(?, ?)").length - 1), [64, 32, 4])
      const stored = yield* sql<{ a: number; b: string }>`SELECT a, b FROM pairs ORDER BY a`
      assert.deepStrictEqual(stored.map((row) => [row.a, row.b]), rows)
      const none = yield* observed(DirectSql.writeRows(direct, pairs, []))
      assert.deepStrictEqual(none.texts, [])
    }).pipe(Effect.provide(Sqlite.layerMemory)))

  it.effect("a failed chunk rolls back the whole transaction", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const direct = DirectSql.make(sql)
      yield* sql`CREATE TABLE pairs (a INTEGER PRIMARY KEY, b TEXT)`
      const rows = [...Array.from({ length: 70 }, (_, i) => [i, "x"]), [3, "duplicate key"]]
      const error = yield* Effect.flip(sql.withTransaction(DirectSql.writeRows(direct, pairs, rows)))
      assert.strictEqual(error._tag, "SqlError")
      const [{ n }] = yield* sql<{ n: number }>`SELECT count(*) AS n FROM pairs`
      assert.strictEqual(n, 0)
    }).pipe(Effect.provide(Sqlite.layerMemory)))

  it.effect("outside a transaction a statement takes the client's ordinary path", () =>
    Effect.gen(function*() {
      const direct = DirectSql.make(yield* SqlClient.SqlClient)
      const rows = yield* direct.values<readonly [number, string]>("SELECT ? + 1, ?", [41, "x"])
      assert.deepStrictEqual(rows, [[42, "x"]])
    }).pipe(Effect.provide(Sqlite.layerMemory)))

  it.effect("pushes of every size from 1 to 100 ops use at most seven texts per multi-row write", () =>
    Effect.gen(function*() {
      const gateway = yield* SyncGateway
      const { texts, value } = yield* observed(Effect.forEach(Array.from({ length: 100 }, (_, i) => i + 1), (size) =>
        gateway.push({
          scope: { workspaceId: "ws" },
          ops: Array.from({ length: size }, (_, i) => put({ pk: `k${size}-${i}` }))
        }, { userId: "u" })))
      const inserts = new Set(texts.filter((text) => /INSERT OR FAIL INTO change_log/.test(text)))
      assert.isAtMost(inserts.size, 7)
      assert.strictEqual(value.at(-1)?.serverVersion, (100 * 101) / 2)
    }).pipe(Effect.provide(SyncGateway.Test)))
})
