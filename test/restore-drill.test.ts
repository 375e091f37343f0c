/**
 * The restore drill: a server (the gateway, in this process) with devices behind and ahead of a
 * backup; more changes after the backup; the server stops and `or3-sqlite restore` (the real
 * binary) puts the backup back. Every device must be told to rebuild, rebuild from a snapshot,
 * and converge to the restored state; versions issued afterwards never reuse a version a device
 * saw. A device that applied changes the restored database lost would otherwise skip the versions
 * it reissues.
 */
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { InvalidInput } from "../src/schema/errors.js"
import { SyncGateway, type SyncGatewayShape } from "../src/services/SyncGateway.js"
import { tempDir } from "./helpers/foundation.js"
import { buildCli } from "./support/cliBuild.js"
import { cli, openGateway } from "./support/cliRun.js"
import { del, put } from "./support/ops.js"
import { applyItem, pullAll, readSnapshot, serverState, sorted, type StateView } from "./support/syncModel.js"

beforeAll(() => void buildCli(), 120_000)

const WS = "ws-drill"
const session = { userId: "u-drill" }

interface Device {
  readonly name: string
  state: StateView
  cursor: number
  /** How many times it was told to rebuild. */
  rebuilt: number
}

const device = (name: string): Device => ({ name, state: new Map(), cursor: 0, rebuilt: 0 })

/** A device's sync: pull from its cursor; told `requiresSnapshot`, replace its state with a snapshot's and pull on. */
const sync = (d: Device) =>
  Effect.gen(function*() {
    const pulled = yield* pullAll(WS, session, d.cursor, d.state)
    if (!pulled.requiresSnapshot) return void (d.cursor = pulled.cursor)
    d.rebuilt++
    const snapshot = yield* readSnapshot(WS, session)
    d.state = new Map()
    for (const item of snapshot.items) applyItem(d.state, item)
    const after = yield* pullAll(WS, session, snapshot.watermark, d.state)
    assert.isFalse(after.requiresSnapshot, `${d.name}: a pull from the snapshot's watermark is served`)
    d.cursor = after.cursor
  })

const push = (gateway: SyncGatewayShape, ops: ReadonlyArray<unknown>) =>
  Effect.gen(function*() {
    const result = yield* gateway.push({ scope: { workspaceId: WS }, ops }, session)
    assert.isTrue(result.results.every((r) => r.success))
    return result.serverVersion
  })

const pk = (i: number) => `m-${i}`

describe("restore drill", () => {
  it.scopedLive("devices ahead of and behind the backup rebuild and converge to the restored state", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const db = Path.join(dir, "or3.sqlite")
      const backup = Path.join(dir, "backups", "nightly.sqlite")
      const [behind, ahead, fresh] = [device("behind"), device("ahead"), device("fresh")]

      // Before the backup: history, and a device that synced then went quiet.
      const lostHead = yield* Effect.scoped(Effect.gen(function*() {
        const { gateway } = yield* openGateway(db)
        const withGateway = Effect.provideService(SyncGateway, gateway)
        yield* push(gateway, Array.from({ length: 20 }, (_, i) => put({ pk: pk(i), clock: 1, deviceId: "ahead" })))
        yield* push(gateway, [del({ pk: pk(3), clock: 2, deviceId: "ahead" }), put({ pk: pk(4), clock: 2, deviceId: "behind" })])
        yield* withGateway(sync(behind))
        const backedUp = yield* cli(["backup", backup, "--db", db])
        assert.strictEqual(backedUp.code, 0, backedUp.stderr)

        // After the backup: changes the restore will lose, seen by the device ahead.
        yield* push(gateway, Array.from({ length: 10 }, (_, i) => put({ pk: pk(i), clock: 5, deviceId: "ahead" })))
        yield* push(gateway, [put({ pk: "lost-new", clock: 1, deviceId: "ahead" }), del({ pk: pk(5), clock: 6, deviceId: "ahead" })])
        yield* withGateway(sync(ahead))
        assert.isAbove(ahead.cursor, behind.cursor)
        return ahead.cursor
      }))

      // The server is stopped (scope closed). Restore: the heads come from the replaced file.
      const restored = yield* cli(["restore", backup, "--db", db, "--json"])
      assert.strictEqual(restored.code, 0, restored.stderr)
      const report = JSON.parse(restored.stdout)
      assert.strictEqual(report.lostHeadsFrom, "replaced file")
      assert.deepStrictEqual(report.workspaces, [{ workspaceId: WS, backupHead: 22, lostHead: lostHead, head: lostHead + 1 }])
      assert.isTrue(Fs.existsSync(report.replaced), "the replaced file is kept aside")

      yield* Effect.scoped(Effect.gen(function*() {
        const { gateway, sql } = yield* openGateway(db)
        const withGateway = Effect.provideService(SyncGateway, gateway)
        const state = () => serverState(WS, session.userId).pipe(Effect.provideService(SqlClient.SqlClient, sql), Effect.map(sorted))
        const [heads] = yield* sql<{ head: number; horizon: number }>`SELECT head, horizon FROM sync_heads WHERE workspace_id = ${WS}`
        assert.deepStrictEqual(heads, { head: lostHead + 1, horizon: lostHead + 1 })

        // A cursor past the head is told to rebuild with no changes, not refused; a negative one is bad input.
        const far = yield* gateway.pull({ scope: { workspaceId: WS }, cursor: lostHead + 50, limit: 10 }, session)
        assert.deepInclude(far, { changes: [], nextCursor: lostHead + 50, hasMore: false, requiresSnapshot: true })
        const negative = yield* Effect.flip(gateway.pull({ scope: { workspaceId: WS }, cursor: -1, limit: 10 }, session))
        assert.instanceOf(negative, InvalidInput)

        // New writes after the restore take versions no device saw before.
        const first = yield* push(gateway, [put({ pk: "after-restore", clock: 9, deviceId: "behind" })])
        assert.isAbove(first, lostHead)

        for (const d of [behind, ahead, fresh]) yield* withGateway(sync(d))
        assert.strictEqual(behind.rebuilt, 1, "behind the backup: rebuilt")
        assert.strictEqual(ahead.rebuilt, 1, "ahead of the backup: rebuilt instead of skipping")
        const server = yield* state()
        for (const d of [behind, ahead, fresh]) assert.deepStrictEqual(sorted(d.state), server, d.name)
        assert.notProperty(server, "messages/lost-new", "the lost change is gone everywhere")

        // And they keep converging afterwards.
        yield* push(gateway, [put({ pk: pk(1), clock: 20, deviceId: "fresh" }), del({ pk: "after-restore", clock: 21, deviceId: "fresh" })])
        for (const d of [behind, ahead, fresh]) yield* withGateway(sync(d))
        const later = yield* state()
        for (const d of [behind, ahead, fresh]) assert.deepStrictEqual(sorted(d.state), later, d.name)
        assert.deepStrictEqual([behind.rebuilt, ahead.rebuilt], [1, 1], "no second rebuild")
      }))
    }), 240_000)

  it.scopedLive("refuses while the server has the file open, and without the lost heads unless --min-head says them", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const db = Path.join(dir, "data", "or3.sqlite")
      const backup = Path.join(dir, "nightly.sqlite")
      yield* Effect.scoped(Effect.gen(function*() {
        const { gateway } = yield* openGateway(db)
        yield* push(gateway, [put({ pk: "a", clock: 1 }), put({ pk: "b", clock: 1 })])
        assert.strictEqual((yield* cli(["backup", backup, "--db", db])).code, 0)
        const open = yield* cli(["restore", backup, "--db", db])
        assert.strictEqual(open.code, 1)
        assert.match(open.stderr, /is open in another process: stop the server/)
      }))

      // The disk is lost: the database and its folder are gone.
      Fs.rmSync(Path.dirname(db), { recursive: true })
      const refused = yield* cli(["restore", backup, "--db", db])
      assert.strictEqual(refused.code, 2)
      assert.match(refused.stderr, /cannot read the database being replaced \(no file at .*\).*--min-head N/)
      assert.isFalse(Fs.existsSync(db))

      const restored = yield* cli(["restore", backup, "--db", db, "--min-head", "500", "--json"])
      assert.strictEqual(restored.code, 0, restored.stderr)
      const report = JSON.parse(restored.stdout)
      assert.deepStrictEqual([report.lostHeadsFrom, report.replaced], ["--min-head", null])
      assert.deepStrictEqual(report.workspaces, [{ workspaceId: WS, backupHead: 2, lostHead: null, head: 501 }])
      assert.deepStrictEqual(Fs.readdirSync(Path.dirname(db)), ["or3.sqlite"])
    }), 240_000)
})
