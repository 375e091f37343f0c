/**
 * Random schedules of k devices against one workspace: pushes (with in-batch duplicates and
 * replays of earlier batches), pulls, cursor updates, snapshot pages, clock advances (which let
 * quiet devices' cursors and snapshot chains expire) and GC calls, then a final sync of every
 * device. Properties:
 *   1. a device never told to snapshot ends with exactly the server's materialized state;
 *   2. a device told to snapshot converges after snapshot + pull;
 *   3. versions are contiguous (1..head, each allocated once) and each opId has one version while
 *      its entry is retained (GC forgets it: a retry after that is logged anew, see `record`).
 * `OR3_PROP_RUNS` (default 40) and `OR3_PROP_ACTIONS` (default 60) scale the search.
 */
import { assert, describe, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, FastCheck as fc, TestClock } from "effect"
import type { PushResult } from "../src/schema/wire.js"
import { SyncGateway } from "../src/services/SyncGateway.js"
import { del, put } from "./support/ops.js"
import { withGateway } from "./support/syncGateway.js"
import type { Revision } from "../src/services/sync/revision.js"
import { applyChange, applyItem, assertConverged, checkPull, checkSnapshotPage, keyOf, serverState, type StateView } from "./support/syncModel.js"

const runs = Number(process.env.OR3_PROP_RUNS ?? 40)
/** How often the interesting paths ran (printed with `OR3_PROP_STATS=1`, to tune the generator). */
const stats = { told: 0, restarts: 0, gcDeleted: 0, forgotDeletes: 0, relogged: 0 }
const maxActions = Number(process.env.OR3_PROP_ACTIONS ?? 60)
const ws = "ws-prop"
const scope = { workspaceId: ws }
const users = ["user-a", "user-b"]
/** Keys 0-3 are messages, 4 a thread, 5 a notification (users fight over it: UNAUTHORIZED). */
const keyCount = 6

interface OpSpec { readonly kind: "put" | "delete"; readonly key: number; readonly clock: number; readonly dup: boolean }
type Action =
  | { readonly _tag: "push"; readonly device: number; readonly ops: ReadonlyArray<OpSpec>; readonly replay: boolean }
  | { readonly _tag: "pull"; readonly device: number; readonly limit: number }
  | { readonly _tag: "cursor"; readonly device: number }
  | { readonly _tag: "snapshot"; readonly device: number; readonly pageSize: number }
  | { readonly _tag: "advance"; readonly seconds: number }
  | { readonly _tag: "gc"; readonly tombstones: boolean; readonly retention: number }

const opArb: fc.Arbitrary<OpSpec> = fc.record({
  kind: fc.constantFrom("put", "put", "delete"),
  key: fc.nat(keyCount - 1),
  clock: fc.nat(6),
  dup: fc.boolean()
})
const actionArb = (k: number): fc.Arbitrary<Action> => {
  const device = fc.nat(k - 1)
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ _tag: fc.constant("push" as const), device, ops: fc.array(opArb, { minLength: 1, maxLength: 4 }), replay: fc.constantFrom(false, false, false, true) }) },
    { weight: 5, arbitrary: fc.record({ _tag: fc.constant("pull" as const), device, limit: fc.integer({ min: 1, max: 5 }) }) },
    { weight: 2, arbitrary: fc.record({ _tag: fc.constant("cursor" as const), device }) },
    { weight: 3, arbitrary: fc.record({ _tag: fc.constant("snapshot" as const), device, pageSize: fc.integer({ min: 1, max: 3 }) }) },
    { weight: 3, arbitrary: fc.record({ _tag: fc.constant("advance" as const), seconds: fc.integer({ min: 60, max: 3 * 3600 }) }) },
    { weight: 3, arbitrary: fc.record({ _tag: fc.constant("gc" as const), tombstones: fc.boolean(), retention: fc.constantFrom(3600, 7200) }) }
  )
}
const scheduleArb = fc.integer({ min: 2, max: 4 }).chain((k) =>
  fc.record({ devices: fc.constant(k), actions: fc.array(actionArb(k), { minLength: 1, maxLength: maxActions, size: "max" }) }))

interface Device {
  readonly id: string
  readonly session: { readonly userId: string }
  state: StateView
  cursor: number
  /** Pulling, told to snapshot, or in the middle of a snapshot chain (staging its items). */
  mode: "pull" | "told" | { readonly token: string; readonly watermark: number; readonly staging: StateView }
  toldToSnapshot: boolean
  lastBatch: ReadonlyArray<BuiltOp> | undefined
}

type BuiltOp = ReturnType<typeof put> | ReturnType<typeof del>

const tableOf = (key: number) => (key < 4 ? "messages" : key === 4 ? "threads" : "notifications")

const buildOp = (spec: OpSpec, device: Device) => {
  const table = tableOf(spec.key)
  const common = { table, pk: `k${spec.key}`, clock: spec.clock, deviceId: device.id }
  if (spec.kind === "delete") return del(common)
  return table === "notifications"
    ? put({ ...common, payload: { id: common.pk, type: "t", title: `${device.id}@${spec.clock}` } })
    : put(common)
}

/** Everything the run observed that property 3 checks, and the deletes tombstone GC forgot. */
interface Ledger {
  readonly versions: Array<number>
  readonly opVersions: Map<string, number>
  readonly forgotten: Map<string, Revision>
}

/** The keys' revisions of every tombstone of the workspace. */
const tombstoneRevisions = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ table_name: string; pk: string; clock: number; hlc: string; op_id: string }>`
    SELECT table_name, pk, clock, hlc, op_id FROM tombstones WHERE workspace_id = ${ws}`
  return new Map(rows.map((t) => [keyOf(t.table_name, t.pk), { clock: t.clock, hlc: t.hlc, opId: t.op_id }]))
})

/**
 * Records a push's versions. An opId keeps its version while its change-log entry exists; once GC
 * removed the entry, a retry is a new op (a new version, never `replayed`), which LWW makes
 * harmless: it ties with itself or loses again (see docs/sync.md, "Idempotency after GC"). Only a
 * key whose delete tombstone GC forgot takes the retry as new (what the retention window bounds).
 */
const record = (ledger: Ledger, ops: ReadonlyArray<BuiltOp>, result: PushResult) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const keys = new Map(ops.map((op) => [op.stamp.opId, keyOf(op.tableName, op.pk)]))
    for (const r of result.results) {
      if (!r.success || r.serverVersion === undefined) continue
      const known = ledger.opVersions.get(r.opId)
      if (known === r.serverVersion) {
        assert.strictEqual(r.replayed, true)
        continue
      }
      assert.notStrictEqual(r.replayed, true)
      if (known !== undefined) {
        const [still] = yield* sql`SELECT 1 FROM change_log WHERE workspace_id = ${ws} AND server_version = ${known}`
        assert.isUndefined(still, `opId ${r.opId} got a second version while its entry ${known} is retained`)
        if (!ledger.forgotten.has(keys.get(r.opId)!)) assert.strictEqual(r.applied, false)
        stats.relogged++
      }
      ledger.opVersions.set(r.opId, r.serverVersion)
      ledger.versions.push(r.serverVersion)
    }
  })

/** One snapshot page for a device; restarts the chain when it expired or was lost. */
const snapshotPage = (device: Device, pageSize: number) =>
  Effect.gen(function*() {
    const g = yield* SyncGateway
    const chain = typeof device.mode === "object" ? device.mode : undefined
    const request = { scope, pageSize, ...(chain === undefined ? {} : { pageToken: chain.token }) }
    const page = yield* g.snapshot(request, device.session).pipe(
      Effect.catchTag("SnapshotExpired", () => Effect.succeed(undefined))
    )
    if (page === undefined) {
      stats.restarts++
      device.mode = "told"
      return
    }
    checkSnapshotPage(request, page)
    if (chain !== undefined) assert.strictEqual(page.highWatermark, chain.watermark)
    const staging: StateView = chain?.staging ?? new Map()
    page.items.forEach((item) => applyItem(staging, item))
    if (page.nextPageToken === null) {
      device.state = staging
      device.cursor = page.highWatermark
      device.mode = "pull"
    } else {
      device.mode = { token: page.nextPageToken, watermark: page.highWatermark, staging }
    }
  })

const pullPage = (device: Device, limit: number) =>
  Effect.gen(function*() {
    const g = yield* SyncGateway
    const response = yield* g.pull({ scope, cursor: device.cursor, limit }, device.session)
    checkPull(device.cursor, response)
    if (response.requiresSnapshot) {
      device.mode = "told"
      device.toldToSnapshot = true
      stats.told++
      return false
    }
    response.changes.forEach((change) => applyChange(device.state, change))
    device.cursor = response.nextCursor
    return response.hasMore
  })

const step = (devices: ReadonlyArray<Device>, ledger: Ledger, action: Action) =>
  Effect.gen(function*() {
    const g = yield* SyncGateway
    switch (action._tag) {
      case "push": {
        const device = devices[action.device]
        const ops = action.replay && device.lastBatch !== undefined
          ? device.lastBatch
          : action.ops.flatMap((spec) => {
            const op = buildOp(spec, device)
            return spec.dup ? [op, op] : [op]
          })
        device.lastBatch = ops
        yield* record(ledger, ops, yield* g.push({ scope, ops }, device.session))
        return
      }
      case "pull": {
        const device = devices[action.device]
        if (device.mode === "pull") yield* pullPage(device, action.limit)
        return
      }
      case "cursor": {
        const device = devices[action.device]
        if (device.mode === "pull") yield* g.updateCursor({ scope, deviceId: device.id, version: device.cursor }, device.session)
        return
      }
      case "snapshot": {
        const device = devices[action.device]
        if (device.mode !== "pull") yield* snapshotPage(device, action.pageSize)
        return
      }
      case "advance":
        return yield* TestClock.adjust(action.seconds * 1000)
      case "gc": {
        const input = { scope, retentionSeconds: action.retention }
        const sql = yield* SqlClient.SqlClient
        const [before] = yield* sql<{ horizon: number }>`SELECT horizon FROM sync_heads WHERE workspace_id = ${ws}`
        const tombsBefore = yield* tombstoneRevisions
        const report = yield* (action.tombstones ? g.gcTombstones(input) : g.gcChangeLog(input))
        const tombsAfter = yield* tombstoneRevisions
        const [{ n: horizonMoved }] = yield* sql<{ n: number }>`SELECT count(*) AS n FROM sync_heads
          WHERE workspace_id = ${ws} AND horizon > ${before?.horizon ?? 0}`
        if (horizonMoved > 0) {
          const state = yield* serverState(ws, undefined)
          for (const [key, revision] of tombsBefore) {
            if (!tombsAfter.has(key) && !state.has(key)) ledger.forgotten.set(key, revision)
          }
        }
        assert.strictEqual(report.workspaceId, ws)
        stats.gcDeleted += report.deleted
        // Compaction never loses what a device needs: only tombstone GC moves the horizon.
        if (!action.tombstones) assert.strictEqual(report.horizon, before?.horizon ?? 0)
        if (report.horizon > (before?.horizon ?? 0)) stats.forgotDeletes++
      }
    }
  })

/** Brings a device up to date: pull to the end, snapshotting first when told to. */
const finish = (device: Device) =>
  Effect.gen(function*() {
    for (let guard = 0; guard < 10_000; guard++) {
      if (device.mode === "pull") {
        if (!(yield* pullPage(device, 7)) && device.mode === "pull") return
      } else {
        yield* snapshotPage(device, 3)
      }
    }
    assert.fail("device did not converge")
  })

const checkLedger = (ledger: Ledger) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const [head] = yield* sql<{ head: number }>`SELECT head FROM sync_heads WHERE workspace_id = ${ws}`
    const sortedVersions = [...ledger.versions].sort((a, b) => a - b)
    assert.deepStrictEqual(sortedVersions, Array.from({ length: head?.head ?? 0 }, (_, i) => i + 1))
    const log = yield* sql<{ op_id: string; server_version: number }>`
      SELECT op_id, server_version FROM change_log WHERE workspace_id = ${ws}`
    for (const entry of log) assert.strictEqual(ledger.opVersions.get(entry.op_id), entry.server_version)
    assert.strictEqual(new Set(log.map((e) => e.op_id)).size, log.length)
  })

describe("sync properties", () => {
  it.effect.prop(
    "devices converge under random pushes, pulls, snapshots, cursors, absences and GC; versions stay contiguous",
    [scheduleArb],
    ([schedule]) =>
      withGateway(Effect.gen(function*() {
        const devices: Array<Device> = Array.from({ length: schedule.devices }, (_, i) => ({
          id: `device-${i}`,
          session: { userId: users[i % users.length] },
          state: new Map(),
          cursor: 0,
          mode: "pull",
          toldToSnapshot: false,
          lastBatch: undefined
        }))
        const ledger: Ledger = { versions: [], opVersions: new Map(), forgotten: new Map() }
        for (const action of schedule.actions) yield* step(devices, ledger, action)
        for (const device of devices) {
          yield* finish(device)
          const server = yield* serverState(ws, device.session.userId)
          assertConverged(device.state, server, `${device.id} (told to snapshot: ${device.toldToSnapshot})`, ledger.forgotten)
        }
        yield* checkLedger(ledger)
      })),
    { timeout: 600_000, fastCheck: { numRuns: runs } }
  )
  if (process.env.OR3_PROP_STATS) it("stats", () => { console.log(JSON.stringify(stats)) })
})
