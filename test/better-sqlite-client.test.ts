/**
 * The server's SqlClient (src/layers/BetterSqliteClient.ts): one connection shared by every fiber,
 * so the rules of who may use it are what keeps a transaction isolated from the rest of the
 * process. Template statements and DirectSql statements are checked alike.
 */
import { assert, describe, it } from "@effect/vitest"
import * as SqlClient from "@effect/sql/SqlClient"
import { Deferred, Effect, Exit, Fiber } from "effect"
import * as DirectSql from "../src/layers/DirectSql.js"
import * as Sqlite from "../src/layers/Sqlite.js"

const setup = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE items (name TEXT PRIMARY KEY)`
  const names = Effect.map(sql<{ name: string }>`SELECT name FROM items ORDER BY name`, (rows) => rows.map((r) => r.name))
  return { sql, direct: DirectSql.make(sql), names }
})

describe("BetterSqliteClient", () => {
  it.live("a statement of another fiber waits for an open transaction and never sees its writes", () =>
    Effect.gen(function*() {
      const { direct, names, sql } = yield* setup
      const inside = yield* Deferred.make<void>()
      const finish = yield* Deferred.make<void>()
      const transaction = yield* Effect.fork(sql.withTransaction(Effect.gen(function*() {
        yield* sql`INSERT INTO items (name) VALUES ('uncommitted')`
        yield* Deferred.succeed(inside, undefined)
        yield* Deferred.await(finish)
      })))
      yield* Deferred.await(inside)
      const template = yield* Effect.fork(names)
      const direct1 = yield* Effect.fork(direct.values<[string]>("SELECT name FROM items", []))
      yield* Effect.sleep("20 millis")
      assert.isTrue((yield* Fiber.poll(template))._tag === "None", "the template statement waited")
      assert.isTrue((yield* Fiber.poll(direct1))._tag === "None", "the direct statement waited")
      yield* Deferred.succeed(finish, undefined)
      yield* Fiber.join(transaction)
      assert.deepStrictEqual(yield* Fiber.join(template), ["uncommitted"])
      assert.deepStrictEqual(yield* Fiber.join(direct1), [["uncommitted"]])
    }).pipe(Effect.provide(Sqlite.layerMemory)))

  it.live("transactions of concurrent fibers run one after another", () =>
    Effect.gen(function*() {
      const { direct, sql } = yield* setup
      yield* sql`CREATE TABLE counter (n INTEGER)`
      yield* sql`INSERT INTO counter (n) VALUES (0)`
      const increment = sql.withTransaction(Effect.gen(function*() {
        const [[n]] = yield* direct.values<[number]>("SELECT n FROM counter", [])
        yield* Effect.sleep("1 millis")
        yield* direct.values("UPDATE counter SET n = ?", [n + 1])
      }))
      yield* Effect.all(Array.from({ length: 20 }, () => increment), { concurrency: "unbounded" })
      assert.deepStrictEqual(yield* direct.values("SELECT n FROM counter", []), [[20]])
    }).pipe(Effect.provide(Sqlite.layerMemory)))

  it.live("a transaction interrupted while it waits for the connection does not keep it", () =>
    Effect.gen(function*() {
      const { names, sql } = yield* setup
      const release = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(sql.withTransaction(Deferred.await(release)))
      yield* Effect.sleep("5 millis")
      const waiter = yield* Effect.fork(sql.withTransaction(sql`INSERT INTO items (name) VALUES ('never')`))
      yield* Effect.sleep("5 millis")
      yield* Fiber.interrupt(waiter)
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(holder)
      yield* sql.withTransaction(sql`INSERT INTO items (name) VALUES ('after')`).pipe(Effect.timeout("2 seconds"))
      assert.deepStrictEqual(yield* names, ["after"])
    }).pipe(Effect.provide(Sqlite.layerMemory)))

  it.effect("a failing nested transaction rolls back to its savepoint; the outer one commits", () =>
    Effect.gen(function*() {
      const { names, sql } = yield* setup
      const exit = yield* sql.withTransaction(Effect.gen(function*() {
        yield* sql`INSERT INTO items (name) VALUES ('outer')`
        const inner = yield* Effect.exit(sql.withTransaction(Effect.zipRight(sql`INSERT INTO items (name) VALUES ('inner')`, Effect.fail("no"))))
        yield* sql`INSERT INTO items (name) VALUES ('after-inner')`
        return inner
      }))
      assert.isTrue(Exit.isFailure(exit))
      assert.deepStrictEqual(yield* names, ["after-inner", "outer"])
      const outer = yield* Effect.exit(sql.withTransaction(Effect.zipRight(sql`INSERT INTO items (name) VALUES ('lost')`, Effect.fail("no"))))
      assert.isTrue(Exit.isFailure(outer))
      assert.deepStrictEqual(yield* names, ["after-inner", "outer"])
    }).pipe(Effect.provide(Sqlite.layerMemory)))

  it.effect("when SQLite ends the transaction itself (a full database), its error is the one reported", () =>
    Effect.gen(function*() {
      const { names, sql } = yield* setup
      const [{ page_count }] = yield* sql<{ page_count: number }>`PRAGMA page_count`
      yield* sql.unsafe(`PRAGMA max_page_count = ${page_count + 1}`)
      const exit = yield* Effect.exit(sql.withTransaction(
        sql`INSERT INTO items (name) SELECT hex(randomblob(500)) FROM (WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 500) SELECT i FROM s)`
      ))
      assert.isTrue(Exit.isFailure(exit))
      assert.match(String(Exit.isFailure(exit) && JSON.stringify(exit.cause)), /full/i)
      assert.notMatch(String(Exit.isFailure(exit) && JSON.stringify(exit.cause)), /no transaction is active/)
      assert.deepStrictEqual(yield* names, [])
    }).pipe(Effect.provide(Sqlite.layerMemory)))
})
