import { afterEach, assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { H3Error } from "h3"
import { INTERNAL_ERROR_MESSAGE } from "../src/facades/H3Errors.js"
import { makeSqliteProvider, type SqliteProvider } from "../src/facades/SqliteProvider.js"
import { ADMIN_GC_RETENTION_SECONDS, statusWarnings } from "../src/facades/SyncAdminAdapter.js"
import { MIN_SAFE_WAL_VERSION } from "../src/layers/Sqlite.js"
import { resolveSqliteSettings } from "../src/layers/SqliteConfig.js"
import { migrations } from "../src/migrations/index.js"
import type { SessionContext } from "../src/or3/types.js"
import type { SyncMaintenanceState } from "../src/services/SyncMaintenance.js"
import { type Calls, eventWithSession, fakeProviderLayer, newCalls, rejection } from "./or3-doubles/services.js"


let calls: Calls
let provider: SqliteProvider | undefined

const start = async (maintenance?: SyncMaintenanceState) => {
  calls = newCalls()
  provider = await makeSqliteProvider(fakeProviderLayer(calls, maintenance))
  return provider
}
afterEach(() => provider?.dispose())

const session = (workspaceId?: string): SessionContext => ({
  authenticated: true,
  user: { id: "u1" },
  ...(workspaceId === undefined ? {} : { workspace: { id: workspaceId, name: "W" } })
})
const actionCtx = (workspaceId?: string) => ({ provider: "sqlite", enabled: true, session: session(workspaceId) })

describe("maintenance hooks", () => {
  it("start from the persisted state", async () => {
    const { syncGatewayAdapter } = await start({ enabled: true, state: "failed", lastError: "disk full", lastRun: "x" })
    assert.deepStrictEqual(syncGatewayAdapter.getMaintenanceState(), {
      enabled: true,
      state: "failed",
      lastError: "disk full",
      lastRun: "x"
    })
  })

  it("answer synchronously, persist in call order, and pick up the recomputed backlog", async () => {
    const p = await start()
    const adapter = p.syncGatewayAdapter
    adapter.beginMaintenanceRun()
    assert.strictEqual(adapter.getMaintenanceState().state, "running")
    adapter.failMaintenanceRun("boom")
    assert.deepStrictEqual(adapter.getMaintenanceState(), { enabled: true, state: "failed", lastError: "boom" })
    adapter.beginMaintenanceRun()
    assert.deepStrictEqual(adapter.getMaintenanceState(), { enabled: true, state: "running" })
    adapter.completeMaintenanceRun({ lastRun: "2026-01-01T00:00:00.000Z" })
    assert.deepStrictEqual(adapter.getMaintenanceState(), {
      enabled: true,
      state: "idle",
      lastRun: "2026-01-01T00:00:00.000Z"
    })

    // The admin status waits for the writes and reads the persisted state back.
    const status = await p.syncAdminAdapter.getStatus(eventWithSession(), { enabled: true, provider: "sqlite" })
    const expected = { enabled: true, state: "idle" as const, lastRun: "2026-01-01T00:00:00.000Z", backlog: 42 }
    assert.deepStrictEqual(status.details?.maintenance, expected)
    assert.deepStrictEqual(adapter.getMaintenanceState(), expected)
  })

  it("a returned state is a copy", async () => {
    const { syncGatewayAdapter } = await start()
    const state = syncGatewayAdapter.getMaintenanceState()
    state.state = "failed"
    assert.strictEqual(syncGatewayAdapter.getMaintenanceState().state, "idle")
  })
})

describe("admin adapter status", () => {
  it("reports the database, the schema and the maintenance state", async () => {
    const { syncAdminAdapter } = await start()
    assert.strictEqual(syncAdminAdapter.id, "sqlite")
    assert.strictEqual(syncAdminAdapter.kind, "sync")
    const status = await syncAdminAdapter.getStatus(eventWithSession(), { enabled: true, provider: "sqlite" })
    const details = status.details ?? {}
    assert.strictEqual(details.driver, "better-sqlite3")
    assert.strictEqual(details.dbPath, ":memory:")
    assert.strictEqual(details.inMemory, true)
    assert.strictEqual(details.journalMode, "MEMORY")
    assert.strictEqual(details.synchronous, "FULL")
    assert.match(String(details.sqliteVersion), /^\d+\.\d+\.\d+$/)
    const latest = Object.keys(migrations).sort().at(-1)
    assert.strictEqual(details.schemaVersion, Number(latest?.split("_")[0]))
    assert.strictEqual(details.latestMigration, latest)
    assert.deepStrictEqual(details.maintenance, { enabled: true, state: "idle" })
    assert.deepStrictEqual(
      status.actions.map((action) => [action.id, action.danger]),
      [["sync.gc-change-log", true], ["sync.gc-tombstones", true]]
    )
    // In memory: the only warning here, and not an error (the provider works).
    assert.deepStrictEqual(status.warnings.map((warning) => warning.level), ["warning"])
    assert.match(status.warnings[0].message, /in memory/)
  })

  it("a failed maintenance pass is a warning, never an error", async () => {
    const { syncAdminAdapter } = await start({ enabled: true, state: "failed", lastError: "disk full" })
    const status = await syncAdminAdapter.getStatus(eventWithSession(), { enabled: true, provider: "sqlite" })
    const failed = status.warnings.find((warning) => warning.message.includes("maintenance"))
    assert.strictEqual(failed?.level, "warning")
    assert.include(failed?.message, "disk full")
    assert.isFalse(status.warnings.some((warning) => warning.level === "error"))
  })

  it("an old SQLite in WAL mode is a warning; other journal modes or new versions are not", () => {
    // Settings as the layer resolves them, so the fixture follows SqliteSettings as it grows.
    const info = (sqliteVersion: string, journalMode: "WAL" | "DELETE") => ({
      driver: "better-sqlite3" as const,
      sqliteVersion,
      settings: Effect.runSync(resolveSqliteSettings({ path: "/data/or3.sqlite", journalMode, isTest: true }))
    })
    const idle = { enabled: true, state: "idle" as const }
    const old = statusWarnings(info("3.45.0", "WAL"), idle)
    assert.deepStrictEqual(old.map((warning) => warning.level), ["warning"])
    assert.include(old[0].message, MIN_SAFE_WAL_VERSION)
    assert.deepStrictEqual(statusWarnings(info("3.45.0", "DELETE"), idle), [])
    assert.deepStrictEqual(statusWarnings(info(MIN_SAFE_WAL_VERSION, "WAL"), idle), [])
  })
})

/** An event as the host leaves it after `requireAdminApiContext`: the admin principal on the context. */
const adminEvent = (kind?: "super_admin" | "workspace_admin") => {
  const event = eventWithSession()
  if (kind !== undefined) event.context.admin = { principal: { kind } }
  return event
}

/** The session the Feb-2026 host synthesizes for the env super admin (no workspace). */
const superAdminCtx = {
  provider: "sqlite",
  enabled: true,
  session: { authenticated: true, provider: "admin", user: { id: "root" }, role: "owner" as const, deploymentAdmin: true }
}

const gcCall = (method: string, workspaceId: string) => ({
  method,
  input: { scope: { workspaceId }, retentionSeconds: ADMIN_GC_RETENTION_SECONDS },
  user: undefined
})

describe("admin adapter actions", () => {
  it("a workspace admin: GC on the session's workspace with the 365-day window, inside a maintenance run", async () => {
    const p = await start()
    const result = await p.syncAdminAdapter.runAction(adminEvent("workspace_admin"), "sync.gc-change-log", undefined, actionCtx("w1"))
    assert.strictEqual(ADMIN_GC_RETENTION_SECONDS, 365 * 24 * 3600)
    const { lastRun, ...rest } = result as { lastRun: string }
    assert.deepStrictEqual(rest, {
      ok: true,
      actionId: "sync.gc-change-log",
      scope: "workspace",
      workspaceId: "w1",
      retentionSeconds: ADMIN_GC_RETENTION_SECONDS,
      backlog: 42,
      workspaces: [{ workspaceId: "w1", expiredCursors: 0, deleted: 3, horizon: 3 }],
      deleted: 3,
      expiredCursors: 0
    })
    assert.isFalse(Number.isNaN(Date.parse(lastRun)))
    assert.deepStrictEqual(calls.gateway, [gcCall("gcChangeLog", "w1")])
    assert.deepStrictEqual(p.syncGatewayAdapter.getMaintenanceState(), { enabled: true, state: "idle", lastRun, backlog: 42 })

    // Naming its own workspace is the same thing; a host without an admin context likewise.
    await p.syncAdminAdapter.runAction(eventWithSession(), "sync.gc-tombstones", { workspaceId: "w1" }, actionCtx("w1"))
    assert.deepStrictEqual(calls.gateway[1], gcCall("gcTombstones", "w1"))
  })

  it("a workspace admin may not name another workspace (403), nor act without one (403)", async () => {
    const p = await start()
    const other = await rejection(
      p.syncAdminAdapter.runAction(adminEvent("workspace_admin"), "sync.gc-change-log", { workspaceId: "w2" }, actionCtx("w1"))
    )
    assert.strictEqual(other.statusCode, 403)
    assert.strictEqual(other.message, "Forbidden: workspace target does not match session")
    const none = await rejection(
      p.syncAdminAdapter.runAction(adminEvent("workspace_admin"), "sync.gc-change-log", undefined, actionCtx())
    )
    assert.strictEqual(none.statusCode, 403)
    assert.strictEqual(none.message, "Workspace admin session required")
    // Without an admin context, a session with no workspace and no deployment-admin flag is no super admin.
    const plain = await rejection(p.syncAdminAdapter.runAction(eventWithSession(), "sync.gc-change-log", undefined, actionCtx()))
    assert.strictEqual(plain.statusCode, 403)
    assert.deepStrictEqual(calls.gateway, [])
    assert.strictEqual(p.syncGatewayAdapter.getMaintenanceState().state, "idle")
  })

  it("the super admin: every live workspace in turn, with each one's report and the totals", async () => {
    const p = await start()
    for (const [event, ctx] of [
      [adminEvent("super_admin"), superAdminCtx],
      // Signed in as a user too: the session's workspace does not narrow a super admin.
      [adminEvent("super_admin"), actionCtx("w1")],
      // A host that leaves no admin context: the synthesized session says it.
      [adminEvent(), superAdminCtx]
    ] as const) {
      calls.gateway.length = 0
      const result = await p.syncAdminAdapter.runAction(event, "sync.gc-tombstones", undefined, ctx)
      assert.deepStrictEqual(calls.gateway, [gcCall("gcTombstones", "w1"), gcCall("gcTombstones", "w2")])
      assert.deepInclude(result as object, {
        scope: "all",
        workspaces: [
          { workspaceId: "w1", expiredCursors: 0, deleted: 1, horizon: 0 },
          { workspaceId: "w2", expiredCursors: 0, deleted: 1, horizon: 0 }
        ],
        deleted: 2,
        expiredCursors: 0
      })
      assert.notProperty(result as object, "workspaceId")
    }
  })

  it("the super admin naming a workspace that does not exist: 404, nothing collected, state untouched", async () => {
    const p = await start()
    const missing = await rejection(
      p.syncAdminAdapter.runAction(adminEvent("super_admin"), "sync.gc-change-log", { workspaceId: "nope" }, superAdminCtx)
    )
    assert.strictEqual(missing.statusCode, 404)
    assert.strictEqual(missing.message, "Workspace not found: nope")
    assert.deepStrictEqual(calls.gateway, [])
    assert.strictEqual(p.syncGatewayAdapter.getMaintenanceState().state, "idle")
  })

  it("400 Unknown action; 400 for a payload workspaceId that is not a non-empty string", async () => {
    const p = await start()
    const unknown = await rejection(p.syncAdminAdapter.runAction(eventWithSession(), "sync.vacuum", undefined, actionCtx("w1")))
    assert.strictEqual(unknown.statusCode, 400)
    assert.strictEqual(unknown.message, "Unknown action")
    const prototypeKey = await rejection(p.syncAdminAdapter.runAction(eventWithSession(), "toString", undefined, actionCtx("w1")))
    assert.strictEqual(prototypeKey.statusCode, 400)
    for (const workspaceId of [7, "  ", {}]) {
      const bad = await rejection(
        p.syncAdminAdapter.runAction(adminEvent("super_admin"), "sync.gc-change-log", { workspaceId }, superAdminCtx)
      )
      assert.strictEqual(bad.statusCode, 400)
    }
    assert.deepStrictEqual(calls.gateway, [])
    assert.strictEqual(p.syncGatewayAdapter.getMaintenanceState().state, "idle")
  })

  it("a failing GC marks the maintenance state failed and rejects with a generic 500", async () => {
    const p = await start()
    const error = await rejection(
      p.syncAdminAdapter.runAction(eventWithSession(), "sync.gc-change-log", undefined, actionCtx("broken"))
    )
    assert.strictEqual(error.statusCode, 500)
    assert.deepStrictEqual(p.syncGatewayAdapter.getMaintenanceState(), {
      enabled: true,
      state: "failed",
      lastError: INTERNAL_ERROR_MESSAGE
    })
    const status = await p.syncAdminAdapter.getStatus(eventWithSession(), { enabled: true, provider: "sqlite" })
    assert.strictEqual((status.details?.maintenance as { state: string }).state, "failed")
  })
})
