/**
 * `POST /api/sync/{snapshot,update-cursor,gc-tombstones,gc-change-log}` over real HTTP, with the
 * statuses the adapter's typed errors map to (400, 403, 409, 410) and the host's own (401, 501, 503).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { encodeToken } from "../../src/services/sync/snapshotToken.js"
import { freshUser, joinWorkspace, push, type SignedIn, signIn, startTestHost, type TestHost, threadOp } from "./support.js"

let host: TestHost
let alice: SignedIn

beforeAll(async () => {
  host = await startTestHost()
  alice = await signIn(host)
  await push(alice.client, alice.workspaceId, ["s1", "s2", "s3"].map((pk) => threadOp(pk)))
})
afterAll(() => host.close())

const snapshot = (who: SignedIn, body: Record<string, unknown>, workspaceId = who.workspaceId) =>
  who.client.post("/api/sync/snapshot", { scope: { workspaceId }, ...body })

describe("POST /api/sync/snapshot", () => {
  it("pages the workspace at one watermark", async () => {
    const first = await snapshot(alice, { pageSize: 2 })
    expect(first.status).toBe(200)
    expect(first.headers.get("cache-control")).toBe("no-store")
    expect(first.body.items).toHaveLength(2)
    expect(first.body.workspaceId).toBe(alice.workspaceId)
    const second = await snapshot(alice, { pageSize: 2, pageToken: first.body.nextPageToken })
    expect(second.status).toBe(200)
    expect(second.body).toMatchObject({ snapshotId: first.body.snapshotId, highWatermark: first.body.highWatermark })
    expect([...first.body.items, ...second.body.items].map((item: { pk: string }) => item.pk)).toEqual(["s1", "s2", "s3"])
    expect(second.body.nextPageToken).toBeNull()
  })

  it("rejects a bad request with 400, a bad token with 400, an unknown chain with 410", async () => {
    const badSize = await snapshot(alice, { pageSize: 0 })
    expect(badSize.status).toBe(400)
    expect(badSize.body.statusMessage).toBe("Invalid snapshot request")
    expect((await snapshot(alice, { pageSize: 10, pageToken: "not a token" })).status).toBe(400)
    const unknown = encodeToken({ snapshotId: "never-issued", tableName: "threads", pk: "s1" })
    const expired = await snapshot(alice, { pageSize: 10, pageToken: unknown })
    expect(expired.status).toBe(410)
  })

  it("refuses anonymous callers (401) and other workspaces (403)", async () => {
    expect((await host.anonymous.post("/api/sync/snapshot", { scope: { workspaceId: alice.workspaceId }, pageSize: 1 })).status)
      .toBe(401)
    const bob = await signIn(host)
    expect((await snapshot(bob, { pageSize: 1 }, alice.workspaceId)).status).toBe(403)
  })
})

describe("POST /api/sync/update-cursor", () => {
  const cursor = (who: SignedIn, deviceId: string, version: number, workspaceId = who.workspaceId) =>
    who.client.post("/api/sync/update-cursor", { scope: { workspaceId }, deviceId, version })

  it("moves a device cursor forward and refuses to move it back (409)", async () => {
    const ok = await cursor(alice, "laptop", 2)
    expect(ok.status).toBe(200)
    expect(ok.body).toEqual({ ok: true })
    expect((await cursor(alice, "laptop", 3)).status).toBe(200)
    const regress = await cursor(alice, "laptop", 1)
    expect(regress.status).toBe(409)
  })

  it("rejects a malformed request (400), a version past the head (400), no session (401), another user's device (403)", async () => {
    const malformed = await alice.client.post("/api/sync/update-cursor", { scope: { workspaceId: alice.workspaceId }, deviceId: "" })
    expect(malformed.status).toBe(400)
    expect(malformed.body.statusMessage).toBe("Invalid cursor request")
    expect((await cursor(alice, "laptop", 1_000_000)).status).toBe(400)
    const anonymous = await host.anonymous.post("/api/sync/update-cursor", {
      scope: { workspaceId: alice.workspaceId },
      deviceId: "x",
      version: 0
    })
    expect(anonymous.status).toBe(401)
    const editor = await joinWorkspace(host, alice, freshUser("cursor-editor"), "editor")
    expect((await cursor(editor, "laptop", 3)).status).toBe(403)
  })
})

describe("POST /api/sync/gc-tombstones and gc-change-log", () => {
  const gc = (who: SignedIn, route: string, retentionSeconds = 3600, workspaceId = who.workspaceId) =>
    who.client.post(`/api/sync/${route}`, { scope: { workspaceId }, retentionSeconds })

  for (const route of ["gc-tombstones", "gc-change-log"]) {
    it(`${route}: 204 for the owner; 400 for a short window; 403 for an editor and for another workspace`, async () => {
      const done = await gc(alice, route)
      expect(done.status).toBe(204)
      expect(done.headers.get("cache-control")).toBe("no-store")
      const short = await gc(alice, route, 60)
      expect(short.status).toBe(400)
      expect(short.body.statusMessage).toBe("Invalid GC request")
      const editor = await joinWorkspace(host, alice, freshUser("gc-editor"), "editor")
      expect((await gc(editor, route)).status).toBe(403)
      const bob = await signIn(host)
      expect((await gc(alice, route, 3600, bob.workspaceId)).status).toBe(403)
      const noIntent = await alice.client.post(`/api/sync/${route}`, { scope: { workspaceId: alice.workspaceId }, retentionSeconds: 3600 }, {
        headers: { "x-or3-cloud-intent": null }
      })
      expect(noIntent.status).toBe(403)
    })
  }
})

describe("adapters that cannot collect history", () => {
  it("answers 503 without both snapshot capabilities and 501 without the GC method", async () => {
    const noCapabilities = await startTestHost((provider) => ({
      ...provider,
      syncGatewayAdapter: { ...provider.syncGatewayAdapter, capabilities: { snapshotBootstrap: "snapshot-v1" } }
    }))
    const noMethods = await startTestHost((provider) => {
      const { gcTombstones: _t, gcChangeLog: _c, snapshot: _s, ...adapter } = provider.syncGatewayAdapter
      return { ...provider, syncGatewayAdapter: adapter }
    })
    try {
      const owner = await signIn(noCapabilities)
      const body = { scope: { workspaceId: owner.workspaceId }, retentionSeconds: 3600 }
      expect((await owner.client.post("/api/sync/gc-tombstones", body)).status).toBe(503)
      const other = await signIn(noMethods)
      const otherBody = { scope: { workspaceId: other.workspaceId }, retentionSeconds: 3600 }
      const missing = await other.client.post("/api/sync/gc-change-log", otherBody)
      expect(missing.status).toBe(501)
      expect(missing.body.statusMessage).toBe("GC change log not supported by adapter")
      const noSnapshot = await other.client.post("/api/sync/snapshot", { scope: { workspaceId: other.workspaceId }, pageSize: 1 })
      expect(noSnapshot.status).toBe(503)
    } finally {
      await noCapabilities.close()
      await noMethods.close()
    }
  })
})
