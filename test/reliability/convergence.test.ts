/**
 * Convergence:
 * - over HTTP, three devices of one workspace edit, conflict and delete while one of them is
 *   offline for longer than the retention window; the owner runs history GC in between; the
 *   devices that stayed keep pulling, the one that was away is told to snapshot, and at the end
 *   every device holds exactly the server's state (a fresh snapshot, and the materialized rows);
 * - the GC property tests of test/sync-properties.test.ts, run with larger parameters through
 *   their own knobs (`OR3_PROP_RUNS`, `OR3_PROP_ACTIONS`), so one model serves both.
 * Devices use the client model of test/support/syncModel.ts (LWW apply, host response checks).
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import type { HostClient } from "../../src/host/HostClient.js"
import type { PullResponse, SnapshotResponse } from "../../src/schema/wire.js"
import { applyChange, applyItem, assertConverged, checkPull, checkSnapshotPage, keyOf, sorted, type StateView } from "../support/syncModel.js"
import { repoRoot } from "./support/build.js"
import { startTestHost, type TestHost, validOp } from "./support/httpHost.js"
import { readImages, withRaw } from "./support/invariants.js"
import { makeRandom, replayHint, SCALE, SEED, scaled, timeoutFor } from "./support/knobs.js"

const HOUR = 3_600_000
let dir: string
let host: TestHost

beforeAll(async () => {
  dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "or3-convergence-"))
  host = await startTestHost(dir, ["alice"])
  await host.signIn("alice")
}, 120_000)

afterAll(async () => {
  await host?.close()
  Fs.rmSync(dir, { recursive: true, force: true })
})

/** A device as an OR3 client runs it: an outbox, a local copy, a cursor; everything over HTTP. */
const makeDevice = (name: string, client: HostClient, workspaceId: string) => {
  const scope = { workspaceId }
  const device = {
    name,
    state: new Map() as StateView,
    cursor: 0,
    outbox: [] as Array<ReturnType<typeof validOp>>,
    snapshots: 0,
    async push() {
      if (device.outbox.length === 0) return
      const response = await client.post("/api/sync/push", { scope, ops: device.outbox })
      assert.strictEqual(response.status, 200, `${name} push: ${JSON.stringify(response.body)}`)
      for (const r of response.body.results) assert.isTrue(r.success, `${name}: ${JSON.stringify(r)}`)
      device.outbox = []
    },
    async snapshot() {
      device.snapshots++
      const fresh: StateView = new Map()
      let pageToken: string | null = null
      let watermark = 0
      do {
        const request: { scope: typeof scope; pageSize: number; pageToken?: string } = { scope, pageSize: 7, ...(pageToken === null ? {} : { pageToken }) }
        const response = await client.post<SnapshotResponse>("/api/sync/snapshot", request)
        assert.strictEqual(response.status, 200, `${name} snapshot: ${JSON.stringify(response.body)}`)
        checkSnapshotPage(request, response.body)
        response.body.items.forEach((item) => applyItem(fresh, item))
        watermark = response.body.highWatermark
        pageToken = response.body.nextPageToken
      } while (pageToken !== null)
      device.state = fresh
      device.cursor = watermark
    },
    /** Pulls to the end; snapshots first when the server says the history is gone. Returns whether it had to. */
    async pull(): Promise<boolean> {
      let told = false
      for (;;) {
        const response = await client.post<PullResponse>("/api/sync/pull", { scope, cursor: device.cursor, limit: 13 })
        assert.strictEqual(response.status, 200, `${name} pull: ${JSON.stringify(response.body)}`)
        checkPull(device.cursor, response.body)
        if (response.body.requiresSnapshot) {
          told = true
          await device.snapshot()
          continue
        }
        response.body.changes.forEach((change) => applyChange(device.state, change))
        device.cursor = response.body.nextCursor
        if (!response.body.hasMore) return told
      }
    },
    async confirm() {
      const response = await client.post("/api/sync/update-cursor", { scope, deviceId: name, version: device.cursor })
      assert.strictEqual(response.status, 200, `${name} cursor: ${JSON.stringify(response.body)}`)
    }
  }
  return device
}
type Device = ReturnType<typeof makeDevice>

describe("three devices over HTTP, one offline past the retention window", () => {
  const rounds = scaled(30, 10)

  it(`${rounds} rounds of edits, GC while the tablet is away, everyone converges`, async () => {
    const t0 = Date.now()
    const alice = host.users.alice
    const ws = alice.workspaceId
    const random = makeRandom(SEED ^ 0x3c3c)
    const [laptop, phone, tablet] = ["laptop", "phone", "tablet"].map((name) => makeDevice(name, alice.client, ws))
    const tables = ["threads", "messages", "projects", "kv", "file_meta"]
    let n = 0
    const edit = (device: Device, clockBase: number) => {
      const table = random.pick(tables)
      const pk = `${table.slice(0, 2)}-${random.int(0, 11)}`
      const clock = clockBase + random.int(0, 3)
      const opId = `c0c0c0c0-0000-4000-8000-${(++n).toString(16).padStart(12, "0")}`
      const remove = random.chance(0.2)
      device.outbox.push(validOp(table, pk, { opId, clock, delete: remove, deviceId: device.name, hlc: `${String(host.clock.now()).padStart(15, "0")}-${device.name}` }))
    }
    const sync = async (device: Device) => {
      await device.push()
      const told = await device.pull()
      await device.confirm()
      return told
    }

    // Together for a while.
    for (let round = 0; round < rounds; round++) {
      for (const device of [laptop, phone, tablet]) {
        for (let i = random.int(1, 4); i > 0; i--) edit(device, round)
        await sync(device)
      }
      host.clock.advance(1000)
    }
    // The tablet goes offline, with edits of its own still to send; the others go on.
    for (let i = 0; i < 10; i++) edit(tablet, rounds + 2)
    for (let round = 0; round < rounds; round++) {
      for (const device of [laptop, phone]) {
        for (let i = random.int(1, 4); i > 0; i--) edit(device, rounds + round)
        assert.isFalse(await sync(device), `${device.name} was told to snapshot while current`)
      }
      host.clock.advance(1000)
    }
    // Three hours on: the tablet's cursor is idle past the window; the others confirm theirs.
    host.clock.advance(3 * HOUR)
    for (const device of [laptop, phone]) await sync(device)
    const before = withRaw(host.dbPath, (db) => db.prepare("SELECT count(*) FROM change_log WHERE workspace_id = ?").pluck().get(ws)) as number
    const deletes = withRaw(host.dbPath, (db) => readImages(db, ws).tombs, { readonly: true })
    for (const path of ["/api/sync/gc-change-log", "/api/sync/gc-tombstones"]) {
      const response = await alice.client.post(path, { scope: { workspaceId: ws }, retentionSeconds: 3600 })
      assert.strictEqual(response.status, 204, `${path}: ${JSON.stringify(response.body)}`)
    }
    const after = withRaw(host.dbPath, (db) => db.prepare("SELECT count(*) FROM change_log WHERE workspace_id = ?").pluck().get(ws)) as number
    // The deletes GC forgot: once the tablet's stale edits reach the server, their keys may live
    // again there while the laptop and phone keep refusing them (docs/sync.md, "What the window bounds").
    const remaining = withRaw(host.dbPath, (db) => readImages(db, ws), { readonly: true })
    const kept = new Set([...remaining.rows, ...remaining.tombs].map((image) => keyOf(image.table_name, image.pk)))
    const forgotten = new Map(
      deletes.filter((t) => !kept.has(keyOf(t.table_name, t.pk)))
        .map((t) => [keyOf(t.table_name, t.pk), { clock: t.clock, hlc: t.hlc, opId: t.op_id }])
    )
    assert.isAbove(forgotten.size, 0, "GC forgot no delete: the test would prove nothing")
    const horizon = withRaw(host.dbPath, (db) => db.prepare("SELECT horizon FROM sync_heads WHERE workspace_id = ?").pluck().get(ws)) as number
    assert.isBelow(after, before, "GC removed nothing")
    assert.isAbove(horizon, tablet.cursor, "GC did not forget a delete past the tablet's cursor")

    // A few more edits, then the tablet returns: its old edits go up, and it must snapshot.
    for (const device of [laptop, phone]) {
      edit(device, 3 * rounds)
      assert.isFalse(await sync(device), `${device.name} was told to snapshot after GC`)
    }
    assert.isTrue(await sync(tablet), "the tablet was not told to snapshot")
    for (const device of [laptop, phone, tablet]) await sync(device)

    // Everyone holds the server's state: a fresh snapshot, and the materialized rows themselves.
    const auditor = makeDevice("auditor", alice.client, ws)
    await auditor.snapshot()
    const materialized: StateView = new Map()
    const { rows, tombs } = withRaw(host.dbPath, (db) => readImages(db, ws), { readonly: true })
    for (const r of rows) {
      const revision = { clock: r.clock, hlc: r.hlc, opId: r.op_id }
      materialized.set(keyOf(r.table_name, r.pk), r.deleted === 1 ? { deleted: true, revision } : { deleted: false, revision, payload: JSON.parse(r.data_json) })
    }
    for (const t of tombs) {
      if (!materialized.has(keyOf(t.table_name, t.pk))) materialized.set(keyOf(t.table_name, t.pk), { deleted: true, revision: { clock: t.clock, hlc: t.hlc, opId: t.op_id } })
    }
    assert.deepStrictEqual(sorted(auditor.state), sorted(materialized), "the snapshot is not the materialized state")
    for (const device of [laptop, phone, tablet]) {
      assertConverged(device.state, auditor.state, `${device.name} did not converge; ${replayHint}`, forgotten)
    }
    assert.deepStrictEqual(host.hostErrors, [])
    console.log(`[reliability] convergence-http ${JSON.stringify({ devices: 3, ops: n, keys: auditor.state.size, logBeforeGc: before, logAfterGc: after, horizon, tabletSnapshots: tablet.snapshots, ms: Date.now() - t0 })}`)
  }, timeoutFor(300_000))
})

describe("the GC property tests, larger", () => {
  const runs = scaled(60)
  const actions = Math.round(100 + 20 * (SCALE - 1))

  it(`test/sync-properties.test.ts with OR3_PROP_RUNS=${runs} OR3_PROP_ACTIONS=${actions}`, async () => {
    const file = Path.join("test", "sync-properties.test.ts")
    assert.isTrue(Fs.existsSync(Path.join(repoRoot, file)), `${file} is gone: point this test at the property tests' new home`)
    // A clean environment for the inner vitest: none of this worker's VITEST_* markers.
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("VITEST")))
    const t0 = Date.now()
    const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = ChildProcess.spawn(
        process.execPath,
        [Path.join(repoRoot, "node_modules", "vitest", "vitest.mjs"), "run", file, "--reporter=dot", "--silent=false"],
        { cwd: repoRoot, env: { ...env, OR3_PROP_RUNS: String(runs), OR3_PROP_ACTIONS: String(actions), OR3_PROP_STATS: "1" } }
      )
      let output = ""
      child.stdout.on("data", (chunk) => (output += chunk))
      child.stderr.on("data", (chunk) => (output += chunk))
      child.on("close", (code) => resolve({ code, output }))
    })
    assert.strictEqual(result.code, 0, result.output.slice(-6000))
    const stats = /\{"told".*\}/.exec(result.output)?.[0]
    console.log(`[reliability] properties ${JSON.stringify({ runs, actions, ms: Date.now() - t0 })} ${stats ?? ""}`)
  }, timeoutFor(900_000))
})
