import { assert, describe, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, TestClock } from "effect"
import { InvalidInput, SnapshotExpired } from "../src/schema/errors.js"
import { Limits } from "../src/schema/limits.js"
import { SyncGateway } from "../src/services/SyncGateway.js"
import { del, put } from "./support/ops.js"
import { captureStatements, fullScans } from "./support/queryPlans.js"
import { withGateway } from "./support/syncGateway.js"
import { applyItem, pullAll, readSnapshot, serverState, sorted, type StateView } from "./support/syncModel.js"

const ws = "ws-1"
const scope = { workspaceId: ws }
const alice = { userId: "user-alice" }
const hour = 3600

const push = (ops: ReadonlyArray<unknown>) => Effect.flatMap(SyncGateway, (g) => g.push({ scope, ops }, alice))
const gcLog = (retentionSeconds: unknown = hour) =>
  Effect.flatMap(SyncGateway, (g) => g.gcChangeLog({ scope, retentionSeconds }))
const gcTombs = (retentionSeconds: unknown = hour) =>
  Effect.flatMap(SyncGateway, (g) => g.gcTombstones({ scope, retentionSeconds }))
const cursor = (deviceId: string, version: number) =>
  Effect.flatMap(SyncGateway, (g) => g.updateCursor({ scope, deviceId, version }, alice))
const pull = (cursorAt: number) =>
  Effect.flatMap(SyncGateway, (g) => g.pull({ scope, cursor: cursorAt, limit: 1000 }, alice))
const versions = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  Effect.map(sql<{ v: number }>`SELECT server_version AS v FROM change_log WHERE workspace_id = ${ws} ORDER BY 1`, (rows) =>
    rows.map((r) => r.v)))
const tombstonePks = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  Effect.map(sql<{ pk: string }>`SELECT pk FROM tombstones WHERE workspace_id = ${ws} ORDER BY pk`, (rows) => rows.map((r) => r.pk)))
const later = (seconds: number) => TestClock.adjust(seconds * 1000)

/** A device that starts empty and syncs from `from`, snapshotting when told to. */
const syncFresh = (from: number) =>
  Effect.gen(function*() {
    const state: StateView = new Map()
    let result = yield* pullAll(ws, alice, from, state)
    if (result.requiresSnapshot) {
      state.clear()
      const snap = yield* readSnapshot(ws, alice, { pageSize: 2 })
      snap.items.forEach((item) => applyItem(state, item))
      result = yield* pullAll(ws, alice, snap.watermark, state)
    }
    return { state, ...result }
  })

describe("gcChangeLog", () => {
  it.effect("retention must be an integer in [3600, 31536000] seconds", () =>
    withGateway(Effect.gen(function*() {
      for (const bad of [3599, Limits.maxRetentionSeconds + 1, 3600.5, "3600", null]) {
        assert.instanceOf(yield* Effect.flip(gcLog(bad)), InvalidInput, String(bad))
        assert.instanceOf(yield* Effect.flip(gcTombs(bad)), InvalidInput, String(bad))
      }
      const report = yield* gcLog(Limits.maxRetentionSeconds)
      assert.deepStrictEqual(report, { workspaceId: ws, expiredCursors: 0, deleted: 0, horizon: 0 })
    })))

  it.effect("nothing inside the window goes", () =>
    withGateway(Effect.gen(function*() {
      yield* push([put({ pk: "a" }), put({ pk: "a", clock: 2 }), del({ pk: "b" })])
      yield* later(hour - 1)
      assert.strictEqual((yield* gcLog()).deleted, 0)
      assert.deepStrictEqual(yield* versions, [1, 2, 3])
    })))

  it.effect("superseded entries and losers go, whatever the cursors; every key's winner stays; nobody needs a snapshot", () =>
    withGateway(Effect.gen(function*() {
      yield* cursor("lagging", 0)
      yield* push([put({ pk: "a", clock: 1 }), put({ pk: "a", clock: 2 }), put({ pk: "a", clock: 1, hlc: "0" })])
      yield* push([put({ pk: "b" }), del({ pk: "b", clock: 2 }), del({ pk: "c" })])
      yield* later(2 * hour)
      yield* cursor("lagging", 0)
      const report = yield* gcLog()
      assert.deepStrictEqual(report, { workspaceId: ws, expiredCursors: 0, deleted: 3, horizon: 0 })
      assert.deepStrictEqual(yield* versions, [2, 5, 6])
      const device = yield* syncFresh(0)
      assert.isFalse(device.requiresSnapshot)
      assert.deepStrictEqual(sorted(device.state), sorted(yield* serverState(ws, alice.userId)))
      assert.deepStrictEqual([(yield* pull(0)).oldestRetainedVersion, (yield* pull(0)).requiresSnapshot], [0, false])
    })))

  it.effect("winners stay with no cursor to protect them: a pull from any cursor, 0 included, is complete", () =>
    withGateway(Effect.gen(function*() {
      yield* push(["a", "b", "c", "d", "e", "f"].map((pk) => put({ pk })))
      yield* push([put({ pk: "a", clock: 2 }), del({ pk: "b", clock: 2 })])
      yield* cursor("idle", 2)
      yield* later(3 * hour)
      const report = yield* gcLog()
      assert.deepStrictEqual(report, { workspaceId: ws, expiredCursors: 1, deleted: 2, horizon: 0 })
      const served = (from: number) =>
        Effect.map(pull(from), (page) => [page.requiresSnapshot, page.changes.map((c) => `${c.pk}@${c.serverVersion}`)])
      assert.deepStrictEqual(yield* served(0), [false, ["c@3", "d@4", "e@5", "f@6", "a@7", "b@8"]])
      assert.deepStrictEqual(yield* served(5), [false, ["f@6", "a@7", "b@8"]])
      assert.deepStrictEqual(sorted((yield* syncFresh(0)).state), sorted(yield* serverState(ws, alice.userId)))
    })))

  it.effect("never loses a lagging device: it pulls the current winners of everything it missed", () =>
    withGateway(Effect.gen(function*() {
      yield* push(["a", "b", "c"].map((pk) => put({ pk })))
      const lagging: StateView = new Map()
      const synced = yield* pullAll(ws, alice, 0, lagging)
      yield* cursor("lagging", synced.cursor)
      let deleted = 0
      for (let round = 2; round < 12; round++) {
        yield* push([put({ pk: "a", clock: round }), del({ pk: ["b", "c"][round % 2], clock: round }), put({ pk: `n${round}` })])
        yield* later(hour)
        yield* cursor("fast", (yield* pull(0)).nextCursor)
        yield* cursor("lagging", synced.cursor)
        const report = yield* gcLog()
        const tombs = yield* gcTombs()
        deleted += report.deleted + tombs.deleted
        assert.strictEqual(report.horizon, 0)
        assert.isAtMost(tombs.horizon, synced.cursor)
      }
      assert.isAbove(deleted, 10, "superseded history was compacted meanwhile")
      const result = yield* pullAll(ws, alice, synced.cursor, lagging)
      assert.isFalse(result.requiresSnapshot)
      assert.deepStrictEqual(sorted(lagging), sorted(yield* serverState(ws, alice.userId)))
    })))

  it.effect("a live snapshot chain keeps every entry it walks; they go once the chain expired", () =>
    withGateway(Effect.gen(function*() {
      yield* push(["a", "b", "c", "d"].map((pk) => put({ pk })))
      yield* push([del({ pk: "d", clock: 2 })])
      yield* later(3000)
      const atW = yield* serverState(ws, alice.userId)
      const g = yield* SyncGateway
      const first = yield* g.snapshot({ scope, pageSize: 1 }, alice)
      yield* push([put({ pk: "b", clock: 5 }), put({ pk: "b", clock: 6 }), del({ pk: "c", clock: 5 }), put({ pk: "d", clock: 5 })])
      yield* later(700)
      assert.strictEqual((yield* gcLog()).deleted, 0)
      const state: StateView = new Map()
      first.items.forEach((item) => applyItem(state, item))
      let token = first.nextPageToken
      while (token !== null) {
        const next = yield* g.snapshot({ scope, pageSize: 1, pageToken: token }, alice)
        next.items.forEach((item) => applyItem(state, item))
        token = next.nextPageToken
      }
      assert.deepStrictEqual(sorted(state), sorted(atW))
      yield* later(hour)
      const after = yield* gcLog()
      assert.isAbove(after.deleted, 0)
      assert.deepStrictEqual(sorted((yield* syncFresh(0)).state), sorted(yield* serverState(ws, alice.userId)))
    })))

  it.effect("a chain whose walk meets a missing entry fails with SnapshotExpired (or uses the tombstone that holds it)", () =>
    withGateway(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* push([put({ pk: "a" }), put({ pk: "b" }), del({ pk: "c" }), put({ pk: "z" })])
      // No GC rule removes a key's winner; a log damaged by hand (or by an older release) can miss one.
      yield* sql`DELETE FROM change_log WHERE workspace_id = ${ws} AND server_version IN (3, 4)`
      const g = yield* SyncGateway
      const first = yield* g.snapshot({ scope, pageSize: 1 }, alice)
      // c's state at W (the delete) is still its tombstone: the chain survives a put on c.
      yield* push([put({ pk: "c", clock: 9 })])
      const second = yield* g.snapshot({ scope, pageSize: 2, pageToken: first.nextPageToken }, alice)
      assert.deepStrictEqual(second.items.map((i) => [i.pk, i.kind]), [["b", "row"], ["c", "tombstone"]])
      // z's state at W is gone: the chain is not rebuilt from a guess, and a new one shows the current state.
      yield* push([put({ pk: "z", clock: 9 })])
      const lost = yield* Effect.flip(g.snapshot({ scope, pageSize: 2, pageToken: second.nextPageToken }, alice))
      assert.instanceOf(lost, SnapshotExpired)
      const fresh = yield* readSnapshot(ws, alice)
      assert.deepStrictEqual(fresh.items.map((i) => [i.pk, i.revision.clock]), [["a", 1], ["b", 1], ["c", 9], ["z", 9]])
    })))

  it.effect("works in batches of at most gcBatchSize rows, one transaction each, through indexes only", () =>
    withGateway(Effect.gen(function*() {
      yield* cursor("lagging", 0)
      const n = 2 * Limits.gcBatchSize + 500
      for (let i = 0; i < n; i += Limits.maxPushOps) {
        yield* push(Array.from({ length: Limits.maxPushOps }, (_, j) => put({ pk: `k${(i + j) % 7}`, clock: i + j + 1 })))
      }
      yield* later(2 * hour)
      yield* cursor("lagging", 0)
      const { value: report, captured } = yield* captureStatements(gcLog())
      assert.strictEqual(report.deleted, n - 7)
      const deletes = captured.filter((s) => /^\s*DELETE FROM change_log/.test(s.sql))
      assert.isAtLeast(deletes.length, 3)
      for (const d of deletes) assert.isAtMost(d.params.length, Limits.gcBatchSize + 1)
      assert.deepStrictEqual(yield* fullScans(captured), [])
      assert.strictEqual((yield* syncFresh(0)).state.size, 7)
    })))
  it.effect("every GC statement uses an index: expiry, guards, winner lookups (rows and row-less tombstones), deletes, horizon", () =>
    withGateway(Effect.gen(function*() {
      yield* cursor("idle", 0)
      yield* push([put({ pk: "a" }), put({ pk: "a", clock: 2 }), del({ pk: "gone" }), put({ table: "threads", pk: "t" })])
      yield* push([put({ table: "notifications", pk: "n", payload: { id: "n", type: "t", title: "n" } }), del({ pk: "a", clock: 3 })])
      yield* push([put({ pk: "gone", clock: 0 }), put({ table: "threads", pk: "t", clock: 0 })])
      yield* later(2 * hour)
      const g = yield* SyncGateway
      yield* g.snapshot({ scope, pageSize: 1 }, alice)
      const live = yield* captureStatements(Effect.zip(gcLog(), gcTombs()))
      assert.deepStrictEqual([live.value[0].expiredCursors, live.value[0].deleted, live.value[1].deleted], [1, 4, 0])
      yield* later(hour)
      const idle = yield* captureStatements(Effect.zip(gcLog(), gcTombs()))
      assert.deepStrictEqual([idle.value[0].deleted, idle.value[1].deleted, idle.value[1].horizon], [0, 2, 6])
      const captured = [...live.captured, ...idle.captured]
      for (const pattern of [
        /DELETE FROM device_cursors/,
        /FROM tombstones\s+WHERE workspace_id = \? AND table_name = \? AND pk IN/,
        /DELETE FROM change_log/,
        /DELETE FROM "?s_messages"?/,
        /UPDATE sync_heads SET horizon/,
        /DELETE FROM tombstones/
      ]) {
        assert.isTrue(captured.some((c) => pattern.test(c.sql)), String(pattern))
      }
      assert.deepStrictEqual(yield* fullScans(captured), [])
    })))
})

describe("gcTombstones", () => {
  it.effect("drops stale tombstones, forgets old deletes (raising the horizon), keeps deletes inside the window", () =>
    withGateway(Effect.gen(function*() {
      yield* push([put({ pk: "a" }), put({ pk: "b" }), put({ pk: "c" })])
      yield* push([del({ pk: "a", clock: 5 }), del({ pk: "orphan", clock: 5 }), del({ pk: "b", clock: 5 }), put({ pk: "b", clock: 6 })])
      yield* later(2 * hour)
      yield* push([del({ pk: "c", clock: 5 })])
      const report = yield* gcTombs()
      assert.deepStrictEqual(report, { workspaceId: ws, expiredCursors: 0, deleted: 3, horizon: 5 })
      assert.deepStrictEqual(yield* tombstonePks, ["c"])
      assert.deepStrictEqual(yield* versions, [1, 2, 3, 6, 7, 8], "a's and orphan's deletes (4, 5) are forgotten; superseded entries wait for compaction")
      const items = (yield* readSnapshot(ws, alice)).items
      assert.deepStrictEqual(items.map((i) => [i.pk, i.kind]), [["b", "row"], ["c", "tombstone"]])
      // A device that never synced has nothing to delete; one behind the forgotten deletes must rebuild.
      const fresh = yield* pull(0)
      assert.deepStrictEqual([fresh.requiresSnapshot, fresh.changes.map((c) => c.pk)], [false, ["b", "c"]])
      const behind = yield* pull(4)
      assert.deepStrictEqual([behind.requiresSnapshot, behind.oldestRetainedVersion], [true, 6])
      assert.deepStrictEqual(behind.changes.map((c) => c.pk), ["b", "c"], "still served, for clients that ignore the flag")
      assert.isFalse((yield* pull(5)).requiresSnapshot)
      // What the window bounds: a put for a forgotten key is a new key.
      const late = yield* push([put({ pk: "a", clock: 4 })])
      assert.strictEqual(late.results[0].applied, true)
    })))

  it.effect("forgets only deletes every remaining cursor has passed, and nothing while a snapshot chain is live", () =>
    withGateway(Effect.gen(function*() {
      yield* push([put({ pk: "a" }), put({ pk: "b" }), del({ pk: "a", clock: 2 }), del({ pk: "b", clock: 2 })])
      yield* cursor("d", 3)
      yield* later(3 * hour)
      yield* cursor("d", 3)
      const g = yield* SyncGateway
      yield* g.snapshot({ scope, pageSize: 1 }, alice)
      const { value: during, captured } = yield* captureStatements(gcTombs(2 * hour))
      assert.deepStrictEqual([during.deleted, during.horizon], [0, 0])
      assert.deepStrictEqual(yield* tombstonePks, ["a", "b"])
      assert.deepStrictEqual(yield* fullScans(captured), [])
      yield* later(hour + 1)
      const after = yield* gcTombs(2 * hour)
      assert.deepStrictEqual([after.expiredCursors, after.deleted, after.horizon], [0, 1, 3])
      assert.deepStrictEqual(yield* tombstonePks, ["b"])
    })))

  it.effect("a device whose cursor expired is told to rebuild once a delete it missed is forgotten, and converges", () =>
    withGateway(Effect.gen(function*() {
      yield* push(["a", "b", "c"].map((pk) => put({ pk })))
      const away: StateView = new Map()
      const synced = yield* pullAll(ws, alice, 0, away)
      yield* cursor("away", synced.cursor)
      yield* push([del({ pk: "b", clock: 2 }), put({ pk: "c", clock: 2 })])
      yield* later(2 * hour)
      const report = yield* gcTombs()
      assert.deepStrictEqual([report.expiredCursors, report.deleted, report.horizon], [1, 1, 4])
      const back = yield* pullAll(ws, alice, synced.cursor, away)
      assert.isTrue(back.requiresSnapshot)
      const rebuilt = yield* syncFresh(synced.cursor)
      assert.deepStrictEqual(sorted(rebuilt.state), sorted(yield* serverState(ws, alice.userId)))
      assert.deepStrictEqual([...rebuilt.state.keys()].sort(), ["messages/a", "messages/c"])
    })))
})
