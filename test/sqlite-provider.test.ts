/**
 * createSqliteProvider over the real service layers and a database file: start-up, errors as the
 * host sees them, and maintenance state that survives a restart.
 */
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import type { H3Error } from "h3"
import { createSqliteProvider } from "../src/facades/createSqliteProvider.js"
import type { SqliteProvider } from "../src/facades/SqliteProvider.js"
import { ConfigInvalid } from "../src/schema/errors.js"
import { eventWithSession, rejection } from "./or3-doubles/services.js"


let dir: string
let path: string
const open: Array<SqliteProvider> = []
const start = async () => {
  const provider = await createSqliteProvider({ path })
  open.push(provider)
  return provider
}

beforeEach(() => {
  dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "or3-provider-"))
  path = Path.join(dir, "or3.sqlite")
})
afterEach(async () => {
  await Promise.all(open.splice(0).map((provider) => provider.dispose()))
  Fs.rmSync(dir, { recursive: true, force: true })
})

describe("createSqliteProvider", () => {
  it("rejects bad configuration with the typed error's message, opening nothing", async () => {
    const error = await createSqliteProvider({ path: ":memory:", strict: true }).catch((e: unknown) => e)
    assert.instanceOf(error, ConfigInvalid)
    assert.include((error as ConfigInvalid).message, "OR3_SQLITE_STRICT=true forbids an in-memory database")
    const synchronous = await createSqliteProvider({ path, synchronous: "SOMETIMES" }).catch((e: unknown) => e)
    assert.instanceOf(synchronous, ConfigInvalid)
    assert.isFalse(Fs.existsSync(path))
  })

  it("migrates at start and reports the options it runs with", async () => {
    const provider = await createSqliteProvider({ path, synchronous: "NORMAL" })
    open.push(provider)
    const status = await provider.syncAdminAdapter.getStatus(eventWithSession(), { enabled: true, provider: "sqlite" })
    assert.strictEqual(status.details?.dbPath, path)
    assert.strictEqual(status.details?.synchronous, "NORMAL")
    assert.strictEqual(status.details?.journalMode, "WAL")
    assert.strictEqual(status.details?.inMemory, false)
    assert.isAtLeast(Number(status.details?.schemaVersion), 1)
  })

  it("real service errors reach the host with their status", async () => {
    const { authWorkspaceStore: store, syncGatewayAdapter: gateway } = await start()
    const { userId: owner } = await store.getOrCreateUser({ provider: "basic-auth", providerUserId: "owner" })
    const { userId: other } = await store.getOrCreateUser({ provider: "basic-auth", providerUserId: "other" })
    const { workspaceId } = await store.getOrCreateDefaultWorkspace(owner)

    const notMember = await rejection(store.setActiveWorkspace({ userId: other, workspaceId }))
    assert.strictEqual(notMember.statusCode, 403)
    assert.strictEqual(notMember.message, "Forbidden: not a member of this workspace")
    const badName = await rejection(store.createWorkspace({ userId: owner, name: "   " }))
    assert.strictEqual(badName.statusCode, 400)

    const noUser = await rejection(
      gateway.updateCursor(eventWithSession(), { scope: { workspaceId }, deviceId: "d1", version: 0 })
    )
    assert.strictEqual(noUser.statusCode, 401)
    const anonymousSnapshot = await rejection(gateway.snapshot(eventWithSession(), { scope: { workspaceId }, pageSize: 10 }))
    assert.strictEqual(anonymousSnapshot.statusCode, 401)
    assert.strictEqual(anonymousSnapshot.message, "Authentication required to read a snapshot")
    const session = eventWithSession({ userId: owner, workspaceId })
    const badToken = await rejection(gateway.snapshot(session, { scope: { workspaceId }, pageSize: 10, pageToken: "nonsense" }))
    assert.strictEqual(badToken.statusCode, 400)
    const badLimit = await rejection(gateway.pull(session, { scope: { workspaceId }, cursor: 0, limit: 0 }))
    assert.strictEqual(badLimit.statusCode, 400)
    const elsewhere = await rejection(gateway.pull(session, { scope: { workspaceId: "another" }, cursor: 0, limit: 10 }))
    assert.strictEqual(elsewhere.statusCode, 403)

    const page = await gateway.snapshot(session, { scope: { workspaceId }, pageSize: 10 })
    assert.strictEqual(page.workspaceId, workspaceId)
    assert.isTrue(Array.isArray(page.items))
  })

  it("maintenance state is persisted in the background and survives a restart", async () => {
    const first = await createSqliteProvider({ path })
    first.syncGatewayAdapter.beginMaintenanceRun()
    first.syncGatewayAdapter.failMaintenanceRun("disk full")
    await first.dispose() // waits for the pending writes

    const second = await start()
    assert.deepStrictEqual(second.syncGatewayAdapter.getMaintenanceState(), {
      enabled: true,
      state: "failed",
      lastError: "disk full"
    })
    second.syncGatewayAdapter.beginMaintenanceRun()
    second.syncGatewayAdapter.completeMaintenanceRun({ lastRun: "2026-03-01T00:00:00.000Z" })
    const status = await second.syncAdminAdapter.getStatus(eventWithSession(), { enabled: true, provider: "sqlite" })
    assert.deepStrictEqual(status.details?.maintenance, {
      enabled: true,
      state: "idle",
      lastRun: "2026-03-01T00:00:00.000Z",
      backlog: 0
    })
    assert.isFalse(status.warnings.some((warning) => warning.message.includes("maintenance")))
  })

  it("admin GC actions run against the real gateway", async () => {
    const { authWorkspaceStore: store, syncAdminAdapter: admin } = await start()
    const { userId } = await store.getOrCreateUser({ provider: "basic-auth", providerUserId: "admin" })
    const { workspaceId } = await store.getOrCreateDefaultWorkspace(userId)
    const ctx = { provider: "sqlite", enabled: true, session: { authenticated: true, user: { id: userId }, workspace: { id: workspaceId } } }
    for (const actionId of ["sync.gc-change-log", "sync.gc-tombstones"]) {
      const result = (await admin.runAction(eventWithSession(), actionId, undefined, ctx)) as Record<string, unknown>
      assert.strictEqual(result.ok, true)
      assert.strictEqual(result.workspaceId, workspaceId)
      assert.strictEqual(result.backlog, 0)
    }
  })
})
