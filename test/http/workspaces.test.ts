/**
 * `/api/workspaces/*`, `GET /api/auth/session` and the admin provider routes over real HTTP,
 * with two users and two workspaces each: the host's checks, and the store's errors passing
 * through with their status.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeHostClient } from "../../src/host/HostClient.js"
import { freshUser, joinWorkspace, type SignedIn, signIn, startTestHost, type TestHost } from "./support.js"

let host: TestHost

beforeAll(async () => {
  host = await startTestHost()
})
afterAll(() => host.close())

const create = (who: SignedIn, name: string, description?: string) =>
  who.client.post("/api/workspaces", { name, ...(description === undefined ? {} : { description }) })

const list = async (who: SignedIn) => (await who.client.get("/api/workspaces")).body.workspaces as Array<any>

describe("GET and POST /api/workspaces", () => {
  it("creates a workspace for its owner and lists only the caller's workspaces, newest first", async () => {
    const alice = await signIn(host)
    const bob = await signIn(host)
    const created = await create(alice, "  Research  ", "Papers")
    expect(created.status).toBe(200)
    expect(created.body).toEqual({ id: expect.any(String) })
    const mine = await list(alice)
    expect(mine.map((w) => w.name)).toEqual(["Research", "My Workspace"])
    expect(mine[0]).toMatchObject({ id: created.body.id, role: "owner", description: "Papers", isActive: false })
    expect(mine[1]).toMatchObject({ id: alice.workspaceId, isActive: true, description: null })
    expect((await list(bob)).map((w) => w.id)).toEqual([bob.workspaceId])
  })

  it("validates the name and description (400), needs a session (401), a JSON body (415) and the intent (403)", async () => {
    const alice = await signIn(host)
    const cases: Array<[unknown, string]> = [
      [{}, "Workspace name is required"],
      [{ name: "   " }, "Workspace name is required"],
      [{ name: "x".repeat(101) }, "Workspace name must be under 100 characters"],
      [{ name: "ok", description: "d".repeat(1001) }, "Description must be under 1000 characters"]
    ]
    for (const [body, message] of cases) {
      const response = await alice.client.post("/api/workspaces", body)
      expect(response.status).toBe(400)
      expect(response.body.statusMessage).toBe(message)
    }
    expect((await host.anonymous.get("/api/workspaces")).status).toBe(401)
    expect((await makeHostClient(host.url, "nobody").post("/api/workspaces", { name: "x" })).status).toBe(401)
    const text = await alice.client.post("/api/workspaces", { name: "x" }, { headers: { "content-type": "text/plain" } })
    expect(text.status).toBe(415)
    const noIntent = await alice.client.post("/api/workspaces", { name: "x" }, { headers: { "x-or3-cloud-intent": null } })
    expect(noIntent.status).toBe(403)
  })
})

describe("PATCH /api/workspaces/:id", () => {
  it("renames for an owner or editor, 403 for a viewer or outsider, 404 for an unknown workspace", async () => {
    const owner = await signIn(host)
    const editor = await joinWorkspace(host, owner, freshUser("patch-editor"), "editor")
    const viewer = await joinWorkspace(host, owner, freshUser("patch-viewer"), "viewer")
    const outsider = await signIn(host)
    const path = `/api/workspaces/${owner.workspaceId}`
    const patch = (who: SignedIn, body: unknown, target = path) => who.client.request("PATCH", target, { body })

    const renamed = await patch(owner, { name: "Renamed", description: "Now with a description" })
    expect(renamed.status).toBe(200)
    expect(renamed.body).toEqual({ ok: true })
    expect((await patch(editor, { name: "By editor" })).status).toBe(200)
    expect((await list(owner)).find((w) => w.id === owner.workspaceId)).toMatchObject({ name: "By editor", description: null })
    expect((await patch(viewer, { name: "By viewer" })).status).toBe(403)
    expect((await patch(outsider, { name: "By outsider" })).status).toBe(403)
    expect((await patch(owner, { name: "Nowhere" }, "/api/workspaces/no-such-workspace")).status).toBe(404)
    expect((await patch(owner, { name: "" })).status).toBe(400)
  })
})

describe("POST /api/workspaces/active and DELETE /api/workspaces/:id", () => {
  it("switches to a member workspace, refuses others with 403, and needs an id (400)", async () => {
    const alice = await signIn(host)
    const bob = await signIn(host)
    const second = await create(alice, "Second")
    const activate = (who: SignedIn, id: unknown) => who.client.post("/api/workspaces/active", { id })
    expect((await activate(alice, second.body.id)).status).toBe(200)
    const session = await alice.client.get("/api/auth/session")
    expect(session.body.session.workspace.id).toBe(second.body.id)
    expect((await activate(bob, second.body.id)).status).toBe(403)
    expect((await activate(alice, "no-such-workspace")).status).toBe(403)
    const missing = await activate(alice, "")
    expect(missing.status).toBe(400)
    expect(missing.body.statusMessage).toBe("Workspace id is required")
  })

  it("removes only the owner's active workspace, moving the owner back to another one", async () => {
    const alice = await signIn(host)
    const second = await create(alice, "To remove")
    const remove = (who: SignedIn, id: string) => who.client.request("DELETE", `/api/workspaces/${id}`)
    // Not active yet: the host's rule names the active workspace only.
    expect((await remove(alice, second.body.id)).status).toBe(403)
    await alice.client.post("/api/workspaces/active", { id: second.body.id })
    const editor = await joinWorkspace(host, { ...alice, workspaceId: second.body.id }, freshUser("delete-editor"), "editor")
    expect((await remove(editor, second.body.id)).status).toBe(403)
    const removed = await remove(alice, second.body.id)
    expect(removed.status).toBe(200)
    expect(removed.body).toEqual({ ok: true })
    expect((await list(alice)).map((w) => w.id)).toEqual([alice.workspaceId])
    const after = await alice.client.get("/api/auth/session")
    expect(after.body.session.workspace.id).toBe(alice.workspaceId)
    // The editor was re-homed too: a fresh "My Workspace" of their own.
    const editorSession = await editor.client.get("/api/auth/session")
    expect(editorSession.body.session.workspace.id).not.toBe(second.body.id)
    expect((await remove(alice, second.body.id)).status).toBe(403)
  })
})

describe("GET /api/auth/session", () => {
  it("returns the resolved session with no-store, or a null session for anonymous callers", async () => {
    const name = freshUser("session")
    const response = await host.as(name).get("/api/auth/session")
    expect(response.status).toBe(200)
    expect(response.headers.get("cache-control")).toBe("no-store")
    expect(response.body).toMatchObject({
      appAccessAllowed: true,
      session: {
        authenticated: true,
        provider: "test",
        providerUserId: name,
        role: "owner",
        user: { email: `${name}@example.test`, displayName: name },
        workspace: { name: "My Workspace" }
      }
    })
    const anonymous = await host.anonymous.get("/api/auth/session")
    expect(anonymous.status).toBe(200)
    expect(anonymous.body).toEqual({ session: null, appAccessAllowed: false })
  })
})

describe("admin provider routes", () => {
  it("shows the sync provider's status to the owner and refuses others (401, 403)", async () => {
    const owner = await signIn(host)
    const status = await owner.client.get("/api/admin/system/provider-status")
    expect(status.status).toBe(200)
    expect(status.body.status.sync).toMatchObject({
      enabled: true,
      provider: "sqlite",
      details: { driver: "better-sqlite3" },
      actions: expect.arrayContaining([expect.objectContaining({ id: "sync.gc-change-log" })])
    })
    const viewer = await joinWorkspace(host, owner, freshUser("admin-viewer"), "viewer")
    expect((await viewer.client.get("/api/admin/system/provider-status")).status).toBe(403)
    expect((await host.anonymous.get("/api/admin/system/provider-status")).status).toBe(401)
  })

  it("runs a GC action for the owner; 400 for an unknown action or a bad body; 501 for another kind", async () => {
    const owner = await signIn(host)
    const action = (body: unknown) => owner.client.post("/api/admin/system/provider-action", body)
    const ran = await action({ kind: "sync", actionId: "sync.gc-change-log" })
    expect(ran.status).toBe(200)
    expect(ran.body).toMatchObject({ ok: true, result: { ok: true, workspaceId: owner.workspaceId } })
    expect((await action({ kind: "sync", actionId: "sync.nope" })).status).toBe(400)
    expect((await action({ kind: "sync" })).status).toBe(400)
    expect((await action({ kind: "auth", actionId: "x" })).status).toBe(501)
    const editor = await joinWorkspace(host, owner, freshUser("admin-editor"), "editor")
    const refused = await editor.client.post("/api/admin/system/provider-action", { kind: "sync", actionId: "sync.gc-change-log" })
    expect(refused.status).toBe(403)
  })
})
