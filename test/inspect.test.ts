import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Console, Effect } from "effect"
import * as Path from "node:path"
import { inspect, inspectCommand, render } from "../src/cli/inspectDatabase.js"
import * as Sqlite from "../src/layers/Sqlite.js"
import { migrations, migrationsTable } from "../src/migrations/index.js"
import { tempDir, withVariables } from "./helpers/foundation.js"

const allKeys = Object.keys(migrations).sort()
const latestKey = allKeys.at(-1)!

describe("npm run inspect", () => {
  it.scoped("migrates the file, then reports versions, pragmas and row counts", () =>
    Effect.gen(function*() {
      const path = Path.join(yield* tempDir, "inspect.sqlite")
      const layer = Sqlite.layerFile(path)
      const first = yield* Effect.provide(inspect, layer)
      assert.deepStrictEqual(first.appliedNow, allKeys)
      assert.strictEqual(first.schemaVersion, latestKey)
      assert.match(first.sqliteVersion, /^3\.\d+\.\d+$/)
      assert.deepInclude(first.pragmas, { journal_mode: "wal", synchronous: 2, busy_timeout: 5000, foreign_keys: 1, cache_size: -16384 })
      const counts = new Map(first.rowCounts)
      assert.strictEqual(counts.get(migrationsTable), allKeys.length)
      for (const table of ["users", "workspaces", "change_log", "s_messages"]) assert.strictEqual(counts.get(table), 0)

      const second = yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* sql`INSERT INTO users (id, created_at, updated_at) VALUES ('u1', 0, 0)`
        return yield* inspect
      }).pipe(Effect.provide(layer))
      assert.deepStrictEqual(second.appliedNow, [])
      assert.strictEqual(new Map(second.rowCounts).get("users"), 1)

      const text = render(second)
      assert.include(text, `database  ${path}`)
      assert.include(text, `schema    ${latestKey}\n`)
      assert.include(text, "journal_mode=wal synchronous=FULL busy_timeout=5000 foreign_keys=on cache_size=-16384")
      assert.match(text, /\n {2}users +1(\n|$)/)
    }))

  it.scoped("without an argument it opens OR3_SQLITE_DB_PATH", () =>
    Effect.gen(function*() {
      const path = Path.join(yield* tempDir, "from-env", "or3.sqlite")
      const printed: Array<string> = []
      const console: Console.Console = {
        ...(yield* Effect.console),
        log: (...args: ReadonlyArray<unknown>) => Effect.sync(() => void printed.push(args.join(" ")))
      }
      yield* inspectCommand([]).pipe(
        Effect.withConsole(console),
        Effect.provide(withVariables({ OR3_SQLITE_DB_PATH: path })),
      )
      assert.strictEqual(printed.length, 1)
      assert.include(printed[0], `database  ${path}`)
      assert.include(printed[0], `(applied now: ${allKeys.join(", ")})`)
    }))
})
