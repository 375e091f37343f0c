/**
 * Connections: one per database file per process (shared by every layer on that file, closed by
 * the last one), private in-memory databases, and the reason write transactions begin with
 * `BEGIN IMMEDIATE`, shown against a second process writing the same file.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import { SqlClient } from "@effect/sql"
import * as NodeSqlite from "@effect/sql-sqlite-node/SqliteClient"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Either, Exit, Layer, Scope } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import * as Sqlite from "../src/layers/Sqlite.js"
import { tempDir, withVariables } from "./helpers/foundation.js"
import { startReadyChild } from "./support/childProcess.js"

/** Builds `layer` in a scope of its own, so the test decides when it is released. */
const open = (layer: Layer.Layer<Sqlite.SqliteServices, unknown>) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(layer, scope).pipe(Effect.orDie)
    return {
      sql: Context.get(context, SqlClient.SqlClient),
      close: Scope.close(scope, Exit.void)
    }
  })

const tempTables = (sql: SqlClient.SqlClient) =>
  Effect.map(
    sql<{ name: string }>`SELECT name FROM sqlite_temp_master WHERE type = 'table' ORDER BY name`,
    (rows) => rows.map((row) => row.name)
  )

describe("one connection per file", () => {
  it.scoped("two layers on one file share the connection, and the last one released closes it", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = Path.join(dir, "shared.sqlite")
      const a = yield* open(Sqlite.layerFile(path))
      // Another constructor and another spelling of the same file: still the same connection.
      const b = yield* open(
        Sqlite.layer({ path: Path.join(dir, "sub", "..", "shared.sqlite") }).pipe(Layer.provide(withVariables({})))
      )
      assert.strictEqual(a.sql, b.sql)

      // TEMP tables live in one connection: what `a` creates, `b` sees.
      yield* a.sql`CREATE TABLE kept (x INTEGER)`
      yield* a.sql`CREATE TEMP TABLE only_in_this_connection (x INTEGER)`
      assert.deepStrictEqual(yield* tempTables(b.sql), ["only_in_this_connection"])
      assert.isTrue(Fs.existsSync(`${path}-wal`))

      // Releasing the first layer leaves the connection open for the second.
      yield* a.close
      assert.deepStrictEqual(yield* tempTables(b.sql), ["only_in_this_connection"])
      assert.isTrue(Fs.existsSync(`${path}-wal`))

      // Releasing the last one closes the file: SQLite checkpoints and removes the WAL on the
      // last close, and the old client no longer has a connection.
      yield* b.close
      assert.isFalse(Fs.existsSync(`${path}-wal`))
      const afterClose = yield* Effect.either(b.sql`SELECT count(*) AS n FROM kept`)
      assert.isTrue(Either.isLeft(afterClose))
      assert.match(String(Either.isLeft(afterClose) && afterClose.left.cause), /not open/)

      // The next layer opens a new connection: the data is there, the temp table is not.
      const c = yield* open(Sqlite.layerFile(path))
      assert.notStrictEqual(c.sql, a.sql)
      assert.deepStrictEqual(yield* tempTables(c.sql), [])
      assert.deepStrictEqual(yield* c.sql`SELECT count(*) AS n FROM kept`, [{ n: 0 }])
      yield* c.close
    }))

  it.scoped("in-memory layers are private", () =>
    Effect.gen(function*() {
      const a = yield* open(Sqlite.layerMemory)
      const b = yield* open(Sqlite.layerMemory)
      const c = yield* open(Sqlite.layer({ path: ":memory:" }).pipe(Layer.provide(withVariables({ VITEST: "true" }))))
      assert.notStrictEqual(a.sql, b.sql)
      assert.notStrictEqual(a.sql, c.sql)
      yield* a.sql`CREATE TABLE mine (x INTEGER)`
      const tables = (sql: SqlClient.SqlClient) => sql`SELECT name FROM sqlite_master WHERE name = 'mine'`
      assert.strictEqual((yield* tables(a.sql)).length, 1)
      assert.strictEqual((yield* tables(b.sql)).length, 0)
      assert.strictEqual((yield* tables(c.sql)).length, 0)
      yield* a.close
      // Closing one does not touch the others.
      assert.strictEqual((yield* tables(b.sql)).length, 0)
      yield* Effect.all([b.close, c.close])
    }))
})

// --- The write-lock proof -------------------------------------------------------------------------

const PARENT_TRANSACTIONS = 120
const CHILD_TRANSACTIONS = 200
const CHILD_PAUSE_MS = 1

const writerScript = fileURLToPath(new URL("./fixtures/counter-writer.mjs", import.meta.url))

interface WriterResult {
  readonly committed: number
  readonly errors: ReadonlyArray<string>
}

/** Starts the second writer process; resolves once it has the file open. Killed at scope end. */
const startChildWriter = (path: string) =>
  startReadyChild<WriterResult>([writerScript, path, String(CHILD_TRANSACTIONS), String(CHILD_PAUSE_MS)])

/**
 * The parent's side: `PARENT_TRANSACTIONS` transactions that read the counter, spend 2 ms, then
 * write counter + 1. The pause stands for any work between the read and the write, and widens the
 * window in which the other process commits. The 3 ms between transactions leave the child room to
 * get the lock, so the two histories interleave.
 */
const incrementMany = (sql: SqlClient.SqlClient) =>
  Effect.gen(function*() {
    let committed = 0
    const errors: Array<string> = []
    for (let i = 0; i < PARENT_TRANSACTIONS; i++) {
      const outcome = yield* Effect.either(
        sql.withTransaction(
          Effect.gen(function*() {
            const [{ value }] = yield* sql<{ value: number }>`SELECT value FROM counter WHERE id = 1`
            yield* Effect.sleep("2 millis")
            yield* sql`UPDATE counter SET value = ${value + 1} WHERE id = 1`
            yield* sql`INSERT INTO increments (writer) VALUES ('parent')`
          })
        )
      )
      if (Either.isRight(outcome)) committed++
      else errors.push((outcome.left.cause as { code?: string })?.code ?? String(outcome.left))
      yield* Effect.sleep("3 millis")
    }
    return { committed, errors } satisfies WriterResult
  })

/** Runs the parent's transactions through `sql` while the child process writes the same file. */
const race = (path: string, sql: SqlClient.SqlClient) =>
  Effect.gen(function*() {
    yield* sql`CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)`
    yield* sql`CREATE TABLE IF NOT EXISTS increments (seq INTEGER PRIMARY KEY, writer TEXT NOT NULL)`
    yield* sql`INSERT INTO counter (id, value) VALUES (1, 0)`
    const child = yield* startChildWriter(path)
    const parent = yield* incrementMany(sql)
    const other = yield* child.result
    const [{ value }] = yield* sql<{ value: number }>`SELECT value FROM counter WHERE id = 1`
    const writers = (yield* sql<{ writer: string }>`SELECT writer FROM increments ORDER BY seq`).map((r) => r.writer)
    // How often the writer changes along the history: proof that the two really interleaved.
    const switches = writers.filter((writer, i) => i > 0 && writer !== writers[i - 1]).length
    return { parent, child: other, counter: value, increments: writers.length, switches }
  })

describe("write transactions against a second process", () => {
  it.live("BEGIN IMMEDIATE: every read-then-write increment lands, and nobody sees SQLITE_BUSY", () =>
    Effect.gen(function*() {
      const path = Path.join(yield* tempDir, "immediate.sqlite")
      const { sql } = yield* open(Sqlite.layerFile(path))
      const outcome = yield* race(path, sql)
      assert.deepStrictEqual(outcome.parent, { committed: PARENT_TRANSACTIONS, errors: [] })
      assert.deepStrictEqual(outcome.child, { committed: CHILD_TRANSACTIONS, errors: [] })
      assert.strictEqual(outcome.counter, PARENT_TRANSACTIONS + CHILD_TRANSACTIONS)
      assert.strictEqual(outcome.increments, outcome.counter)
      assert.isAtLeast(outcome.switches, 10, "the two writers did not interleave; the test proves nothing")
    }).pipe(Effect.scoped), 15_000)

  it.live("the driver's deferred BEGIN: the same program meets SQLITE_BUSY_SNAPSHOT", () =>
    Effect.gen(function*() {
      const path = Path.join(yield* tempDir, "deferred.sqlite")
      // @effect/sql-sqlite-node's own client, whose transactions start with a plain `BEGIN`.
      const sql = yield* NodeSqlite.make({ filename: path }).pipe(Effect.provide(Reactivity.layer))
      const outcome = yield* race(path, sql)
      // The snapshot taken by the first read is stale once the other process commits; the write
      // then fails at once (busy_timeout does not retry it), and the increment is lost to the caller.
      assert.include(outcome.parent.errors, "SQLITE_BUSY_SNAPSHOT")
      for (const code of outcome.parent.errors) assert.match(code, /^SQLITE_BUSY/)
      assert.isBelow(outcome.parent.committed, PARENT_TRANSACTIONS)
      assert.deepStrictEqual(outcome.child.errors, [])
      // The failed transactions rolled back: the file stays consistent, only the work was refused.
      assert.strictEqual(outcome.counter, outcome.parent.committed + outcome.child.committed)
      assert.strictEqual(outcome.increments, outcome.counter)
    }).pipe(Effect.scoped), 15_000)
})
