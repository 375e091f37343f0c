import { assert, describe, it } from "@effect/vitest"
import { SqlClient, Statement } from "@effect/sql"
import { Effect, Layer, TestClock } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { layerSqlFile } from "../src/layers/Migrations.js"
import { maintenanceRetentionSeconds, SyncMaintenance } from "../src/services/SyncMaintenance.js"
import { SyncGateway } from "../src/services/SyncGateway.js"
import { put } from "./support/ops.js"
import { captureStatements } from "./support/queryPlans.js"
import { GatewayTest } from "./support/syncGateway.js"

const day = 24 * 3600 * 1000
const maintenance = Effect.map(SyncMaintenance, (m) => m)

/** The gateway (to write history) and the maintenance service on one in-memory database. */
const withBoth = <A, E>(body: Effect.Effect<A, E, SyncGateway | SyncMaintenance | SqlClient.SqlClient>) =>
  Effect.provide(body, SyncMaintenance.Default.pipe(Layer.provideMerge(GatewayTest)))

/** Puts of keys k0..k(n-1), at clocks from `clock`. */
const push = (workspaceId: string, n: number, clock = 1) =>
  Effect.flatMap(SyncGateway, (g) =>
    g.push(
      { scope: { workspaceId }, ops: Array.from({ length: n }, (_, i) => put({ pk: `k${i}`, clock: clock + i })) },
      { userId: "u" }
    ))

describe("SyncMaintenance", () => {
  it.effect("starts idle and enabled, created on first use", () =>
    Effect.gen(function*() {
      const m = yield* maintenance
      assert.deepStrictEqual(yield* m.get, { enabled: true, state: "idle" })
    }).pipe(Effect.provide(SyncMaintenance.Test)))

  it.effect("begin, fail and complete move the state; a new pass clears the last error", () =>
    Effect.gen(function*() {
      const m = yield* maintenance
      yield* m.begin
      assert.deepStrictEqual(yield* m.get, { enabled: true, state: "running" })
      yield* m.complete("2026-01-01T00:00:00.000Z")
      yield* m.begin
      yield* m.fail("disk full")
      assert.deepStrictEqual(yield* m.get, {
        enabled: true,
        state: "failed",
        lastRun: "2026-01-01T00:00:00.000Z",
        lastError: "disk full",
        backlog: 0
      })
      yield* m.begin
      assert.isUndefined((yield* m.get).lastError)
      yield* m.complete("2026-01-02T00:00:00.000Z")
      assert.deepStrictEqual(yield* m.get, { enabled: true, state: "idle", lastRun: "2026-01-02T00:00:00.000Z", backlog: 0 })
    }).pipe(Effect.provide(SyncMaintenance.Test)))

  it.effect("the backlog counts what GC may delete: superseded entries of every workspace older than 365 days", () =>
    withBoth(Effect.gen(function*() {
      assert.strictEqual(maintenanceRetentionSeconds, 365 * 24 * 3600)
      yield* push("ws-1", 5)
      yield* push("ws-2", 3)
      yield* TestClock.adjust(200 * day)
      yield* push("ws-1", 4, 10) // new winners of k0..k3: their first entries are superseded
      const m = yield* maintenance
      yield* TestClock.adjust(165 * day)
      yield* m.complete("a")
      assert.strictEqual((yield* m.get).backlog, 0)
      yield* TestClock.adjust(1)
      const { captured } = yield* captureStatements(m.complete("b"))
      assert.strictEqual((yield* m.get).backlog, 4)
      // Current winners grow old but are never GC's to delete.
      yield* TestClock.adjust(200 * day)
      yield* m.complete("c")
      assert.strictEqual((yield* m.get).backlog, 4)
      yield* Effect.flatMap(SyncGateway, (g) =>
        g.gcChangeLog({ scope: { workspaceId: "ws-1" }, retentionSeconds: maintenanceRetentionSeconds }))
      yield* m.complete("d")
      assert.strictEqual((yield* m.get).backlog, 0)
      const sql = yield* SqlClient.SqlClient
      const update = captured.find((s) => /UPDATE sync_maintenance/.test(s.sql))!
      const plan = yield* Statement.withTransformerDisabled(
        sql.unsafe<{ detail: string }>(`EXPLAIN QUERY PLAN ${update.sql}`, update.params)
      )
      assert.isTrue(plan.some((p) => /USING (COVERING )?INDEX change_log_(created|superseded)\b/.test(p.detail)), JSON.stringify(plan))
      assert.isFalse(plan.some((p) => /^SCAN change_log$/.test(p.detail)), JSON.stringify(plan))
    })))

  it.effect("the state survives a restart", () =>
    Effect.gen(function*() {
      const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "or3-maintenance-"))
      const file = Path.join(dir, "or3.sqlite")
      const open = <A, E>(body: Effect.Effect<A, E, SyncMaintenance>) =>
        Effect.provide(body, SyncMaintenance.Default.pipe(Layer.provideMerge(layerSqlFile(file)), Layer.orDie))
      yield* open(Effect.gen(function*() {
        const m = yield* maintenance
        yield* m.complete("2026-03-01T00:00:00.000Z")
        yield* m.begin
        yield* m.fail("the disk was full")
      }))
      const reopened = yield* open(Effect.flatMap(maintenance, (m) => m.get))
      assert.deepStrictEqual(reopened, {
        enabled: true,
        state: "failed",
        lastRun: "2026-03-01T00:00:00.000Z",
        lastError: "the disk was full",
        backlog: 0
      })
      Fs.rmSync(dir, { recursive: true, force: true })
    }))
})
