import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Console, Effect, Layer } from "effect"
import * as Path from "node:path"
import { inspect, inspectCommand, render } from "../src/cli/inspectDatabase.js"
import * as ReadOnlySqlite from "../src/cli/ReadOnlySqlite.js"
import { layerSqlFile } from "../src/layers/Migrations.js"
import * as Sqlite from "../src/layers/Sqlite.js"
import { migrations, migrationsTable } from "../src/migrations/index.js"
import { tempDir, withVariables } from "./helpers/foundation.js"

const allKeys = Object.keys(migrations).sort()
const latestKey = allKeys.at(-1)!

describe("npm run inspect", () => {
  it.scoped("reports versions, pending migrations, pragmas and row counts, and migrates nothing", () =>
    Effect.gen(function*() {
      const path = Path.join(yield* tempDir, "inspect.sqlite")
      yield* Effect.scoped(Layer.build(Sqlite.layerFile(path, { backgroundCheckpoint: false })))
      const bare = yield* Effect.provide(inspect("file"), ReadOnlySqlite.layer(path))
      assert.deepStrictEqual(bare.pending, allKeys)
      assert.isUndefined(bare.schemaVersion)
      assert.deepStrictEqual(bare.rowCounts, [], "still no table: inspect did not migrate")

      yield* Effect.scoped(Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* sql`INSERT INTO users (id, created_at, updated_at) VALUES ('u1', 0, 0)`
      }).pipe(Effect.provide(layerSqlFile(path, { backgroundCheckpoint: false }))))
      const report = yield* Effect.provide(inspect("file"), ReadOnlySqlite.layer(path))
      assert.deepStrictEqual(report.pending, [])
      assert.strictEqual(report.schemaVersion, latestKey)
      assert.match(report.sqliteVersion, /^3\.\d+\.\d+$/)
      assert.deepInclude(report.pragmas, { journal_mode: "wal", synchronous: "FULL", busy_timeout: 5000, foreign_keys: 1, cache_size: -16384 })
      const counts = new Map(report.rowCounts)
      assert.strictEqual(counts.get(migrationsTable), allKeys.length)
      assert.strictEqual(counts.get("users"), 1)

      const text = render(report)
      assert.include(text, `database  ${path}`)
      assert.include(text, `schema    ${latestKey}\n`)
      assert.include(text, "journal_mode=wal synchronous=FULL busy_timeout=5000 foreign_keys=on cache_size=-16384")
      assert.match(text, /\n {2}users +1(\n|$)/)
    }))

  it.scoped("without an argument it opens OR3_SQLITE_DB_PATH", () =>
    Effect.gen(function*() {
      const path = Path.join(yield* tempDir, "or3.sqlite")
      yield* Effect.scoped(Layer.build(layerSqlFile(path, { backgroundCheckpoint: false })))
      const printed: Array<string> = []
      const console: Console.Console = {
        ...(yield* Effect.console),
        log: (...args: ReadonlyArray<unknown>) => Effect.sync(() => void printed.push(args.join(" ")))
      }
      yield* inspectCommand([]).pipe(Effect.withConsole(console), Effect.provide(withVariables({ OR3_SQLITE_DB_PATH: path })))
      assert.strictEqual(printed.length, 1)
      assert.include(printed[0], `database  ${path}`)
      assert.include(printed[0], `schema    ${latestKey}\n`)
    }))
})
