/**
 * `POST /api/sync/push` and `/api/sync/pull` over real HTTP: the host's guards in their order,
 * per-op validation merged back in input order, roles, the active-workspace rule, body limits.
 */
import { randomUUID } from "node:crypto"
import { request as httpRequest } from "node:http"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeHostClient } from "../../src/host/HostClient.js"
import { type SignedIn, joinWorkspace, freshUser, pull, push, signIn, startTestHost, type TestHost, threadOp } from "./support.js"

let host: TestHost
let alice: SignedIn

beforeAll(async () => {
  host = await startTestHost()
  alice = await signIn(host)
})
afterAll(() => host.close())

describe("POST /api/sync/push", () => {
  it("applies valid ops and answers 200 with one result per op and no-store", async () => {
    const ops = [threadOp("p1"), threadOp("p2")]
    const response = await push(alice.client, alice.workspaceId, ops)
    expect(response.status).toBe(200)
    expect(response.headers.get("cache-control")).toBe("no-store")
    expect(response.body.results.map((r: { opId: string }) => r.opId)).toEqual(ops.map((op) => op.stamp.opId))
    expect(response.body.results.every((r: { success: boolean; applied: boolean }) => r.success && r.applied)).toBe(true)
    expect(response.body.serverVersion).toBeGreaterThanOrEqual(2)
  })

  it("answers invalid ops itself, in input order, and forwards only the valid ones", async () => {
    const good = threadOp("mixed-good")
    const badStamp = { ...threadOp("mixed-bad"), stamp: { ...threadOp("x").stamp, opId: "not-a-uuid" } }
    const oversized = threadOp("mixed-big")
    oversized.payload = { ...(oversized.payload as object), blob: "x".repeat(256 * 1024) }
    const badPayload = threadOp("mixed-payload")
    delete (badPayload.payload as Record<string, unknown>).status
    const camel = threadOp("mixed-camel")
    const { created_at, updated_at, ...rest } = camel.payload as Record<string, unknown>
    camel.payload = { ...rest, createdAt: created_at, updatedAt: updated_at }

    const response = await push(alice.client, alice.workspaceId, [badStamp, 42, good, oversized, badPayload, camel])
    expect(response.status).toBe(200)
    const results = response.body.results
    expect(results.map((r: { opId: string }) => r.opId)).toEqual([
      "not-a-uuid",
      "invalid-op-1",
      good.stamp.opId,
      oversized.stamp.opId,
      badPayload.stamp.opId,
      camel.stamp.opId
    ])
    expect(results.map((r: { errorCode?: string }) => r.errorCode)).toEqual([
      "VALIDATION_ERROR",
      "VALIDATION_ERROR",
      undefined,
      "OVERSIZED",
      "VALIDATION_ERROR",
      undefined
    ])
    expect(results[2]).toMatchObject({ success: true, applied: true })
    expect(results[4].error).toMatch(/Invalid payload for threads: status/)
    // The camelCase payload was forwarded in snake_case, as the host normalizes it.
    const pulled = await pull(alice.client, alice.workspaceId)
    const change = pulled.body.changes.find((c: { pk: string }) => c.pk === "mixed-camel")
    expect(change.payload).toMatchObject({ created_at: created_at, updated_at: updated_at })
    expect(change.payload).not.toHaveProperty("createdAt")
  })

  it("answers 200 with serverVersion 0 when no op is valid", async () => {
    const response = await push(alice.client, alice.workspaceId, [{}, { stamp: { opId: "abc" } }])
    expect(response.status).toBe(200)
    expect(response.body).toEqual({
      results: [
        expect.objectContaining({ opId: "invalid-op-0", success: false, errorCode: "VALIDATION_ERROR" }),
        expect.objectContaining({ opId: "abc", success: false, errorCode: "VALIDATION_ERROR" })
      ],
      serverVersion: 0
    })
  })

  it("reports an LWW loss as success with applied:false and the winner", async () => {
    await push(alice.client, alice.workspaceId, [threadOp("lww", { clock: 5, title: "newer" })])
    const response = await push(alice.client, alice.workspaceId, [threadOp("lww", { clock: 2, title: "older" })])
    expect(response.status).toBe(200)
    expect(response.body.results[0]).toMatchObject({ success: true, applied: false })
    expect(response.body.results[0].winner).toMatchObject({ kind: "put", payload: { title: "newer" } })
  })

  it("rejects a bad envelope with 400 Invalid push request", async () => {
    for (const body of [{ scope: { workspaceId: alice.workspaceId }, ops: "nope" }, { ops: [] }, {
      scope: { workspaceId: alice.workspaceId },
      ops: Array.from({ length: 101 }, () => ({}))
    }]) {
      const response = await alice.client.post("/api/sync/push", body)
      expect(response.status).toBe(400)
      expect(response.body.statusMessage).toBe("Invalid push request")
    }
    const notJson = await alice.client.post("/api/sync/push", "{not json")
    expect(notJson.status).toBe(400)
  })

  it("requires a session (401), the mutation intent (403) and a JSON body (415)", async () => {
    const body = { scope: { workspaceId: alice.workspaceId }, ops: [threadOp("guard")] }
    expect((await makeHostClient(host.url, "unknown-token").post("/api/sync/push", body)).status).toBe(401)
    // No bearer, no origin: a browser form could send that, so the mutation guard refuses it first.
    expect((await host.anonymous.post("/api/sync/push", body)).status).toBe(403)
    expect((await alice.client.post("/api/sync/push", body, { headers: { "x-or3-cloud-intent": null } })).status).toBe(403)
    const textPlain = await alice.client.post("/api/sync/push", body, { headers: { "content-type": "text/plain" } })
    expect(textPlain.status).toBe(415)
    const crossSite = await alice.client.post("/api/sync/push", body, { headers: { origin: "https://evil.example" } })
    expect(crossSite.status).toBe(403)
    const sameOrigin = await alice.client.post("/api/sync/push", body, { headers: { origin: host.url } })
    expect(sameOrigin.status).toBe(200)
  })

  it("refuses another user's workspace and the user's own non-active one with 403", async () => {
    const bob = await signIn(host)
    expect((await push(alice.client, bob.workspaceId, [threadOp("foreign")])).status).toBe(403)
    const created = await alice.client.post("/api/workspaces", { name: "Second" })
    expect(created.status).toBe(200)
    expect((await push(alice.client, created.body.id, [threadOp("inactive")])).status).toBe(403)
    expect((await pull(alice.client, created.body.id)).status).toBe(403)
  })

  it("lets an editor write and refuses a viewer (403), who may still pull", async () => {
    const editor = await joinWorkspace(host, alice, freshUser("editor"), "editor")
    const viewer = await joinWorkspace(host, alice, freshUser("viewer"), "viewer")
    expect((await push(editor.client, alice.workspaceId, [threadOp("by-editor")])).status).toBe(200)
    expect((await push(viewer.client, alice.workspaceId, [threadOp("by-viewer")])).status).toBe(403)
    const pulled = await pull(viewer.client, alice.workspaceId)
    expect(pulled.status).toBe(200)
    expect(pulled.body.changes.some((c: { pk: string }) => c.pk === "by-editor")).toBe(true)
  })

  it("refuses a body over 2 MiB with 413, declared or streamed", async () => {
    const big = { scope: { workspaceId: alice.workspaceId }, ops: [{ blob: "x".repeat(2 * 1024 * 1024) }] }
    const declared = await alice.client.post("/api/sync/push", big)
    expect(declared.status).toBe(413)
    const streamed = await new Promise<number>((resolve, reject) => {
      const url = new URL("/api/sync/push", host.url)
      const req = httpRequest(url, {
        method: "POST",
        headers: {
          authorization: `Bearer user-${"streamer"}`,
          "content-type": "application/json",
          "x-or3-cloud-intent": "mutation",
          "transfer-encoding": "chunked"
        }
      }, (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
      req.on("error", reject)
      const chunk = "x".repeat(64 * 1024)
      req.write("{\"blob\":\"")
      for (let i = 0; i < 40; i++) req.write(chunk)
      req.end("\"}")
    })
    expect(streamed).toBe(413)
  })
})

describe("POST /api/sync/pull", () => {
  it("returns the changes after the cursor with the retention fields", async () => {
    const user = await signIn(host)
    await push(user.client, user.workspaceId, [threadOp("a"), threadOp("b"), threadOp("c")])
    const first = await pull(user.client, user.workspaceId, 0, 2)
    expect(first.status).toBe(200)
    expect(first.headers.get("cache-control")).toBe("no-store")
    expect(first.body).toMatchObject({ hasMore: true, oldestRetainedVersion: expect.any(Number), requiresSnapshot: false })
    expect(first.body.changes.map((c: { pk: string }) => c.pk)).toEqual(["a", "b"])
    const rest = await pull(user.client, user.workspaceId, first.body.nextCursor, 2)
    expect(rest.body.changes.map((c: { pk: string }) => c.pk)).toEqual(["c"])
    expect(rest.body.hasMore).toBe(false)
  })

  it("rejects an invalid request with 400, an anonymous one with 401, a body over 8 KiB with 413", async () => {
    for (const body of [{ scope: { workspaceId: alice.workspaceId }, cursor: 0 }, {
      scope: { workspaceId: alice.workspaceId },
      cursor: -1,
      limit: 10
    }, { scope: { workspaceId: alice.workspaceId }, cursor: 0, limit: 1001 }]) {
      const response = await alice.client.post("/api/sync/pull", body)
      expect(response.status).toBe(400)
      expect(response.body.statusMessage).toBe("Invalid pull request")
    }
    expect((await pull(host.anonymous, alice.workspaceId)).status).toBe(401)
    const padded = { scope: { workspaceId: alice.workspaceId }, cursor: 0, limit: 1, pad: "x".repeat(9000) }
    expect((await alice.client.post("/api/sync/pull", padded)).status).toBe(413)
  })

  it("needs no mutation intent (it is a read)", async () => {
    const response = await alice.client.post(
      "/api/sync/pull",
      { scope: { workspaceId: alice.workspaceId }, cursor: 0, limit: 1 },
      { headers: { "x-or3-cloud-intent": null } }
    )
    expect(response.status).toBe(200)
  })
})

describe("replays and opId reuse", () => {
  it("replays an identical op with its original version and flags a reused opId as CONFLICT", async () => {
    const user = await signIn(host)
    const op = threadOp("replay")
    const first = await push(user.client, user.workspaceId, [op])
    const again = await push(user.client, user.workspaceId, [op])
    expect(again.body.results[0]).toMatchObject({ success: true, serverVersion: first.body.results[0].serverVersion })
    const reused = await push(user.client, user.workspaceId, [threadOp("other", { opId: op.stamp.opId })])
    expect(reused.body.results[0]).toMatchObject({ success: false, errorCode: "CONFLICT" })
    const twice = await push(user.client, user.workspaceId, [threadOp("dup", { opId: randomUUID() })].flatMap((o) => [o, o]))
    expect(twice.status).toBe(200)
    expect(twice.body.results).toHaveLength(2)
    expect(twice.body.results[0]).toEqual(twice.body.results[1])
  })
})
