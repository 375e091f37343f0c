import { assert, describe, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, TestClock } from "effect"
import { CursorRegressed, Forbidden, InvalidInput, Unauthenticated } from "../src/schema/errors.js"
import { SyncGateway } from "../src/services/SyncGateway.js"
import { put } from "./support/ops.js"
import { captureStatements, fullScans } from "./support/queryPlans.js"
import { withGateway } from "./support/syncGateway.js"

const ws = "ws-1"
const alice = { userId: "user-alice" }
const bob = { userId: "user-bob" }

/** `null` = no session (a default parameter would turn `undefined` into alice). */
const update = (input: Record<string, unknown>, session: { userId: string } | null = alice) =>
  Effect.flatMap(SyncGateway, (g) =>
    g.updateCursor({ scope: { workspaceId: ws }, deviceId: "d1", version: 0, ...input }, session ?? undefined))

const headTo = (n: number, workspaceId = ws) =>
  Effect.flatMap(SyncGateway, (g) =>
    g.push({ scope: { workspaceId }, ops: Array.from({ length: n }, (_, i) => put({ pk: `k${i}` })) }, alice))

const stored = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ workspace_id: string; device_id: string; user_id: string; version: number; updated_at: number }>`
    SELECT workspace_id, device_id, user_id, version, updated_at FROM device_cursors ORDER BY 1, 2`)

describe("updateCursor", () => {
  it.effect("upserts per (workspace, device), trimming the device id, and refreshes updated_at", () =>
    withGateway(Effect.gen(function*() {
      yield* headTo(5)
      yield* update({ deviceId: "  d1 ", version: 2 })
      yield* TestClock.adjust(1000)
      yield* update({ version: 2 })
      yield* TestClock.adjust(1000)
      yield* update({ version: 5 })
      assert.deepStrictEqual(yield* stored, [
        { workspace_id: ws, device_id: "d1", user_id: alice.userId, version: 5, updated_at: 2000 }
      ])
    })))

  it.effect("never regresses: CursorRegressed (409) and the old value is kept", () =>
    withGateway(Effect.gen(function*() {
      yield* headTo(5)
      yield* update({ version: 4 })
      const error = yield* Effect.flip(update({ version: 3 }))
      assert.instanceOf(error, CursorRegressed)
      assert.deepStrictEqual([error.deviceId, error.current, error.requested, error.status], ["d1", 4, 3, 409])
      assert.strictEqual((yield* stored)[0].version, 4)
    })))

  it.effect("never goes past the workspace head", () =>
    withGateway(Effect.gen(function*() {
      const empty = yield* Effect.flip(update({ version: 1 }))
      assert.instanceOf(empty, InvalidInput)
      assert.strictEqual(empty.reason, "Cursor exceeds workspace version")
      yield* headTo(3)
      yield* headTo(9, "ws-2")
      assert.instanceOf(yield* Effect.flip(update({ version: 4 })), InvalidInput)
      yield* update({ version: 3 })
      assert.strictEqual((yield* stored).length, 1)
    })))

  it.effect("belongs to the first user who set it", () =>
    withGateway(Effect.gen(function*() {
      yield* headTo(3)
      yield* update({ version: 1 })
      const error = yield* Effect.flip(update({ version: 2 }, bob))
      assert.instanceOf(error, Forbidden)
      assert.strictEqual(error.reason, "Device cursor belongs to another user")
      assert.strictEqual(error.status, 403)
      assert.deepStrictEqual((yield* stored).map((c) => [c.user_id, c.version]), [[alice.userId, 1]])
      // The same device id is another cursor in another workspace.
      yield* headTo(3, "ws-2")
      yield* Effect.flatMap(SyncGateway, (g) => g.updateCursor({ scope: { workspaceId: "ws-2" }, deviceId: "d1", version: 2 }, bob))
      assert.strictEqual((yield* stored).length, 2)
    })))

  it.effect("needs a session user (401) and a well-formed request (400)", () =>
    withGateway(Effect.gen(function*() {
      yield* headTo(1)
      const anonymous = yield* Effect.flip(update({ version: 1 }, null))
      assert.instanceOf(anonymous, Unauthenticated)
      assert.strictEqual(anonymous.status, 401)
      for (const bad of [{ deviceId: "   " }, { deviceId: "x".repeat(257) }, { version: -1 }, { version: 1.5 }, { version: Number.MAX_SAFE_INTEGER + 2 }, { version: "1" }, { scope: { workspaceId: "" } }]) {
        assert.instanceOf(yield* Effect.flip(update(bad)), InvalidInput, JSON.stringify(bad))
      }
      yield* update({ deviceId: "x".repeat(256), version: 1 })
      assert.deepStrictEqual((yield* stored).map((c) => c.device_id.length), [256])
    })))

  it.effect("reads and writes through the primary keys", () =>
    withGateway(Effect.gen(function*() {
      yield* headTo(2)
      const { captured } = yield* captureStatements(Effect.zip(update({ version: 1 }), update({ version: 2 })))
      assert.deepStrictEqual(yield* fullScans(captured), [])
    })))
})
