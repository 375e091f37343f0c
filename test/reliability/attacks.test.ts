/**
 * The attack catalogue, over HTTP through the reference host (and the store facade for invites,
 * which have no host route). Each attack must fail with the status the contract gives it, change
 * no row anywhere (every table is dumped before and after), and reveal nothing of the victim's
 * workspace (no response body may carry its secrets).
 *
 * Cast: alice owns workspace A, which holds the secrets; bob owns B and is not a member of A;
 * eddie is an editor and vera a viewer of A (both active there); rita was an editor of A and is
 * removed during the test.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import type { HostClient, HostResponse } from "../../src/host/HostClient.js"
import { withRaw } from "./support/invariants.js"
import { startTestHost, type TestHost, validOp } from "./support/httpHost.js"

const SECRET = "TOP-SECRET-A"
let dir: string
let host: TestHost
let A: string
let B: string
let opCounter = 0
const uuid = () => `a77ac000-0000-4000-8000-${(++opCounter).toString(16).padStart(12, "0")}`
const attacks: Array<string> = []

/** Runs `attack`, asserts its status, that every table is unchanged, and that nothing leaked. */
const attempt = async (name: string, expected: number, attack: () => Promise<HostResponse<any>>) => {
  const before = host.dump()
  const response = await attack()
  const after = host.dump()
  attacks.push(name)
  assert.strictEqual(response.status, expected, `${name}: ${JSON.stringify(response.body)}`)
  assert.notInclude(JSON.stringify(response.body) ?? "", SECRET, `${name} leaked A's data`)
  assert.notInclude(JSON.stringify(response.body) ?? "", "secret-pk", `${name} leaked A's keys`)
  assert.deepStrictEqual(after, before, `${name} changed the database`)
  return response
}

/** The same, for a store facade call that must reject with `expected` (or resolve with a refusal). */
const attemptStore = async <A>(name: string, call: () => Promise<A>, check: (outcome: { ok: A } | { error: any }) => void) => {
  const before = host.dump()
  const outcome = await call().then((ok) => ({ ok }), (error) => ({ error }))
  const after = host.dump()
  attacks.push(name)
  check(outcome)
  assert.deepStrictEqual(after, before, `${name} changed the database`)
}

const scopeOf = (workspaceId: string) => ({ scope: { workspaceId } })
const push = (client: HostClient, workspaceId: string, ops: Array<unknown>) =>
  client.post("/api/sync/push", { ...scopeOf(workspaceId), ops })
const setActive = (client: HostClient, id: string) => client.post("/api/workspaces/active", { id })

beforeAll(async () => {
  dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "or3-attacks-"))
  host = await startTestHost(dir, ["alice", "bob", "eddie", "vera", "rita", "ivan", "ines"])
  for (const name of Object.keys(host.users)) await host.signIn(name)
  const { alice, bob } = host.users
  A = alice.workspaceId
  B = bob.workspaceId
  const store = host.provider.authWorkspaceStore
  for (const [name, role] of [["eddie", "editor"], ["vera", "viewer"], ["rita", "editor"]] as const) {
    const tokenHash = `hash-${name}`
    const email = `${name}@example.com`
    await store.createInvite({ workspaceId: A, email, role, invitedByUserId: alice.userId, expiresAt: host.clock.now() + 86_400_000, tokenHash })
    const consumed = await store.consumeInvite({ workspaceId: A, email, tokenHash, acceptedUserId: host.users[name].userId })
    assert.deepStrictEqual(consumed, { ok: true, role })
    assert.strictEqual((await setActive(host.users[name].client, A)).status, 200)
  }
  const seeded = await push(alice.client, A, [
    validOp("threads", "secret-pk-1", { opId: uuid(), clock: 1, payload: { id: "secret-pk-1", title: SECRET, status: "ready", pinned: false, deleted: false, created_at: 1, updated_at: 1, clock: 1 } }),
    validOp("threads", "secret-pk-2", { opId: uuid(), clock: 1, payload: { id: "secret-pk-2", title: SECRET, status: "ready", pinned: false, deleted: false, created_at: 1, updated_at: 1, clock: 1 } }),
    validOp("notifications", "secret-pk-note", { opId: uuid(), clock: 1, userId: alice.userId, payload: { id: "secret-pk-note", user_id: alice.userId, type: "info", title: SECRET, deleted: false, created_at: 1, updated_at: 1, clock: 1 } })
  ])
  assert.strictEqual(seeded.status, 200)
  assert.isTrue(seeded.body.results.every((r: { success: boolean }) => r.success), JSON.stringify(seeded.body))
  assert.strictEqual((await alice.client.post("/api/sync/update-cursor", { ...scopeOf(A), deviceId: "alice-phone", version: 1 })).status, 200)
}, 120_000)

afterAll(async () => {
  console.log(`[reliability] attacks ${JSON.stringify({ attacks: attacks.length, hostErrors: host.hostErrors.length })}`)
  await host?.close()
  Fs.rmSync(dir, { recursive: true, force: true })
})

describe("a workspace the caller is not a member of", () => {
  it("every sync, GC and workspace route aimed at A by bob is 403, and changes and reveals nothing", async () => {
    const { bob } = host.users
    const c = bob.client
    await attempt("non-member push", 403, () => push(c, A, [validOp("threads", "bob-thread", { opId: uuid(), clock: 9 })]))
    await attempt("non-member pull", 403, () => c.post("/api/sync/pull", { ...scopeOf(A), cursor: 0, limit: 100 }))
    await attempt("non-member snapshot", 403, () => c.post("/api/sync/snapshot", { ...scopeOf(A), pageSize: 100 }))
    await attempt("non-member cursor", 403, () => c.post("/api/sync/update-cursor", { ...scopeOf(A), deviceId: "bob-dev", version: 1 }))
    await attempt("non-member gc-tombstones", 403, () => c.post("/api/sync/gc-tombstones", { ...scopeOf(A), retentionSeconds: 3600 }))
    await attempt("non-member gc-change-log", 403, () => c.post("/api/sync/gc-change-log", { ...scopeOf(A), retentionSeconds: 3600 }))
    await attempt("non-member rename", 403, () => c.request("PATCH", `/api/workspaces/${A}`, { body: { name: "pwned" } }))
    await attempt("non-member delete", 403, () => c.request("DELETE", `/api/workspaces/${A}`))
    await attempt("non-member set-active", 403, () => setActive(c, A))
    await attempt("anonymous pull", 401, () => host.anonymous.post("/api/sync/pull", { ...scopeOf(A), cursor: 0, limit: 100 }))
    // A mutation without a bearer token or a same-origin browser is stopped by the mutation guard first.
    await attempt("anonymous push", 403, () => push(host.anonymous, A, [validOp("threads", "anon", { opId: uuid(), clock: 9 })]))
    // A member of A whose active workspace is elsewhere is refused too (the host's can()).
    const listed = await attempt("list is only one's own", 200, () => c.get("/api/workspaces"))
    assert.deepStrictEqual(listed.body.workspaces.map((w: { id: string }) => w.id), [B])
  })
})

describe("roles inside A", () => {
  it("a viewer cannot push, GC or rename", async () => {
    const { vera } = host.users
    await attempt("viewer push", 403, () => push(vera.client, A, [validOp("threads", "secret-pk-1", { opId: uuid(), clock: 50 })]))
    await attempt("viewer gc", 403, () => vera.client.post("/api/sync/gc-change-log", { ...scopeOf(A), retentionSeconds: 3600 }))
    await attempt("viewer rename", 403, () => vera.client.request("PATCH", `/api/workspaces/${A}`, { body: { name: "viewer was here" } }))
  })

  it("an editor cannot delete the workspace or run GC, over HTTP or through the store", async () => {
    const { eddie } = host.users
    await attempt("editor delete", 403, () => eddie.client.request("DELETE", `/api/workspaces/${A}`))
    await attempt("editor gc", 403, () => eddie.client.post("/api/sync/gc-tombstones", { ...scopeOf(A), retentionSeconds: 3600 }))
    await attemptStore("editor removeWorkspace (store)", () => host.provider.authWorkspaceStore.removeWorkspace({ userId: eddie.userId, workspaceId: A }), (outcome) => {
      assert.isTrue("error" in outcome, "the store let an editor remove the workspace")
      assert.strictEqual("error" in outcome && outcome.error.statusCode, 403)
    })
  })

  it("a removed member's token no longer reaches A", async () => {
    const { rita } = host.users
    assert.strictEqual((await rita.client.post("/api/sync/pull", { ...scopeOf(A), cursor: 0, limit: 10 })).status, 200)
    // An admin removes rita (the package has no member-removal method; the admin store would do this).
    withRaw(host.dbPath, (db) => db.prepare("DELETE FROM workspace_members WHERE workspace_id = ? AND user_id = ?").run(A, rita.userId))
    // Her next session is repaired to a workspace she still belongs to (a legitimate write).
    assert.notStrictEqual((await rita.client.get("/api/auth/session")).body.session.workspace.id, A)
    await attempt("removed member push", 403, () => push(rita.client, A, [validOp("threads", "secret-pk-2", { opId: uuid(), clock: 60 })]))
    await attempt("removed member pull", 403, () => rita.client.post("/api/sync/pull", { ...scopeOf(A), cursor: 0, limit: 100 }))
    await attempt("removed member snapshot", 403, () => rita.client.post("/api/sync/snapshot", { ...scopeOf(A), pageSize: 10 }))
    await attempt("removed member set-active", 403, () => setActive(rita.client, A))
  })
})

describe("another user's things inside A", () => {
  it("continuing another user's snapshot token is 403 for a member, a non-member and another workspace", async () => {
    const { alice, eddie, bob } = host.users
    const first = await alice.client.post("/api/sync/snapshot", { ...scopeOf(A), pageSize: 1 })
    assert.strictEqual(first.status, 200)
    const pageToken = first.body.nextPageToken
    assert.isString(pageToken)
    await attempt("member continues alice's token", 403, () => eddie.client.post("/api/sync/snapshot", { ...scopeOf(A), pageSize: 1, pageToken }))
    await attempt("non-member continues alice's token", 403, () => bob.client.post("/api/sync/snapshot", { ...scopeOf(A), pageSize: 1, pageToken }))
    await attempt("token replayed in another workspace", 403, () => bob.client.post("/api/sync/snapshot", { ...scopeOf(B), pageSize: 1, pageToken }))
  })

  it("another user's notification cannot be taken over by a winning put or delete, nor seen", async () => {
    const { eddie, alice } = host.users
    for (const [name, op] of [
      ["put as oneself", validOp("notifications", "secret-pk-note", { opId: uuid(), clock: 99, userId: eddie.userId })],
      ["put naming the owner", validOp("notifications", "secret-pk-note", { opId: uuid(), clock: 99, userId: alice.userId })],
      ["put without user_id", validOp("notifications", "secret-pk-note", { opId: uuid(), clock: 99, payload: { id: "secret-pk-note", type: "x", title: "mine", deleted: false, created_at: 1, updated_at: 1, clock: 99 } })],
      ["delete", validOp("notifications", "secret-pk-note", { opId: uuid(), clock: 99, delete: true })]
    ] as const) {
      const response = await attempt(`notification takeover: ${name}`, 200, () => push(eddie.client, A, [op]))
      const [result] = response.body.results
      assert.isFalse(result.success, name)
      assert.oneOf(result.errorCode, ["UNAUTHORIZED", "VALIDATION_ERROR"], name)
    }
    const pulled = await eddie.client.post("/api/sync/pull", { ...scopeOf(A), cursor: 0, limit: 1000 })
    assert.notInclude(JSON.stringify(pulled.body), "secret-pk-note")
    const snap = await eddie.client.post("/api/sync/snapshot", { ...scopeOf(A), pageSize: 1000 })
    assert.notInclude(JSON.stringify(snap.body), "secret-pk-note")
  })

  it("another user's device cursor cannot be claimed", async () => {
    const { eddie } = host.users
    await attempt("claim alice's cursor", 403, () => eddie.client.post("/api/sync/update-cursor", { ...scopeOf(A), deviceId: "alice-phone", version: 2 }))
  })
})

describe("deleted workspaces and invites", () => {
  it("a deleted workspace cannot be made active again", async () => {
    const { alice } = host.users
    const created = await alice.client.post("/api/workspaces", { name: "short-lived" })
    assert.strictEqual(created.status, 200)
    const C = created.body.id as string
    assert.strictEqual((await setActive(alice.client, C)).status, 200)
    assert.strictEqual((await alice.client.request("DELETE", `/api/workspaces/${C}`)).status, 200)
    await attempt("set a deleted workspace active", 403, () => setActive(alice.client, C))
    await attemptStore("setActiveWorkspace on a deleted workspace (store)", () => host.provider.authWorkspaceStore.setActiveWorkspace({ userId: alice.userId, workspaceId: C }), (outcome) => {
      assert.isTrue("error" in outcome)
      assert.strictEqual("error" in outcome && outcome.error.statusCode, 404)
    })
    // alice is back in A (earliest remaining membership) for the other tests.
    assert.strictEqual((await alice.client.get("/api/auth/session")).body.session.workspace.id, A)
  })

  it("invites: wrong email, revoked, expired and reused tokens are refused and write nothing", async () => {
    const store = host.provider.authWorkspaceStore
    const { alice } = host.users
    const invite = async (email: string, tokenHash: string, ttlMs = 86_400_000) =>
      (await store.createInvite({ workspaceId: A, email, role: "editor", invitedByUserId: alice.userId, expiresAt: host.clock.now() + ttlMs, tokenHash })).inviteId
    const accept = (providerUserId: string, email: string, tokenHash: string) => () =>
      store.acceptInviteAndProvisionUser({ provider: "test", providerUserId, email, workspaceId: A, tokenHash })
    const refused = (reason: string) => (outcome: { ok: any } | { error: any }) =>
      assert.deepStrictEqual("ok" in outcome ? outcome.ok : outcome.error, { ok: false, reason })

    await invite("invitee@example.com", "hash-wrong-email")
    await attemptStore("invite with the wrong email", accept("intruder", "intruder@example.com", "hash-wrong-email"), refused("email_mismatch"))

    const revoked = await invite("revoked@example.com", "hash-revoked")
    await store.revokeInvite({ workspaceId: A, inviteId: revoked, revokedByUserId: alice.userId })
    await attemptStore("revoked invite", accept("revoked-user", "revoked@example.com", "hash-revoked"), refused("revoked"))

    await invite("late@example.com", "hash-expired", 60_000)
    host.clock.advance(120_000)
    await attemptStore("expired invite", accept("late-user", "late@example.com", "hash-expired"), refused("expired"))

    await invite("once@example.com", "hash-once")
    const first = await accept("once-user", "once@example.com", "hash-once")()
    assert.strictEqual(first.ok, true)
    await attemptStore("reused invite token", accept("twice-user", "once@example.com", "hash-once"), refused("already_used"))
    await attemptStore("reused invite, same user", accept("once-user", "once@example.com", "hash-once"), refused("already_used"))
    await attemptStore("consumeInvite with a reused token", () => store.consumeInvite({ workspaceId: A, email: "once@example.com", tokenHash: "hash-once", acceptedUserId: host.users.ines.userId }), refused("already_used"))
  })
})

describe("opIds across workspaces", () => {
  it("pushing an opId used in A into B neither reveals nor changes anything in A", async () => {
    const { alice, bob } = host.users
    const opId = uuid()
    const original = validOp("threads", "secret-pk-3", { opId, clock: 5, payload: { id: "secret-pk-3", title: SECRET, status: "ready", pinned: false, deleted: false, created_at: 1, updated_at: 1, clock: 5 } })
    assert.strictEqual((await push(alice.client, A, [original])).status, 200)
    const dumpA = () => {
      const all = host.dump()
      return Object.fromEntries(Object.entries(all).map(([table, rows]) => [table, rows.filter((row: any) => row.workspace_id !== B)]))
    }
    for (const [name, op] of [
      ["same content", original],
      ["other content", validOp("threads", "bobs-thread", { opId, clock: 1 })],
      ["a delete", validOp("threads", "secret-pk-3", { opId, clock: 1, delete: true })]
    ] as const) {
      const before = dumpA()
      const response = await push(bob.client, B, [op])
      attacks.push(`opId of A pushed into B: ${name}`)
      assert.deepStrictEqual(dumpA(), before, `${name}: A changed`)
      assert.notInclude(JSON.stringify(response.body), SECRET)
      const [result] = response.body.results
      assert.notStrictEqual(result.replayed, true, `${name}: B's push was taken for a replay of A's op`)
    }
  })
})
