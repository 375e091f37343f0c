import { assert, describe, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, FastCheck as fc, Option, TestClock } from "effect"
import { Forbidden, InvalidInput, SnapshotExpired, Unauthenticated } from "../src/schema/errors.js"
import { Limits } from "../src/schema/limits.js"
import { decodeToken, encodeToken } from "../src/services/sync/snapshotToken.js"
import { SyncGateway } from "../src/services/SyncGateway.js"
import { del, put } from "./support/ops.js"
import { captureStatements, fullScans } from "./support/queryPlans.js"
import { withGateway } from "./support/syncGateway.js"
import {
  applyItem,
  checkSnapshotPage,
  pullAll,
  readSnapshot,
  serverState,
  sorted,
  type StateView
} from "./support/syncModel.js"

const ws = "ws-1"
const scope = { workspaceId: ws }
const alice = { userId: "user-alice" }
const bob = { userId: "user-bob" }

const push = (ops: ReadonlyArray<unknown>, session = alice, workspaceId = ws) =>
  Effect.flatMap(SyncGateway, (g) => g.push({ scope: { workspaceId }, ops }, session))

/** `null` = no session (a default parameter would turn `undefined` into alice). */
const page = (request: Record<string, unknown>, session: { userId: string } | null = alice) =>
  Effect.flatMap(SyncGateway, (g) => g.snapshot({ scope, pageSize: 1000, ...request }, session ?? undefined))

const stateOf = (items: ReadonlyArray<Parameters<typeof applyItem>[1]>) => {
  const state: StateView = new Map()
  for (const item of items) applyItem(state, item)
  return state
}

describe("snapshot", () => {
  it.effect("host conformance: a live row and a tombstone at watermark 7, one per page", () =>
    withGateway(Effect.gen(function*() {
      yield* push([put({ pk: "message-live", clock: 1 }), put({ pk: "message-live", clock: 2 })])
      yield* push([put({ pk: "message-live", clock: 3 })])
      yield* push([put({ pk: "message-deleted", clock: 1 }), put({ pk: "message-deleted", clock: 2 })])
      yield* push([put({ pk: "message-deleted", clock: 3 })])
      yield* TestClock.adjust(1001)
      const deleted = yield* push([del({ pk: "message-deleted", clock: 4 })])
      assert.strictEqual(deleted.serverVersion, 7)
      const { items, pages, watermark } = yield* readSnapshot(ws, alice, { pageSize: 1 })
      assert.strictEqual(watermark, 7)
      assert.strictEqual(pages.length, 2)
      assert.deepStrictEqual(items.map((i) => [i.kind, i.pk, i.revision.clock]), [
        ["tombstone", "message-deleted", 4],
        ["row", "message-live", 3]
      ])
      assert.strictEqual(items[0].kind === "tombstone" && items[0].serverDeletedAt, 1001)
      assert.deepStrictEqual(items[1].kind === "row" && items[1].payload, put({ pk: "message-live", clock: 3 }).payload)
    })))

  it.effect("an empty workspace is one empty page at watermark 0", () =>
    withGateway(Effect.gen(function*() {
      const first = yield* page({})
      assert.deepStrictEqual([first.highWatermark, first.items, first.nextPageToken], [0, [], null])
      assert.isAbove(first.snapshotId.length, 0)
    })))

  it.effect("pages show exactly the state at the watermark while pushes continue", () =>
    withGateway(Effect.gen(function*() {
      yield* push(["a", "b", "c", "d", "e", "f"].map((pk) => put({ pk, clock: 1 })))
      yield* push([del({ pk: "b", clock: 2 }), del({ pk: "ghost", clock: 1 }), put({ pk: "c", clock: 2 })])
      yield* push([put({ pk: "t1", table: "threads", clock: 1 })])
      const atW = yield* serverState(ws, alice.userId)
      const first = yield* page({ pageSize: 2 })
      assert.strictEqual(first.highWatermark, 10)
      // After W: updates (several per key), a delete, a revival, new keys, a losing put.
      yield* push([put({ pk: "a", clock: 5 }), put({ pk: "a", clock: 6 }), put({ pk: "a", clock: 7 })])
      yield* push([del({ pk: "d", clock: 3 }), put({ pk: "b", clock: 9 }), put({ pk: "aa", clock: 1 })])
      yield* push([put({ pk: "c", clock: 1 }), put({ pk: "zz", clock: 1 }), del({ pk: "t1", table: "threads", clock: 4 })])
      yield* push([put({ pk: "ghost", clock: 5 }), put({ pk: "e", clock: 8 }), put({ pk: "e", clock: 9 })])
      const items = [...first.items]
      let token = first.nextPageToken
      while (token !== null) {
        const request = { scope, pageSize: 2, pageToken: token }
        const next = yield* page(request)
        checkSnapshotPage(request, next)
        assert.deepStrictEqual([next.snapshotId, next.highWatermark], [first.snapshotId, 10])
        items.push(...next.items)
        token = next.nextPageToken
        yield* push([put({ pk: `new-${items.length}`, clock: 1 })])
      }
      assert.deepStrictEqual(sorted(stateOf(items)), sorted(atW))
      assert.strictEqual(items.find((i) => i.pk === "ghost")?.kind, "tombstone")
    })))

  it.effect("a retried token returns the same page, even after new keys land inside it", () =>
    withGateway(Effect.gen(function*() {
      yield* push(["k1", "k3", "k5", "k7"].map((pk) => put({ pk })))
      const first = yield* page({ pageSize: 2 })
      const second = yield* page({ pageSize: 2, pageToken: first.nextPageToken })
      yield* push([put({ pk: "k4" }), put({ pk: "k6" }), put({ pk: "k5", clock: 9 }), del({ pk: "k7", clock: 9 })])
      const again = yield* page({ pageSize: 2, pageToken: first.nextPageToken })
      assert.deepStrictEqual(again, second)
      assert.deepStrictEqual(second.items.map((i) => [i.pk, i.revision.clock]), [["k5", 1], ["k7", 1]])
    })))

  it.effect("a bootstrapping device converges: snapshot while pushes continue, then pull from the watermark", () =>
    withGateway(Effect.gen(function*() {
      for (let i = 0; i < 30; i++) yield* push([put({ pk: `m${i % 12}`, clock: i }), ...(i % 5 === 0 ? [del({ pk: `m${(i + 3) % 12}`, clock: i })] : [])])
      const state: StateView = new Map()
      const first = yield* page({ pageSize: 3 })
      first.items.forEach((item) => applyItem(state, item))
      let token = first.nextPageToken
      let round = 0
      while (token !== null) {
        round++
        yield* push([put({ pk: `m${round % 15}`, clock: 40 + round, deviceId: "device-b" }), del({ pk: `m${(round * 7) % 15}`, clock: 40 + round, deviceId: "device-b" })])
        const next = yield* page({ pageSize: 3, pageToken: token })
        next.items.forEach((item) => applyItem(state, item))
        token = next.nextPageToken
      }
      const pulled = yield* pullAll(ws, alice, first.highWatermark, state, 7)
      assert.isFalse(pulled.requiresSnapshot)
      assert.deepStrictEqual(sorted(state), sorted(yield* serverState(ws, alice.userId)))
    })))

  it.effect("pages read while pushes run concurrently on other fibers are still the state at W", () =>
    withGateway(Effect.gen(function*() {
      yield* push(Array.from({ length: 40 }, (_, i) => put({ pk: `c${i}`, clock: 1 })))
      yield* push(Array.from({ length: 10 }, (_, i) => del({ pk: `c${i * 4}`, clock: 2 })))
      const atW = yield* serverState(ws, alice.userId)
      const first = yield* page({ pageSize: 4 })
      const pusher = yield* Effect.fork(Effect.withMaxOpsBeforeYield(Effect.forEach(Array.from({ length: 60 }, (_, i) => i), (i) =>
        push([put({ pk: `c${(i * 7) % 45}`, clock: 3 + i, deviceId: "device-b" }), del({ pk: `c${(i * 11) % 45}`, clock: 3 + i, deviceId: "device-b" })]),
        { concurrency: 2 }), 16))
      const reader = Effect.gen(function*() {
        const items = [...first.items]
        let token = first.nextPageToken
        while (token !== null) {
          const next = yield* page({ pageSize: 4, pageToken: token })
          items.push(...next.items)
          token = next.nextPageToken
        }
        return items
      })
      // Yield to the pusher after every few steps, so statements of both interleave.
      const items = yield* Effect.withMaxOpsBeforeYield(reader, 16)
      const sql = yield* SqlClient.SqlClient
      const [{ head }] = yield* sql<{ head: number }>`SELECT head FROM sync_heads WHERE workspace_id = ${ws}`
      assert.isAbove(head, 50, "pushes landed while the chain was read")
      yield* pusher.await
      assert.deepStrictEqual(sorted(stateOf(items)), sorted(atW))
      const state = stateOf(items)
      assert.isFalse((yield* pullAll(ws, alice, first.highWatermark, state)).requiresSnapshot)
      assert.deepStrictEqual(sorted(state), sorted(yield* serverState(ws, alice.userId)))
    })))

  it.effect("notifications: only the caller's rows, never a row-less notification tombstone", () =>
    withGateway(Effect.gen(function*() {
      const note = (pk: string) => put({ table: "notifications", pk, payload: { id: pk, type: "t", title: pk } })
      yield* push([note("n-alice"), note("n-alice-2")], alice)
      yield* push([note("n-bob")], bob)
      yield* push([del({ table: "notifications", pk: "n-alice-2", clock: 2 })], alice)
      const sql = yield* SqlClient.SqlClient
      yield* sql`INSERT INTO tombstones (workspace_id, table_name, pk, clock, hlc, op_id, server_version, owner_user_id, deleted_at, created_at)
                 VALUES (${ws}, 'notifications', 'orphan', 1, 'h', 'o', 1, ${alice.userId}, 0, 0)`
      const { items } = yield* readSnapshot(ws, alice, { pageSize: 1 })
      assert.deepStrictEqual(items.map((i) => [i.kind, i.pk]), [["row", "n-alice"], ["tombstone", "n-alice-2"]])
      const bobs = yield* readSnapshot(ws, bob)
      assert.deepStrictEqual(bobs.items.map((i) => i.pk), ["n-bob"])
    })))

  it.effect("a table filter limits the tables and must stay the same on every page", () =>
    withGateway(Effect.gen(function*() {
      yield* push([put({ pk: "m1" }), put({ pk: "m2" }), put({ table: "threads", pk: "t1" }), put({ table: "kv", pk: "k1" })])
      const { items } = yield* readSnapshot(ws, alice, { pageSize: 1, tables: ["threads", "messages", "threads"] })
      assert.deepStrictEqual(items.map((i) => `${i.tableName}/${i.pk}`), ["messages/m1", "messages/m2", "threads/t1"])
      const first = yield* page({ pageSize: 1, tables: ["messages"] })
      const changed = yield* Effect.flip(page({ pageSize: 1, pageToken: first.nextPageToken, tables: ["threads"] }))
      assert.instanceOf(changed, InvalidInput)
      const dropped = yield* Effect.flip(page({ pageSize: 1, pageToken: first.nextPageToken }))
      assert.instanceOf(dropped, InvalidInput)
      const unknown = yield* Effect.flip(page({ tables: ["messages", "users"] }))
      assert.instanceOf(unknown, InvalidInput)
      assert.strictEqual(unknown.field, "snapshot.tables")
    })))

  it.effect("tokens: another user or workspace is Forbidden, an old or unknown chain is SnapshotExpired; no user is 401", () =>
    withGateway(Effect.gen(function*() {
      yield* push([put({ pk: "a" }), put({ pk: "b" })])
      const first = yield* page({ pageSize: 1 })
      const token = first.nextPageToken!
      // Upstream bug: a token reused by another user of the same workspace.
      const stolen = yield* Effect.flip(page({ pageSize: 1, pageToken: token }, bob))
      assert.instanceOf(stolen, Forbidden)
      assert.strictEqual(stolen.status, 403)
      const elsewhere = yield* Effect.flip(
        Effect.flatMap(SyncGateway, (g) => g.snapshot({ scope: { workspaceId: "ws-2" }, pageSize: 1, pageToken: token }, alice))
      )
      assert.instanceOf(elsewhere, Forbidden)
      const unknown = yield* Effect.flip(page({ pageToken: encodeToken({ snapshotId: "nope", tableName: "messages", pk: "a" }) }))
      assert.instanceOf(unknown, SnapshotExpired)
      assert.strictEqual(unknown.status, 410)
      const noSession = yield* Effect.flip(page({}, null))
      assert.instanceOf(noSession, Unauthenticated)
      assert.strictEqual(noSession.status, 401)
      // Still fine just before the TTL, gone at it.
      yield* TestClock.adjust(Limits.snapshotTtlSeconds * 1000 - 1)
      assert.strictEqual((yield* page({ pageSize: 1, pageToken: token })).items[0].pk, "b")
      yield* TestClock.adjust(1)
      assert.instanceOf(yield* Effect.flip(page({ pageSize: 1, pageToken: token })), SnapshotExpired)
    })))

  it.effect("malformed tokens and page sizes are InvalidInput", () =>
    withGateway(Effect.gen(function*() {
      for (const pageToken of ["not base64!", "AQ", "x".repeat(4097), Buffer.from([2, 1, 65, 1, 65, 0, 65]).toString("base64url")]) {
        const error = yield* Effect.flip(page({ pageToken }))
        assert.instanceOf(error, InvalidInput, pageToken)
      }
      const wrongTable = yield* Effect.flip(page({ pageToken: encodeToken({ snapshotId: "s", tableName: "users", pk: "a" }) }))
      assert.instanceOf(wrongTable, SnapshotExpired)
      for (const pageSize of [0, 1001, 1.5]) assert.instanceOf(yield* Effect.flip(page({ pageSize })), InvalidInput)
    })))

  it.effect("any pk fits in a token under 4096 characters, and pages follow the host's UTF-16 order", () =>
    withGateway(Effect.gen(function*() {
      const astral = "\u{1F600}".repeat(512)
      const pks = ["\uE000", "\u{1F600}", "a\u0000b", "a", astral, "\uFFFF".repeat(1024)]
      yield* push(pks.map((pk) => put({ pk })))
      for (const pageSize of [1, 2, 1000]) {
        const { items, pages } = yield* readSnapshot(ws, alice, { pageSize })
        assert.sameMembers(items.map((i) => i.pk), pks)
        for (const p of pages) if (p.nextPageToken !== null) assert.isAtMost(p.nextPageToken.length, 4096)
      }
      // The host's key puts "a\0b" before "a" and astral characters before U+E000.
      const whole = yield* page({})
      assert.deepStrictEqual(whole.items.map((i) => i.pk), ["a\u0000b", "a", "\u{1F600}", astral, "\uE000", "\uFFFF".repeat(1024)])
    })))

  it.prop(
    "a token round-trips any pk of 1..1024 UTF-16 units within 4096 characters",
    [
      fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: Limits.maxPkLength, size: "max" })
        .map((units) => String.fromCharCode(...units)),
      fc.uuid(),
      fc.constantFrom("messages", "file_meta", "notifications")
    ],
    ([pk, snapshotId, tableName]) => {
      const token = encodeToken({ snapshotId, tableName, pk })
      assert.isAtMost(token.length, Limits.maxPageTokenLength)
      assert.deepStrictEqual(decodeToken(token), Option.some({ snapshotId, tableName, pk }))
    }
  )

  it.effect("reads only through indexes", () =>
    withGateway(Effect.gen(function*() {
      yield* push(["a", "b", "c"].map((pk) => put({ pk })))
      yield* push([del({ pk: "x" }), put({ table: "notifications", pk: "n", payload: { id: "n", type: "t", title: "n" } })])
      const { value: first, captured } = yield* captureStatements(page({ pageSize: 2 }))
      yield* push([put({ pk: "c", clock: 5 }), put({ pk: "c", clock: 6 }), del({ pk: "x", clock: 9 })])
      const rest = yield* captureStatements(readSnapshot(ws, alice, { pageSize: 2 }))
      const later = yield* captureStatements(page({ pageSize: 2, pageToken: first.nextPageToken }))
      const all = [...captured, ...rest.captured, ...later.captured]
      assert.isTrue(all.some((s) => /WITH RECURSIVE/.test(s.sql)), "the walk-back ran")
      assert.deepStrictEqual(yield* fullScans(all), [])
    })))
})

