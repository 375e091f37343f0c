/**
 * What `or3-sqlite gc` counts for its progress line: GC's rows per workspace (superseded
 * change-log entries, tombstones), in-process on a database with more workspaces than SQLite
 * binds variables in one statement (32,766).
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { gcRowCounts } from "../src/cli/commands/gc.js"
import { SyncGateway } from "../src/services/SyncGateway.js"
import { del, put } from "./support/ops.js"
import { withGateway } from "./support/syncGateway.js"

const WORKSPACES = 33_000

describe("gc row counts", () => {
  it.effect("count superseded entries and tombstones of every workspace, or of one, with any number of workspaces", () =>
    withGateway(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const gateway = yield* SyncGateway
      const scope = { workspaceId: "ws-busy" }
      yield* gateway.push({ scope, ops: [put({ pk: "a", clock: 1 }), put({ pk: "b", clock: 1 })] })
      yield* gateway.push({ scope, ops: [put({ pk: "a", clock: 2 }), del({ pk: "b", clock: 2 })] })
      yield* gateway.push({ scope: { workspaceId: "ws-quiet" }, ops: [put({ pk: "c" })] })
      yield* sql`
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${WORKSPACES})
        INSERT INTO sync_heads (workspace_id, head, horizon) SELECT printf('ws-%05d', i), 0, 0 FROM n`
      const ids = (yield* sql<{ id: string }>`SELECT workspace_id AS id FROM sync_heads ORDER BY 1`).map((row) => row.id)
      assert.isAbove(ids.length, WORKSPACES)

      const all = yield* gcRowCounts(ids, Option.none())
      assert.strictEqual(all.size, ids.length)
      // The first entries of `a` and `b` lost to later ones; the delete left a tombstone.
      assert.deepStrictEqual(all.get("ws-busy"), { change_log: 2, tombstones: 1 })
      assert.deepStrictEqual(all.get("ws-quiet"), { change_log: 0, tombstones: 0 })
      assert.deepStrictEqual(all.get("ws-00001"), { change_log: 0, tombstones: 0 })

      const one = yield* gcRowCounts(["ws-busy"], Option.some("ws-busy"))
      assert.deepStrictEqual([...one], [["ws-busy", { change_log: 2, tombstones: 1 }]])
    })))
})
