import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import type { H3Error } from "h3"
import { INTERNAL_ERROR_MESSAGE } from "../src/facades/H3Errors.js"
import { sessionFromEvent } from "../src/facades/Session.js"
import { makeSqliteProvider, type SqliteProvider } from "../src/facades/SqliteProvider.js"
import { SYNC_CAPABILITIES } from "../src/facades/SyncGatewayAdapter.js"
import type { PullRequest, PushBatch } from "../src/or3/types.js"
import { type Calls, eventWithSession, fakeProviderLayer, newCalls, SECRET_SQL, SESSION_KEY, rejection } from "./or3-doubles/services.js"


const pullRequest = (workspaceId: string, cursor = 0): PullRequest => ({ scope: { workspaceId }, cursor, limit: 100 })

let calls: Calls
let provider: SqliteProvider

beforeEach(async () => {
  calls = newCalls()
  provider = await makeSqliteProvider(fakeProviderLayer(calls))
})
afterEach(() => provider.dispose())

describe("session from event.context", () => {
  it("reads user and workspace of the first authenticated session entry", () => {
    const event = eventWithSession({ userId: "u1", workspaceId: "w1" })
    assert.deepStrictEqual(sessionFromEvent(event), { userId: "u1", workspaceId: "w1" })
  })

  it("ignores unauthenticated entries, other keys and malformed values", () => {
    const event = eventWithSession({ userId: "u1", workspaceId: "w1", authenticated: false })
    event.context.session = { authenticated: true, user: { id: "not-or3" } }
    event.context["__or3_session_context_other"] = null
    event.context["__or3_session_context_weird"] = { authenticated: true, user: { id: 7 } }
    assert.isUndefined(sessionFromEvent(event))
    assert.isUndefined(sessionFromEvent(eventWithSession()))
  })
})

describe("SyncGatewayAdapter facade", () => {
  it("declares id and snapshot-v1 capabilities", () => {
    assert.strictEqual(provider.syncGatewayAdapter.id, "sqlite")
    assert.deepStrictEqual(provider.syncGatewayAdapter.capabilities, SYNC_CAPABILITIES)
    assert.deepStrictEqual(SYNC_CAPABILITIES, { snapshotBootstrap: "snapshot-v1", historyRetention: "snapshot-v1" })
  })

  it("passes the request and the session user to the service", async () => {
    const event = eventWithSession({ userId: "u1", workspaceId: "w1" })
    const response = await provider.syncGatewayAdapter.pull(event, pullRequest("w1", 4))
    assert.deepStrictEqual(response, {
      changes: [],
      nextCursor: 4,
      hasMore: false,
      oldestRetainedVersion: 0,
      requiresSnapshot: false
    })
    assert.deepStrictEqual(calls.gateway, [{ method: "pull", input: pullRequest("w1", 4), user: { userId: "u1" } }])

    const batch: PushBatch = { scope: { workspaceId: "w1" }, ops: [] }
    const pushed = await provider.syncGatewayAdapter.push(event, batch)
    assert.strictEqual(pushed.serverVersion, 1)
    assert.isTrue(Array.isArray(pushed.results))
  })

  it("400 for a blank or missing workspace, before the service runs", async () => {
    const event = eventWithSession({ userId: "u1", workspaceId: "w1" })
    for (const workspaceId of ["", "   "]) {
      const error = await rejection(provider.syncGatewayAdapter.pull(event, pullRequest(workspaceId)))
      assert.strictEqual(error.statusCode, 400)
      assert.strictEqual(error.message, "Invalid scope.workspaceId: is required")
    }
    const missing = await rejection(provider.syncGatewayAdapter.pull(event, { cursor: 0, limit: 1 } as unknown as PullRequest))
    assert.strictEqual(missing.statusCode, 400)
    assert.deepStrictEqual(calls.gateway, [])
  })

  it("403 when the session names another workspace, for every scoped method", async () => {
    const event = eventWithSession({ userId: "u1", workspaceId: "w1" })
    const other = { workspaceId: "w2" }
    const attempts = [
      provider.syncGatewayAdapter.pull(event, pullRequest("w2")),
      provider.syncGatewayAdapter.push(event, { scope: other, ops: [] }),
      provider.syncGatewayAdapter.snapshot(event, { scope: other, pageSize: 10 }),
      provider.syncGatewayAdapter.updateCursor(event, { scope: other, deviceId: "d1", version: 3 }),
      provider.syncGatewayAdapter.gcChangeLog(event, { scope: other, retentionSeconds: 3600 }),
      provider.syncGatewayAdapter.gcTombstones(event, { scope: other, retentionSeconds: 3600 })
    ]
    for (const attempt of attempts) {
      const error = await rejection(attempt)
      assert.strictEqual(error.statusCode, 403)
      assert.strictEqual(error.message, "Forbidden: the workspace is not the session's workspace")
      assert.strictEqual((error.data as { workspaceId: string }).workspaceId, "w2")
    }
    assert.deepStrictEqual(calls.gateway, [])
  })

  it("without a session (scheduler, admin) the scope is not compared and GC runs", async () => {
    const event = eventWithSession()
    await provider.syncGatewayAdapter.gcChangeLog(event, { scope: { workspaceId: "w2" }, retentionSeconds: 3600 })
    await provider.syncGatewayAdapter.gcTombstones(event, { scope: { workspaceId: "w2" }, retentionSeconds: 3600 })
    assert.deepStrictEqual(
      calls.gateway.map(({ method, user }) => [method, user]),
      [["gcChangeLog", undefined], ["gcTombstones", undefined]]
    )
    assert.deepStrictEqual(await provider.syncGatewayAdapter.listWorkspaceIds(), ["w1", "w2"])
  })

  it("typed service errors keep their status: 401, 409, 410", async () => {
    const noUser = await rejection(
      provider.syncGatewayAdapter.updateCursor(eventWithSession(), { scope: { workspaceId: "w1" }, deviceId: "d1", version: 3 })
    )
    assert.strictEqual(noUser.statusCode, 401)
    const event = eventWithSession({ userId: "u1", workspaceId: "w1" })
    const regressed = await rejection(
      provider.syncGatewayAdapter.updateCursor(event, { scope: { workspaceId: "w1" }, deviceId: "d1", version: 1 })
    )
    assert.strictEqual(regressed.statusCode, 409)
    assert.deepStrictEqual(regressed.data, { code: "CursorRegressed", deviceId: "d1", current: 5, requested: 1 })
    const expired = await rejection(provider.syncGatewayAdapter.snapshot(event, { scope: { workspaceId: "w1" }, pageSize: 5 }))
    assert.strictEqual(expired.statusCode, 410)
    await provider.syncGatewayAdapter.updateCursor(event, { scope: { workspaceId: "w1" }, deviceId: "d1", version: 9 })
  })

  it("a defect is a generic 500; the cause goes to Effect's logger, not to the client", async () => {
    const event = eventWithSession({ userId: "u1", workspaceId: "w1" })
    const error = await rejection(provider.syncGatewayAdapter.pull(event, pullRequest("w1", 666)))
    assert.strictEqual(error.statusCode, 500)
    assert.strictEqual(error.message, INTERNAL_ERROR_MESSAGE)
    assert.notInclude(JSON.stringify(error.toJSON()), "secret_column")
    assert.isTrue(calls.logs.some((line) => line.includes("SyncGateway.pull failed") && line.includes(SECRET_SQL)))
  })

  it("client errors are not logged as failures", async () => {
    const event = eventWithSession({ userId: "u1", workspaceId: "w1" })
    await rejection(provider.syncGatewayAdapter.pull(event, pullRequest("w2")))
    assert.isFalse(calls.logs.some((line) => line.includes("failed")))
  })
})

describe("AuthWorkspaceStore facade", () => {
  it("delegates and returns plain arrays", async () => {
    const store = provider.authWorkspaceStore
    assert.deepStrictEqual(await store.getOrCreateUser({ provider: "basic-auth", providerUserId: "p1" }), { userId: "u1" })
    assert.isNull(await store.getUser({ provider: "basic-auth", providerUserId: "p1" }))
    assert.deepStrictEqual(await store.getOrCreateDefaultWorkspace("u1"), {
      workspaceId: "w1",
      workspaceName: "My Workspace",
      created: true
    })
    const workspaces = await store.listUserWorkspaces("u1")
    assert.isTrue(Array.isArray(workspaces))
    assert.strictEqual(workspaces[0].id, "w1")
    assert.deepStrictEqual(await store.validateInvite({ workspaceId: "w1", email: "a@b.c", tokenHash: "h" }), {
      ok: false,
      reason: "not_found"
    })
    assert.deepStrictEqual(calls.store.map((call) => call.method), ["getOrCreateUser", "getUser"])
  })

  it("store errors reach the client as 4xx, not 500", async () => {
    const forbidden = await rejection(provider.authWorkspaceStore.removeWorkspace({ userId: "u2", workspaceId: "w1" }))
    assert.strictEqual(forbidden.statusCode, 403)
    assert.strictEqual(forbidden.message, "Forbidden: only the owner can remove a workspace")
    const missing = await rejection(provider.authWorkspaceStore.getOrCreateDefaultWorkspace("ghost"))
    assert.strictEqual(missing.statusCode, 404)
    const broken = await rejection(
      provider.authWorkspaceStore.acceptInviteAndProvisionUser({
        provider: "p",
        providerUserId: "x",
        email: "a@b.c",
        workspaceId: "w1",
        tokenHash: "h"
      })
    )
    assert.strictEqual(broken.statusCode, 500)
    assert.strictEqual(broken.message, INTERNAL_ERROR_MESSAGE)
  })
})

describe("dispose", () => {
  it("is idempotent, and calls after it fail as 500", async () => {
    await provider.dispose()
    await provider.dispose()
    const error = await rejection(provider.syncGatewayAdapter.listWorkspaceIds())
    assert.strictEqual(error.statusCode, 500)
  })
})

it("the session key prefix is the host's", () => {
  assert.isTrue(SESSION_KEY.startsWith("__or3_session_context_"))
})
