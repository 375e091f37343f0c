/**
 * The host's shared session cache over real HTTP: a session is resolved through the store once
 * per identity and TTL, the routes that move a user or change a workspace drop what they changed
 * before the next request, and the bounds (TTL, LRU size, failures) hold.
 */
import { randomUUID } from "node:crypto"
import { afterEach, describe, expect, it, vi } from "vitest"
import type { SqliteProvider } from "../../src/facades/SqliteProvider.js"
import { makeSessionCache, type SessionCache } from "../../src/host/sessionCache.js"
import type { AuthWorkspaceStore } from "../../src/or3/types.js"
import { freshUser, joinWorkspace, pull, push, signIn, startTestHost, type TestHost, threadOp } from "./support.js"

let host: TestHost | undefined
afterEach(async () => {
  vi.restoreAllMocks()
  await host?.close()
  host = undefined
})

/** Store calls by method name, and a hook to change what one call answers. */
const countingStore = (
  store: AuthWorkspaceStore,
  calls: Map<string, number>,
  override: (method: string, args: Array<unknown>) => Promise<unknown> | undefined = () => undefined
): AuthWorkspaceStore =>
  new Proxy(store, {
    get: (target, method: string) => {
      const value = Reflect.get(target, method)
      if (typeof value !== "function") return value
      return (...args: Array<unknown>) => {
        calls.set(method, (calls.get(method) ?? 0) + 1)
        return override(method, args) ?? value.apply(target, args)
      }
    }
  })

const start = async (
  options: { sessionCache?: SessionCache; override?: Parameters<typeof countingStore>[2] } = {}
) => {
  const calls = new Map<string, number>()
  host = await startTestHost(
    (provider: SqliteProvider) => ({
      ...provider,
      authWorkspaceStore: countingStore(provider.authWorkspaceStore, calls, options.override)
    }),
    options
  )
  // A resolution provisions the identity (user, default workspace); a cached session only has its
  // role read again.
  return { host, resolutions: () => calls.get("getOrCreateDefaultWorkspace") ?? 0, calls }
}

/** Moves the wall clock the cache reads by `millis`, keeping it running. */
const advanceWallClock = (millis: number) => {
  const now = Date.now.bind(Date)
  vi.spyOn(Date, "now").mockImplementation(() => now() + millis)
}

describe("the session cache", () => {
  it("resolves a session once per identity and reuses it for 60 s", async () => {
    const { host, resolutions } = await start()
    const alice = await signIn(host)
    expect(resolutions()).toBe(1)
    expect((await pull(alice.client, alice.workspaceId)).status).toBe(200)
    expect((await push(alice.client, alice.workspaceId, [threadOp("cached")])).status).toBe(200)
    expect((await alice.client.get("/api/workspaces")).status).toBe(200)
    expect(resolutions()).toBe(1)
    // The facades still see the caller on every request's event: a write by someone else's
    // cached session would have been refused as another workspace.
    const bob = await signIn(host)
    expect((await push(bob.client, alice.workspaceId, [threadOp("not-bobs")])).status).toBe(403)
    expect(resolutions()).toBe(2)

    advanceWallClock(59_000)
    expect((await pull(alice.client, alice.workspaceId)).status).toBe(200)
    expect(resolutions()).toBe(2)
    vi.restoreAllMocks()
    advanceWallClock(60_001)
    expect((await pull(alice.client, alice.workspaceId)).status).toBe(200)
    expect(resolutions()).toBe(3)
  })

  it("shares one resolution between concurrent first requests", async () => {
    const { host, calls } = await start()
    const client = host.as(freshUser("concurrent"))
    const responses = await Promise.all(Array.from({ length: 10 }, () => client.get("/api/auth/session")))
    expect(responses.map((response) => response.status)).toEqual(Array(10).fill(200))
    expect(new Set(responses.map((response) => response.body.session.workspace.id)).size).toBe(1)
    expect(calls.get("getOrCreateUser")).toBe(1)
    expect(calls.get("getOrCreateDefaultWorkspace")).toBe(1)
  })

  it("resolves every request through the store when its TTL is 0", async () => {
    const { host, resolutions } = await start({ sessionCache: makeSessionCache({ ttlMs: 0 }) })
    const alice = await signIn(host)
    await pull(alice.client, alice.workspaceId)
    await pull(alice.client, alice.workspaceId)
    expect(resolutions()).toBe(3)
  })

  it("keeps at most maxEntries identities, dropping the least recently used", async () => {
    const { host, resolutions } = await start({ sessionCache: makeSessionCache({ maxEntries: 2 }) })
    const [a, b, c] = [await signIn(host), await signIn(host), await signIn(host)]
    expect(resolutions()).toBe(3)
    await c.client.get("/api/auth/session")
    await b.client.get("/api/auth/session")
    expect(resolutions()).toBe(3)
    await a.client.get("/api/auth/session") // evicted by c
    expect(resolutions()).toBe(4)
  })

  it("does not keep a failed provisioning: the next request resolves again", async () => {
    let fail = true
    const { host } = await start({
      override: (method) => {
        if (method !== "getWorkspaceRole" || !fail) return undefined
        fail = false
        return Promise.resolve(null)
      }
    })
    const client = host.as(freshUser("flaky"))
    expect((await client.get("/api/auth/session")).status).toBe(500)
    const retried = await client.get("/api/auth/session")
    expect(retried.status).toBe(200)
    expect(retried.body.session.role).toBe("owner")
  })
})

describe("what the workspace routes drop from the cache", () => {
  it("a switch of the active workspace is seen by the next request", async () => {
    const { host } = await start()
    const owner = await signIn(host)
    // joinWorkspace signs the member in (caching their own workspace), then switches over HTTP.
    const member = await joinWorkspace(host, owner, freshUser("switcher"), "editor")
    const session = await member.client.get("/api/auth/session")
    expect(session.body.session).toMatchObject({ workspace: { id: owner.workspaceId }, role: "editor" })
    expect((await push(member.client, owner.workspaceId, [threadOp("after-switch")])).status).toBe(200)
  })

  it("a rename is seen at once by every member whose session names the workspace", async () => {
    const { host } = await start()
    const owner = await signIn(host)
    const member = await joinWorkspace(host, owner, freshUser("rename-viewer"), "viewer")
    expect((await member.client.get("/api/auth/session")).body.session.workspace.name).toBe("My Workspace")
    const renamed = await owner.client.request("PATCH", `/api/workspaces/${owner.workspaceId}`, { body: { name: "Renamed" } })
    expect(renamed.status).toBe(200)
    expect((await member.client.get("/api/auth/session")).body.session.workspace.name).toBe("Renamed")
    expect((await owner.client.get("/api/auth/session")).body.session.workspace.name).toBe("Renamed")
  })

  it("a removed workspace is gone at once from every member's session, not only the owner's", async () => {
    const { host } = await start()
    const owner = await signIn(host)
    const second = (await owner.client.post("/api/workspaces", { name: "Shared" })).body.id as string
    expect((await owner.client.post("/api/workspaces/active", { id: second })).status).toBe(200)
    const editor = await joinWorkspace(host, { ...owner, workspaceId: second }, freshUser("removed-editor"), "editor")
    expect((await push(editor.client, second, [threadOp("before-removal")])).status).toBe(200)
    expect((await owner.client.request("DELETE", `/api/workspaces/${second}`)).status).toBe(200)
    expect((await push(editor.client, second, [threadOp("after-removal")])).status).toBe(403)
    expect((await editor.client.get("/api/auth/session")).body.session.workspace.id).not.toBe(second)
  })

  it("a role changed outside the host's routes shows on the next request, with nothing dropped", async () => {
    const { host, resolutions } = await start()
    const owner = await signIn(host)
    const viewer = await joinWorkspace(host, owner, freshUser("promoted"), "viewer")
    expect((await push(viewer.client, owner.workspaceId, [threadOp("as-viewer")])).status).toBe(403)
    const before = resolutions()
    // Promoted through the store, as an admin tool would, without telling the cache.
    const store = host.provider.authWorkspaceStore
    const email = (await viewer.client.get("/api/auth/session")).body.session.user.email as string
    const tokenHash = randomUUID()
    const invite = { workspaceId: owner.workspaceId, email, role: "editor" as const, invitedByUserId: owner.userId }
    await store.createInvite({ ...invite, expiresAt: Math.floor(Date.now() / 1000) + 3600, tokenHash })
    const consumed = await store.consumeInvite({ workspaceId: owner.workspaceId, email, tokenHash, acceptedUserId: viewer.userId })
    expect(consumed).toEqual({ ok: true, role: "editor" })
    expect((await push(viewer.client, owner.workspaceId, [threadOp("now-editor")])).status).toBe(200)
    // The changed role made the host resolve the session again, once.
    expect(resolutions()).toBe(before + 1)
    expect((await push(viewer.client, owner.workspaceId, [threadOp("still-editor")])).status).toBe(200)
    expect(resolutions()).toBe(before + 1)
  })
})
