/**
 * SyncGateway conformance: push, pull, cursors, snapshot and GC behaviours every SqlClient
 * driver must give the same way. `registerSyncConformance` registers them for one driver.
 */
import { assert, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { CursorRegressed, InvalidInput } from "../../src/schema/errors.js"
import { SyncGateway } from "../../src/services/SyncGateway.js"
import { del, put } from "../support/ops.js"
import { type Services, servicesOver, type SqlLayer } from "./services.js"

const scope = { workspaceId: "ws-c" }
const alice = { userId: "user-alice" }
const push = (ops: ReadonlyArray<unknown>) => Effect.flatMap(SyncGateway, (g) => g.push({ scope, ops }, alice))
const pull = (cursor: number, limit = 1000) => Effect.flatMap(SyncGateway, (g) => g.pull({ scope, cursor, limit }, alice))
const cursor = (deviceId: string, version: number) =>
  Effect.flatMap(SyncGateway, (g) => g.updateCursor({ scope, deviceId, version }, alice))

export const registerSyncConformance = (sql: SqlLayer) => {
  const test = (name: string, body: Effect.Effect<void, unknown, Services>) =>
    it.effect(name, () => Effect.provide(body, servicesOver(sql)), 60_000)

  test("push allocates contiguous versions; a replayed opId keeps its version and allocates nothing",
    Effect.gen(function*() {
      const a = put({ pk: "a" })
      const first = yield* push([a, put({ pk: "b" }), put({ pk: "c" })])
      assert.deepStrictEqual(first.results.map((r) => r.serverVersion), [1, 2, 3])
      const replay = yield* push([a, put({ pk: "d" })])
      assert.deepStrictEqual(replay.results.map((r) => [r.serverVersion, r.replayed ?? false]), [[1, true], [4, false]])
      assert.strictEqual(replay.serverVersion, 4)
    }))

  test("last writer wins on (clock, hlc, opId); a loser is logged but not applied or served; a delete beats a stale put",
    Effect.gen(function*() {
      yield* push([put({ pk: "k", clock: 5 })])
      const stale = yield* push([put({ pk: "k", clock: 3 })])
      assert.deepStrictEqual([stale.results[0].success, stale.results[0].applied], [true, false])
      assert.strictEqual(stale.results[0].winner?.kind, "put")
      yield* push([del({ pk: "k", clock: 9 })])
      const late = yield* push([put({ pk: "k", clock: 8 })])
      assert.strictEqual(late.results[0].applied, false)
      assert.strictEqual(late.results[0].winner?.kind, "delete")
      const page = yield* pull(0)
      assert.deepStrictEqual([page.changes.map((c) => [c.serverVersion, c.op]), page.nextCursor], [[[3, "delete"]], 4])
    }))

  test("concurrent pushes to one workspace get unique, contiguous versions",
    Effect.gen(function*() {
      const results = yield* Effect.all(
        Array.from({ length: 10 }, (_, i) => push([put({ pk: `p${i}-a` }), put({ pk: `p${i}-b` })])),
        { concurrency: "unbounded" }
      )
      const versions = results.flatMap((r) => r.results.map((x) => x.serverVersion!)).sort((a, b) => a - b)
      assert.deepStrictEqual(versions, Array.from({ length: 20 }, (_, i) => i + 1))
    }))

  test("pull pages in version order and never goes back",
    Effect.gen(function*() {
      yield* push(["a", "b", "c", "d", "e"].map((pk) => put({ pk })))
      const page = yield* pull(0, 2)
      assert.deepStrictEqual([page.changes.map((c) => c.pk), page.nextCursor, page.hasMore], [["a", "b"], 2, true])
      const rest = yield* pull(page.nextCursor, 10)
      assert.deepStrictEqual([rest.changes.map((c) => c.pk), rest.nextCursor, rest.hasMore], [["c", "d", "e"], 5, false])
      const empty = yield* pull(5)
      assert.deepStrictEqual([empty.changes.length, empty.nextCursor], [0, 5])
    }))

  test("cursors move forward only and never past the head",
    Effect.gen(function*() {
      yield* push([put({ pk: "a" }), put({ pk: "b" })])
      yield* cursor("phone", 1)
      yield* cursor("phone", 2)
      assert.instanceOf(yield* Effect.flip(cursor("phone", 1)), CursorRegressed)
      assert.instanceOf(yield* Effect.flip(cursor("phone", 3)), InvalidInput)
    }))

  test("a snapshot pins the head and pages through rows and tombstones while pushes continue",
    Effect.gen(function*() {
      yield* push([put({ pk: "a" }), put({ pk: "b" }), put({ pk: "c" }), del({ pk: "gone" })])
      const gateway = yield* SyncGateway
      const first = yield* gateway.snapshot({ scope, pageSize: 2 }, alice)
      assert.strictEqual(first.highWatermark, 4)
      yield* push([put({ pk: "a", clock: 2 }), put({ pk: "z" })])
      const items = [...first.items]
      let token = first.nextPageToken
      while (token !== null) {
        const page = yield* gateway.snapshot({ scope, pageSize: 2, pageToken: token }, alice)
        assert.strictEqual(page.highWatermark, 4)
        items.push(...page.items)
        token = page.nextPageToken
      }
      assert.deepStrictEqual(items.map((item) => [item.kind, item.pk]), [["row", "a"], ["row", "b"], ["row", "c"], ["tombstone", "gone"]])
      const a = items[0]
      assert.strictEqual(a.kind === "row" ? a.revision.clock : -1, 1, "the state at the watermark, not the newer put")
    }))

  test("GC compacts, forgets old deletes, and sends a device behind a forgotten delete to a snapshot",
    Effect.gen(function*() {
      yield* push([put({ pk: "a" }), put({ pk: "a", clock: 2 }), put({ pk: "b" }), del({ pk: "b", clock: 2 })])
      yield* TestClock.adjust(2 * 86_400_000)
      yield* push([put({ pk: "fresh" })])
      const gateway = yield* SyncGateway
      const log = yield* gateway.gcChangeLog({ scope, retentionSeconds: 86_400 })
      assert.deepStrictEqual([log.deleted, log.horizon], [2, 0], "the superseded entries of a and b go")
      assert.deepStrictEqual((yield* pull(0)).changes.map((c) => [c.pk, c.op]), [["a", "put"], ["b", "delete"], ["fresh", "put"]])
      const tombs = yield* gateway.gcTombstones({ scope, retentionSeconds: 86_400 })
      assert.deepStrictEqual([tombs.deleted, tombs.horizon], [1, 4], "b's delete is forgotten")
      const behind = yield* pull(3)
      assert.deepStrictEqual([behind.requiresSnapshot, behind.oldestRetainedVersion], [true, 5])
      const fresh = yield* pull(0)
      assert.deepStrictEqual([fresh.requiresSnapshot, fresh.changes.map((c) => c.pk)], [false, ["a", "fresh"]])
    }))
}
