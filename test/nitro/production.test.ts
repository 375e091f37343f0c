/**
 * The package as production runs it inside the OR3 host: a Nitro node-server bundle with the
 * package's plugin added as the Nuxt module adds it, the package inlined into the bundle (as Nuxt
 * does for a module installed from node_modules), better-sqlite3 external and traced into
 * .output/server/node_modules. The build runs a prerender first, as `nuxt build` does, and the
 * bundle is served from another directory than the app's, on default settings (background
 * checkpoints on). The host itself is replaced by the stand-ins in test/nitro/app.
 *
 * Build logs and the server's output are printed only when a test fails.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { onTestFailed } from "vitest"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { migrations } from "../../src/migrations/index.js"
import { checkpointedRows } from "../support/checkpointed.js"
import { buildApp, type RunningServer, startServer, writeApp } from "./nitroApp.js"
import { del, put } from "../support/ops.js"

const latestMigrationId = Math.max(...Object.keys(migrations).map((key) => Number(key.split("_")[0])))

let root: string
let server: RunningServer
let buildLog = ""
/** The database path set while building: nothing may appear there. */
let buildTimeDb: string
let runtimeDb: string

beforeAll(async () => {
  root = Fs.mkdtempSync(Path.join(Os.tmpdir(), "or3-nitro-"))
  const app = Path.join(root, "app")
  buildTimeDb = Path.join(root, "build-machine", "data", "or3.sqlite")
  runtimeDb = Path.join(root, "server", "data", "or3.sqlite")
  await writeApp(app)
  const build = await buildApp(app, { OR3_SQLITE_DB_PATH: buildTimeDb })
  buildLog = build.output
  if (build.code !== 0) throw new Error(`the Nitro build failed (${build.code}):\n${build.output}`)

  // Deployed elsewhere: nothing may resolve through the app's own node_modules or sources.
  const deployed = Path.join(root, "deploy", ".output")
  Fs.mkdirSync(Path.dirname(deployed))
  Fs.renameSync(Path.join(app, ".output"), deployed)
  Fs.rmSync(app, { recursive: true, force: true })
  const cwd = Path.join(root, "server")
  Fs.mkdirSync(cwd)
  server = await startServer(deployed, { cwd, variables: { OR3_SQLITE_DB_PATH: runtimeDb } })
}, 300_000)

afterAll(async () => {
  await server?.stop()
  if (root !== undefined) Fs.rmSync(root, { recursive: true, force: true })
})

interface Caller {
  readonly userId: string
  readonly workspaceId: string
}

/** A request as the host's client sends it; `as` is the session the stand-in middleware sets. */
const call = async (path: string, body?: unknown, as?: Caller) => {
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" }
  if (as !== undefined) Object.assign(headers, { "x-test-user": as.userId, "x-test-workspace": as.workspaceId })
  const response = await fetch(`${server.url}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  return { status: response.status, body: await response.json() as any }
}

const ok = async (path: string, body?: unknown, as?: Caller) => {
  const response = await call(path, body, as)
  assert.strictEqual(response.status, 200, `${path}: ${JSON.stringify(response.body)}`)
  return response.body
}

const signIn = (providerUserId: string): Promise<Caller> =>
  ok("/api/session", { provider: "basic-auth", providerUserId })

describe("production: a Nitro node-server build", () => {
  it("prerender: the plugin registers, opens no database and creates nothing", async () => {
    onTestFailed(() => console.log(buildLog))
    assert.isFalse(Fs.existsSync(Path.dirname(Path.dirname(buildTimeDb))), "the build created the database's folder")
    const prerendered = JSON.parse(Fs.readFileSync(Path.join(root, "deploy", ".output", "public", "registrations.json"), "utf8"))
    assert.deepStrictEqual(prerendered, {
      registered: {
        "server/admin/providers/registry": ["sync:sqlite"],
        "server/admin/stores/registry": ["sqlite"],
        "server/auth/deployment-admin": ["sqlite"],
        "server/auth/store/registry": ["sqlite"],
        "server/sync/gateway/registry": ["sqlite"]
      },
      storeCall: 503
    })
  })

  it("starts on default settings: store, push, pull, snapshot, cursor and GC over HTTP", async () => {
    onTestFailed(() => console.log(server.output()))
    const alice = await signIn("alice")
    assert.deepStrictEqual(await signIn("alice"), alice)

    const ops = [put({ pk: "m1" }), put({ pk: "m2" }), put({ pk: "m3", clock: 1 }), del({ pk: "m3", clock: 2 })]
    const pushed = await ok("/api/sync/push", { scope: { workspaceId: alice.workspaceId }, ops }, alice)
    assert.deepStrictEqual(pushed.results.map((result: { success: boolean }) => result.success), [true, true, true, true])

    const pulled = await ok("/api/sync/pull", { scope: { workspaceId: alice.workspaceId }, cursor: 0, limit: 100 }, alice)
    assert.includeMembers(pulled.changes.map((change: { pk: string }) => change.pk), ["m1", "m2", "m3"])

    const page = await ok("/api/sync/snapshot", { scope: { workspaceId: alice.workspaceId }, pageSize: 10 }, alice)
    assert.deepStrictEqual(page.items.map((item: { pk: string; kind: string }) => `${item.pk}:${item.kind}`).sort(), [
      "m1:row",
      "m2:row",
      "m3:tombstone"
    ])
    const anonymous = await call("/api/sync/snapshot", { scope: { workspaceId: alice.workspaceId }, pageSize: 10 })
    assert.strictEqual(anonymous.status, 401, JSON.stringify(anonymous.body))

    const cursor = { scope: { workspaceId: alice.workspaceId }, deviceId: "device-a", version: pulled.nextCursor }
    await ok("/api/sync/update-cursor", cursor, alice)
    const regressed = await call("/api/sync/update-cursor", { ...cursor, version: 0 }, alice)
    assert.strictEqual(regressed.status, 409)

    for (const gc of ["gc-change-log", "gc-tombstones"]) {
      await ok(`/api/sync/${gc}`, { scope: { workspaceId: alice.workspaceId }, retentionSeconds: 3600 }, alice)
    }
    const tooShort = await call("/api/sync/gc-change-log", { scope: { workspaceId: alice.workspaceId }, retentionSeconds: 60 }, alice)
    assert.strictEqual(tooShort.status, 400)

    const status = await ok("/api/admin/status")
    assert.strictEqual(status.details.dbPath, runtimeDb)
    assert.strictEqual(Number(status.details.schemaVersion), latestMigrationId)

    const admin = await ok("/api/admin/grant", { userId: alice.userId, provider: "basic-auth", providerUserId: "alice" })
    assert.deepStrictEqual(admin.admins, [alice.userId])
    assert.isAtLeast(admin.workspaces, 1)
    assert.isTrue(admin.checker, "the granted user passes the deployment-admin checker")
    assert.isTrue(Object.values(admin.capabilities).every((flag) => flag === true))
  })

  it("an invite created as the host route does (expiry in epoch seconds) is accepted", async () => {
    onTestFailed(() => console.log(server.output()))
    const owner = await signIn("owner")
    const invite = {
      workspaceId: owner.workspaceId,
      email: "guest@example.com",
      role: "editor",
      invitedByUserId: owner.userId,
      token: "invite-token",
      ttlSeconds: 3600
    }
    const { expiresAt } = await ok("/api/invites/create", invite)
    const [listed] = (await ok("/api/invites/list", { workspaceId: owner.workspaceId })).invites
    assert.deepStrictEqual([listed.status, listed.expiresAt], ["pending", expiresAt])
    const accepted = await ok("/api/invites/accept", {
      provider: "basic-auth",
      providerUserId: "guest",
      email: "guest@example.com",
      workspaceId: owner.workspaceId,
      token: "invite-token"
    })
    assert.deepStrictEqual([accepted.ok, accepted.role, accepted.createdUser], [true, "editor", true])
  })

  it("background checkpoints run in the bundle: pushes reach the database file, no warning", async () => {
    onTestFailed(() => console.log(server.output()))
    const bob = await signIn("bob")
    const ops = Array.from({ length: 20 }, (_, i) => put({ pk: `b${i}`, deviceId: "device-b" }))
    await ok("/api/sync/push", { scope: { workspaceId: bob.workspaceId }, ops }, bob)
    // The push must reach the main file: only the worker checkpoints a WAL this small (the
    // writer's own mark is thousands of pages).
    let rows = checkpointedRows(runtimeDb, bob.workspaceId)
    for (let i = 0; i < 100 && rows < ops.length; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      rows = checkpointedRows(runtimeDb, bob.workspaceId)
    }
    assert.strictEqual(rows, ops.length)
    assert.notMatch(server.output(), /checkpoint|failed to start|unavailable/i)
  })
})
