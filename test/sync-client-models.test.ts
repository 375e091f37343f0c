/**
 * Convergence with the clients that really sync: random histories of 2-4 devices, each an OR3
 * 2026-02 replica or a contract replica (test/support/clientReplicas.ts), editing a few threads and
 * messages online and offline, so that same-clock conflicts (two edits, or an edit and a hard
 * delete, from one base) are common; soft deletes; history GC of both kinds after the clock moved
 * past the retention window, while some devices are away; devices that come back after it; new
 * devices joining after it. At the end every device syncs and must hold exactly the server's live
 * state (payload and clock of every live key, and no other), with one exception, the case no
 * server rule can fix for the 2026-02 client (docs/sync.md, "Tie rules"): it holds a key deleted
 * at clock c while the server's winner is a put of the same clock whose hlc beat that delete.
 *
 * `npm test` runs a fixed seed; `OR3_CONVERGENCE_SEED` and `OR3_CONVERGENCE_RUNS` run others.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect, FastCheck as fc, TestClock } from "effect"
import type { SnapshotItem, SnapshotResponse } from "../src/schema/wire.js"
import { compareText } from "../src/services/sync/revision.js"
import { SyncGateway } from "../src/services/SyncGateway.js"
import { keyOf, makeReplica, type Replica, type ReplicaKind } from "./support/clientReplicas.js"
import { opId } from "./support/ops.js"
import { withGateway } from "./support/syncGateway.js"
import { checkPull, checkSnapshotPage } from "./support/syncModel.js"

const seed = Number(process.env.OR3_CONVERGENCE_SEED ?? 20_261_205)
const runs = Number(process.env.OR3_CONVERGENCE_RUNS ?? 25)
const ws = "ws-clients"
const scope = { workspaceId: ws }
const user = { userId: "user-1" }
const RETENTION = 3600
const tables = ["threads", "messages"] as const

type Action =
  | { readonly _tag: "edit"; readonly device: number; readonly target: number; readonly kind: "put" | "soft" | "delete" }
  | { readonly _tag: "sync"; readonly device: number; readonly limit: number }
  | { readonly _tag: "offline"; readonly device: number; readonly offline: boolean }
  | { readonly _tag: "tick"; readonly seconds: number }
  | { readonly _tag: "gc"; readonly stay: number; readonly tombstonesFirst: boolean; readonly join: boolean }

const kindArb = fc.constantFrom<ReplicaKind>("or3-2026-02", "contract")
const actionArb = (k: number): fc.Arbitrary<Action> => {
  const device = fc.nat(k - 1)
  return fc.oneof(
    { weight: 10, arbitrary: fc.record({ _tag: fc.constant("edit" as const), device, target: fc.integer({ min: -1, max: 5 }), kind: fc.constantFrom("put" as const, "put" as const, "soft" as const, "delete" as const) }) },
    { weight: 6, arbitrary: fc.record({ _tag: fc.constant("sync" as const), device, limit: fc.integer({ min: 1, max: 6 }) }) },
    { weight: 2, arbitrary: fc.record({ _tag: fc.constant("offline" as const), device, offline: fc.boolean() }) },
    { weight: 2, arbitrary: fc.record({ _tag: fc.constant("tick" as const), seconds: fc.integer({ min: 1, max: 300 }) }) },
    { weight: 1, arbitrary: fc.record({ _tag: fc.constant("gc" as const), stay: fc.nat(15), tombstonesFirst: fc.boolean(), join: fc.boolean() }) }
  )
}
const historyArb = fc.array(kindArb, { minLength: 2, maxLength: 4 }).chain((kinds) =>
  fc.record({ kinds: fc.constant(kinds), actions: fc.array(actionArb(kinds.length), { minLength: 10, maxLength: 90 }) }))

interface Device {
  readonly replica: Replica
  cursor: number
  offline: boolean
  /** Back after GC: it syncs before its user edits again (the client syncs on start). */
  returning: boolean
}

/** Every delete pushed, by key: the clock and hlc of each (the exception needs them). */
type DeleteLedger = Map<string, Array<{ readonly clock: number; readonly hlc: string }>>

/** How often the interesting paths ran (printed with `OR3_PROP_STATS=1`, to tune the generator). */
const stats = { runs: 0, rebuilds: 0, forgotten: 0, sameClockConflicts: 0, sameClockPutDelete: 0, exceptions: 0 }

const run = (kinds: ReadonlyArray<ReplicaKind>, actions: ReadonlyArray<Action>) =>
  Effect.gen(function*() {
    const gateway = yield* SyncGateway
    const sql = yield* SqlClient.SqlClient
    const devices: Array<Device> = kinds.map((kind, i) => ({ replica: makeReplica(`d${i}-${kind}`, kind), cursor: 0, offline: false, returning: false }))
    const deletes: DeleteLedger = new Map()
    /** Per key and clock, the operations pushed by each device: the same-clock conflicts of the run. */
    const conflicts = new Map<string, Set<string>>()
    let nextKey = 0
    const now = () => Effect.map(TestClock.currentTimeMillis, (ms) => ms + 1_700_000_000_000)

    const readSnapshot = Effect.gen(function*() {
      const items: Array<SnapshotItem> = []
      let token: string | null | undefined = undefined
      let watermark = 0
      do {
        const request: { scope: typeof scope; pageSize: number; pageToken?: string } = { scope, pageSize: 3, ...(token === undefined ? {} : { pageToken: token }) }
        const page: SnapshotResponse = yield* gateway.snapshot(request, user)
        checkSnapshotPage(request, page)
        items.push(...page.items)
        watermark = page.highWatermark
        token = page.nextPageToken
      } while (token !== null)
      return { items, watermark }
    })

    const sync = (device: Device, limit: number) =>
      Effect.gen(function*() {
        const ops = device.replica.drain()
        if (ops.length > 0) {
          const result = yield* gateway.push({ scope, ops }, user)
          for (const [i, r] of result.results.entries()) {
            assert.isTrue(r.success, JSON.stringify(r))
            const op = ops[i]
            const at = `${keyOf(op.tableName, op.pk)}@${op.stamp.clock}`
            conflicts.set(at, (conflicts.get(at) ?? new Set()).add(`${op.stamp.deviceId}:${op.operation}`))
            if (op.operation === "delete") {
              const key = keyOf(op.tableName, op.pk)
              deletes.set(key, [...(deletes.get(key) ?? []), { clock: op.stamp.clock, hlc: op.stamp.hlc }])
            }
          }
        }
        for (let guard = 0; guard < 1000; guard++) {
          const page = yield* gateway.pull({ scope, cursor: device.cursor, limit }, user)
          checkPull(device.cursor, page)
          if (page.requiresSnapshot) {
            stats.rebuilds++
            const snapshot = yield* readSnapshot
            device.replica.rebuild(snapshot.items)
            device.cursor = snapshot.watermark
            continue
          }
          device.replica.applyPage(page.changes)
          device.cursor = page.nextCursor
          if (!page.hasMore) break
        }
        device.returning = false
        yield* gateway.updateCursor({ scope, deviceId: device.replica.id, version: device.cursor }, user)
      })

    const edit = (device: Device, target: number, kind: "put" | "soft" | "delete") =>
      Effect.gen(function*() {
        if (device.returning) return
        const live = [...device.replica.live().keys()].sort()
        const at = yield* now()
        if (target < 0 || live.length === 0) {
          const table = tables[nextKey % 2]
          device.replica.edit(table, `${table[0]}-${nextKey++}`, { title: `new by ${device.replica.id}`, deleted: false }, opId(), at)
          return
        }
        const slash = live[target % live.length].indexOf("/")
        const [table, pk] = [live[target % live.length].slice(0, slash), live[target % live.length].slice(slash + 1)]
        if (kind === "delete") return device.replica.remove(table, pk, opId(), at)
        device.replica.edit(table, pk, { title: `${kind} by ${device.replica.id} at ${at}`, deleted: kind === "soft" }, opId(), at)
      })

    /** Everyone online syncs; some stay, the rest are away past the window; GC; maybe a new device. */
    const gc = (action: Extract<Action, { _tag: "gc" }>) =>
      Effect.gen(function*() {
        for (const device of devices) {
          device.offline = false
          yield* sync(device, 50)
        }
        yield* TestClock.adjust(2 * RETENTION * 1000)
        const staying = devices.filter((_, i) => (action.stay >> i) & 1)
        for (const device of staying) yield* sync(device, 50)
        for (const device of devices) if (!staying.includes(device)) device.returning = true
        const input = { scope, retentionSeconds: RETENTION }
        const order = action.tombstonesFirst ? [gateway.gcTombstones, gateway.gcChangeLog] : [gateway.gcChangeLog, gateway.gcTombstones]
        for (const step of order) {
          const report = yield* step(input)
          if (step === gateway.gcTombstones && report.horizon > 0) stats.forgotten++
        }
        if (action.join) {
          const kind: ReplicaKind = devices.length % 2 === 0 ? "contract" : "or3-2026-02"
          devices.push({ replica: makeReplica(`d${devices.length}-${kind}`, kind), cursor: 0, offline: false, returning: false })
        }
      })

    for (const action of actions) {
      switch (action._tag) {
        case "edit":
          yield* edit(devices[action.device], action.target, action.kind)
          break
        case "sync":
          if (!devices[action.device].offline) yield* sync(devices[action.device], action.limit)
          break
        case "offline":
          devices[action.device].offline = action.offline
          break
        case "tick":
          yield* TestClock.adjust(action.seconds * 1000)
          break
        case "gc":
          yield* gc(action)
      }
    }

    // Everyone comes online and syncs until nothing moves; a new device of each kind bootstraps.
    for (const device of devices) device.offline = false
    for (let round = 0; round < 3; round++) for (const device of devices) yield* sync(device, 7)
    for (const kind of ["or3-2026-02", "contract"] as const) {
      const fresh: Device = { replica: makeReplica(`fresh-${kind}`, kind), cursor: 0, offline: false, returning: false }
      yield* sync(fresh, 1000)
      devices.push(fresh)
    }

    const server = yield* serverLive(sql)
    for (const device of devices) {
      const mine = device.replica.live()
      const exceptions: Array<string> = []
      for (const [key, theirs] of server) {
        const local = mine.get(key)
        if (local !== undefined || device.replica.kind !== "or3-2026-02") continue
        if (tieTheClientCannotFix(device.replica, key, theirs, deletes)) exceptions.push(key)
      }
      stats.exceptions += exceptions.length
      const expected = new Map([...server].filter(([key]) => !exceptions.includes(key)).map(([key, v]) => [key, { payload: v.payload, clock: v.clock }]))
      assert.deepStrictEqual(sortedMap(mine), sortedMap(expected), `${device.replica.id} differs from the server`)
    }
    for (const ops of conflicts.values()) {
      if (new Set([...ops].map((op) => op.split(":")[0])).size < 2) continue
      stats.sameClockConflicts++
      if (new Set([...ops].map((op) => op.split(":")[1])).size === 2) stats.sameClockPutDelete++
    }
    stats.runs++
  })

/** The server's live keys (rows not deleted), with payload, clock and hlc. */
const serverLive = (sql: SqlClient.SqlClient) =>
  Effect.gen(function*() {
    const live = new Map<string, { payload: Record<string, unknown>; clock: number; hlc: string }>()
    for (const table of tables) {
      const rows = yield* sql<{ pk: string; data_json: string; clock: number; hlc: string }>`
        SELECT pk, data_json, clock, hlc FROM ${sql(`s_${table}`)} WHERE workspace_id = ${ws} AND deleted = 0`
      for (const row of rows) live.set(keyOf(table, row.pk), { payload: JSON.parse(row.data_json), clock: row.clock, hlc: row.hlc })
    }
    return live
  })

/**
 * The documented exception: the 2026-02 replica holds `key` deleted at the clock of the server's
 * winning put, and a delete of that clock with a lower hlc was pushed (the put beat it on the
 * server; the replica skips any put whose clock its tombstone reaches).
 */
const tieTheClientCannotFix = (
  replica: Replica,
  key: string,
  server: { readonly clock: number; readonly hlc: string },
  deletes: DeleteLedger
) => {
  const held = replica.tombs.get(key)?.clock ?? (replica.rows.get(key)?.deleted ? replica.rows.get(key)!.clock : undefined)
  return held === server.clock &&
    (deletes.get(key) ?? []).some((d) => d.clock === server.clock && compareText(d.hlc, server.hlc) < 0)
}

const sortedMap = <V>(map: ReadonlyMap<string, V>) => Object.fromEntries([...map].sort(([a], [b]) => (a < b ? -1 : 1)))

describe("convergence with the OR3 2026-02 client and a contract client", () => {
  it.effect.prop(
    "every device ends on the server's live state (but for the one tie no server rule fixes)",
    [historyArb],
    ([history]) => withGateway(run(history.kinds, history.actions)),
    { timeout: 300_000, fastCheck: { numRuns: runs, seed } }
  )
  if (process.env.OR3_PROP_STATS) it("stats", () => void console.log(JSON.stringify(stats)))
})
