import { assert, describe, it } from "@effect/vitest"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import { transactionDepth } from "../src/layers/BetterSqliteClient.js"
import * as Sqlite from "../src/layers/Sqlite.js"
import * as GroupCommit from "../src/services/sync/groupCommit.js"
import { SyncGateway } from "../src/services/SyncGateway.js"
import { put } from "./support/ops.js"

/** The transaction depth a program runs at: 0 = its own transaction, 1 = a savepoint in a group. */
const depth = FiberRef.get(transactionDepth)

describe("group commit", () => {
  it.live("programs queued behind a transaction share the next one; one that fails rolls back alone", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE marks (name TEXT PRIMARY KEY)`
      const commits = GroupCommit.make(sql)
      const mark = (name: string) => sql`INSERT INTO marks (name) VALUES (${name})`
      const first = Effect.gen(function*() {
        yield* mark("first")
        // Holds its transaction open while the others arrive.
        yield* Effect.sleep("20 millis")
        return yield* depth
      })
      const queued = (name: string) => Effect.zipRight(mark(name), depth)
      const failing = Effect.zipRight(mark("failing"), Effect.fail("refused" as const))
      const [one, ...rest] = yield* Effect.all(
        [
          commits.run(first),
          Effect.zipRight(Effect.sleep("5 millis"), Effect.exit(commits.run(queued("a")))),
          Effect.zipRight(Effect.sleep("5 millis"), Effect.exit(commits.run(failing))),
          Effect.zipRight(Effect.sleep("5 millis"), Effect.exit(commits.run(queued("b"))))
        ],
        { concurrency: "unbounded" }
      )
      assert.strictEqual(one, 0)
      assert.deepStrictEqual(rest[0], Exit.succeed(1))
      assert.isTrue(Exit.isFailure(rest[1]))
      assert.deepStrictEqual(rest[2], Exit.succeed(1))
      const names = yield* sql<{ name: string }>`SELECT name FROM marks ORDER BY name`
      assert.deepStrictEqual(names.map((row) => row.name), ["a", "b", "first"])
      // The queue is drained: the next program runs alone again.
      assert.strictEqual(yield* commits.run(depth), 0)
    }).pipe(Effect.provide(Sqlite.layerMemory)))

  it.effect("concurrent pushes each get one contiguous block, and together every version once", () =>
    Effect.gen(function*() {
      const gateway = yield* SyncGateway
      const pushes = Array.from({ length: 20 }, (_, i) =>
        gateway.push({
          scope: { workspaceId: i % 2 === 0 ? "ws-even" : "ws-odd" },
          ops: Array.from({ length: 5 }, (_, j) => put({ pk: `p${i}-${j}` }))
        }, { userId: "u" }))
      const results = yield* Effect.all(pushes, { concurrency: "unbounded" })
      for (const result of results) {
        const versions = result.results.map((r) => r.serverVersion!)
        assert.isTrue(result.results.every((r) => r.success && r.applied))
        assert.deepStrictEqual(versions, Array.from({ length: 5 }, (_, k) => versions[0] + k))
      }
      for (const [parity, workspaceId] of [[0, "ws-even"], [1, "ws-odd"]] as const) {
        const own = results.filter((_, i) => i % 2 === parity)
        const all = own.flatMap((result) => result.results.map((r) => r.serverVersion!)).sort((a, b) => a - b)
        assert.deepStrictEqual(all, Array.from({ length: 50 }, (_, k) => k + 1))
        const pulled = yield* gateway.pull({ scope: { workspaceId }, cursor: 0, limit: 1000 }, { userId: "u" })
        assert.strictEqual(pulled.changes.length, 50)
      }
    }).pipe(Effect.provide(SyncGateway.Test)))
})
