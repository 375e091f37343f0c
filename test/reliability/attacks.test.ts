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
    await store.createInvite({ workspaceId: A, email, role, invitedByUserId: alice.userId, expiresAt: Math.floor(host.clock.now() / 1000) + 86_400, tokenHash })
    const consumed = await store.consumeInvite({ workspaceId: A, email, tokenHash, acceptedUserId: host.users[name].userId })
    assert.deepStrictEqual(consumed, { ok: true, role })
    assert.strictEqual((await setActive(host.users[name].client, A)).status, 200)
  }
  const seeded = await push(alice.client, A, [
    validOp("threads", "secret-pk-1", { opId: uuid(), clock: 1, payload: { id: "secret-pk-1", title: SECRET, status: "ready", pinned: false, deleted: false, created_at: 1, updated_at: 1, clock: 1 } }),
    validOp("threads", "secret-pk-2", { opId: uuid(), clock: 1, payload: { id: "secret-pk-2", title: SECRET, status: "ready", pinned: false, deleted: false, created_at: 1, updated_at: 1, clock: 1 } }),
    validOp("notifications", "secret-pk-note", { opId: uuid(), clock: 1, userId: alice.userId, payload: { id: "secret-pk-note", user_id: alice.userId, type: "info", title: `${SECRET} note of alice`, deleted: false, created_at: 1, updated_at: 1, clock: 1 } })
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

type Attack = readonly [name: string, status: number, run: () => Promise<HostResponse<any>>]

const client = (name: string) => host.users[name].client

describe("a workspace the caller is not a member of (bob aims at A)", () => {
  const bob = () => client("bob")
  const table: ReadonlyArray<Attack> = [
    ["push", 403, () => push(bob(), A, [validOp("threads", "bob-thread", { opId: uuid(), clock: 9 })])],
    ["pull", 403, () => bob().post("/api/sync/pull", { ...scopeOf(A), cursor: 0, limit: 100 })],
    ["snapshot", 403, () => bob().post("/api/sync/snapshot", { ...scopeOf(A), pageSize: 100 })],
    ["update-cursor", 403, () => bob().post("/api/sync/update-cursor", { ...scopeOf(A), deviceId: "bob-dev", version: 1 })],
    ["gc-tombstones", 403, () => bob().post("/api/sync/gc-tombstones", { ...scopeOf(A), retentionSeconds: 3600 })],
    ["gc-change-log", 403, () => bob().post("/api/sync/gc-change-log", { ...scopeOf(A), retentionSeconds: 3600 })],
    ["rename the workspace", 403, () => bob().request("PATCH", `/api/workspaces/${A}`, { body: { name: "pwned" } })],
    ["delete the workspace", 403, () => bob().request("DELETE", `/api/workspaces/${A}`)],
    ["make it the active workspace", 403, () => setActive(bob(), A)],
    ["list workspaces (only his own)", 200, () => bob().get("/api/workspaces")],
    ["pull without a session", 401, () => host.anonymous.post("/api/sync/pull", { ...scopeOf(A), cursor: 0, limit: 100 })],
    // A mutation with neither a bearer token nor a same-origin browser stops at the mutation guard.
    ["push without a session", 403, () => push(host.anonymous, A, [validOp("threads", "anon", { opId: uuid(), clock: 9 })])]
  ]
  for (const [name, status, run] of table) {
    it(`${name}: ${status}`, async () => {
      const response = await attempt(`non-member ${name}`, status, run)
      if (status === 200) assert.deepStrictEqual(response.body.workspaces.map((w: { id: string }) => w.id), [B])
    })
  }
})

describe("roles inside A", () => {
  const table: ReadonlyArray<Attack> = [
    ["a viewer pushes", 403, () => push(client("vera"), A, [validOp("threads", "secret-pk-1", { opId: uuid(), clock: 50 })])],
    ["a viewer runs GC", 403, () => client("vera").post("/api/sync/gc-change-log", { ...scopeOf(A), retentionSeconds: 3600 })],
    ["a viewer renames the workspace", 403, () => client("vera").request("PATCH", `/api/workspaces/${A}`, { body: { name: "viewer was here" } })],
    ["an editor deletes the workspace", 403, () => client("eddie").request("DELETE", `/api/workspaces/${A}`)],
    ["an editor runs GC", 403, () => client("eddie").post("/api/sync/gc-tombstones", { ...scopeOf(A), retentionSeconds: 3600 })]
  ]
  for (const [name, status, run] of table) it(`${name}: ${status}`, () => attempt(name, status, run))

  it("an editor removes the workspace through the store: 403", () =>
    attemptStore("editor removeWorkspace (store)", () => host.provider.authWorkspaceStore.removeWorkspace({ userId: host.users.eddie.userId, workspaceId: A }), (outcome) => {
      assert.isTrue("error" in outcome, "the store let an editor remove the workspace")
      assert.strictEqual("error" in outcome && outcome.error.statusCode, 403)
    }))
})

describe("a removed member with her old token", () => {
  const rita = () => client("rita")
  beforeAll(async () => {
    assert.strictEqual((await rita().post("/api/sync/pull", { ...scopeOf(A), cursor: 0, limit: 10 })).status, 200)
    // An admin removes rita (the package has no member-removal method; the admin store would do this).
    withRaw(host.dbPath, (db) => db.prepare("DELETE FROM workspace_members WHERE workspace_id = ? AND user_id = ?").run(A, host.users.rita.userId))
    // Her next session is repaired to a workspace she still belongs to (a legitimate write).
    assert.notStrictEqual((await rita().get("/api/auth/session")).body.session.workspace.id, A)
  })
  const table: ReadonlyArray<Attack> = [
    ["push", 403, () => push(rita(), A, [validOp("threads", "secret-pk-2", { opId: uuid(), clock: 60 })])],
    ["pull", 403, () => rita().post("/api/sync/pull", { ...scopeOf(A), cursor: 0, limit: 100 })],
    ["snapshot", 403, () => rita().post("/api/sync/snapshot", { ...scopeOf(A), pageSize: 10 })],
    ["make A active again", 403, () => setActive(rita(), A)]
  ]
  for (const [name, status, run] of table) it(`${name}: ${status}`, () => attempt(`removed member ${name}`, status, run))
})

describe("another user's snapshot token", () => {
  let pageToken: string
  beforeAll(async () => {
    const first = await client("alice").post("/api/sync/snapshot", { ...scopeOf(A), pageSize: 1 })
    assert.strictEqual(first.status, 200)
    pageToken = first.body.nextPageToken
    assert.isString(pageToken)
  })
  const table: ReadonlyArray<Attack> = [
    ["continued by a member of A", 403, () => client("eddie").post("/api/sync/snapshot", { ...scopeOf(A), pageSize: 1, pageToken })],
    ["continued by a non-member", 403, () => client("bob").post("/api/sync/snapshot", { ...scopeOf(A), pageSize: 1, pageToken })],
    ["continued in another workspace", 403, () => client("bob").post("/api/sync/snapshot", { ...scopeOf(B), pageSize: 1, pageToken })]
  ]
  for (const [name, status, run] of table) it(`${name}: ${status}`, () => attempt(`snapshot token ${name}`, status, run))
})

describe("another user's notification", () => {
  const takeovers: ReadonlyArray<readonly [string, () => unknown]> = [
    ["a winning put as oneself", () => validOp("notifications", "secret-pk-note", { opId: uuid(), clock: 99, userId: host.users.eddie.userId })],
    ["a winning put naming the owner", () => validOp("notifications", "secret-pk-note", { opId: uuid(), clock: 99, userId: host.users.alice.userId })],
    ["a winning put without user_id", () => validOp("notifications", "secret-pk-note", { opId: uuid(), clock: 99, payload: { id: "secret-pk-note", type: "x", title: "mine", deleted: false, created_at: 1, updated_at: 1, clock: 99 } })],
    ["a winning delete", () => validOp("notifications", "secret-pk-note", { opId: uuid(), clock: 99, delete: true })]
  ]
  for (const [name, op] of takeovers) {
    it(`taken over by ${name}: a per-op refusal`, async () => {
      const response = await attempt(`notification takeover by ${name}`, 200, () => push(client("eddie"), A, [op()]))
      const [result] = response.body.results
      assert.isFalse(result.success)
      assert.oneOf(result.errorCode, ["UNAUTHORIZED", "VALIDATION_ERROR"])
    })
  }

  // eddie may read A (its threads carry the secret too): only alice's notification must not show.
  it("seen by another member through pull: never", async () => {
    const pulled = await client("eddie").post("/api/sync/pull", { ...scopeOf(A), cursor: 0, limit: 1000 })
    attacks.push("notification seen through pull")
    assert.strictEqual(pulled.status, 200)
    assert.notInclude(JSON.stringify(pulled.body), "note of alice")
    assert.notInclude(JSON.stringify(pulled.body), "secret-pk-note")
  })

  it("seen by another member through a snapshot: never", async () => {
    const snap = await client("eddie").post("/api/sync/snapshot", { ...scopeOf(A), pageSize: 1000 })
    attacks.push("notification seen through snapshot")
    assert.strictEqual(snap.status, 200)
    assert.notInclude(JSON.stringify(snap.body), "note of alice")
    assert.notInclude(JSON.stringify(snap.body), "secret-pk-note")
  })
})

describe("another user's device cursor", () => {
  it("claimed by a member of A: 403", () =>
    attempt("claim alice's cursor", 403, () => client("eddie").post("/api/sync/update-cursor", { ...scopeOf(A), deviceId: "alice-phone", version: 2 })))
})

describe("a deleted workspace", () => {
  let C: string
  beforeAll(async () => {
    const alice = client("alice")
    const created = await alice.post("/api/workspaces", { name: "short-lived" })
    assert.strictEqual(created.status, 200)
    C = created.body.id
    assert.strictEqual((await setActive(alice, C)).status, 200)
    assert.strictEqual((await alice.request("DELETE", `/api/workspaces/${C}`)).status, 200)
    // alice is back in A (her earliest remaining membership) for the other tests.
    assert.strictEqual((await alice.get("/api/auth/session")).body.session.workspace.id, A)
  })

  it("made active again over HTTP: 403", () => attempt("set a deleted workspace active", 403, () => setActive(client("alice"), C)))

  it("made active again through the store: 404", () =>
    attemptStore("setActiveWorkspace on a deleted workspace (store)", () => host.provider.authWorkspaceStore.setActiveWorkspace({ userId: host.users.alice.userId, workspaceId: C }), (outcome) => {
      assert.isTrue("error" in outcome)
      assert.strictEqual("error" in outcome && outcome.error.statusCode, 404)
    }))
})

describe("invites", () => {
  const store = () => host.provider.authWorkspaceStore
  // Expiry in epoch seconds, as the host's invite route computes it.
  const invite = async (email: string, tokenHash: string, ttlSeconds = 86_400) =>
    (await store().createInvite({ workspaceId: A, email, role: "editor", invitedByUserId: host.users.alice.userId, expiresAt: Math.floor(host.clock.now() / 1000) + ttlSeconds, tokenHash })).inviteId
  const accept = (providerUserId: string, email: string, tokenHash: string) => () =>
    store().acceptInviteAndProvisionUser({ provider: "test", providerUserId, email, workspaceId: A, tokenHash })
  const refused = (reason: string) => (outcome: { ok: any } | { error: any }) =>
    assert.deepStrictEqual("ok" in outcome ? outcome.ok : outcome.error, { ok: false, reason })

  it("accepted with the wrong email: email_mismatch", async () => {
    await invite("invitee@example.com", "hash-wrong-email")
    await attemptStore("invite with the wrong email", accept("intruder", "intruder@example.com", "hash-wrong-email"), refused("email_mismatch"))
  })

  it("accepted after it was revoked: revoked", async () => {
    const revoked = await invite("revoked@example.com", "hash-revoked")
    await store().revokeInvite({ workspaceId: A, inviteId: revoked, revokedByUserId: host.users.alice.userId })
    await attemptStore("revoked invite", accept("revoked-user", "revoked@example.com", "hash-revoked"), refused("revoked"))
  })

  it("accepted after it expired: expired", async () => {
    await invite("late@example.com", "hash-expired", 60)
    host.clock.advance(120_000)
    await attemptStore("expired invite", accept("late-user", "late@example.com", "hash-expired"), refused("expired"))
  })

  it("accepted twice, by another identity or the same, or consumed again: already_used", async () => {
    await invite("once@example.com", "hash-once")
    assert.strictEqual((await accept("once-user", "once@example.com", "hash-once")()).ok, true)
    await attemptStore("reused invite token", accept("twice-user", "once@example.com", "hash-once"), refused("already_used"))
    await attemptStore("reused invite, same user", accept("once-user", "once@example.com", "hash-once"), refused("already_used"))
    await attemptStore("consumeInvite with a reused token", () => store().consumeInvite({ workspaceId: A, email: "once@example.com", tokenHash: "hash-once", acceptedUserId: host.users.ines.userId }), refused("already_used"))
  })
})

describe("an opId of A pushed into B", () => {
  const opId = "a77ac000-0000-4000-8000-0000000fffff"
  const original = () => validOp("threads", "secret-pk-3", { opId, clock: 5, payload: { id: "secret-pk-3", title: SECRET, status: "ready", pinned: false, deleted: false, created_at: 1, updated_at: 1, clock: 5 } })
  beforeAll(async () => {
    assert.strictEqual((await push(client("alice"), A, [original()])).status, 200)
  })
  /** Everything but B's own rows: what bob's pushes must leave alone. */
  const outsideB = () =>
    Object.fromEntries(Object.entries(host.dump()).map(([table, rows]) => [table, rows.filter((row: any) => row.workspace_id !== B)]))
  const variants: ReadonlyArray<readonly [string, () => unknown]> = [
    ["with the same content", original],
    ["with other content", () => validOp("threads", "bobs-thread", { opId, clock: 1 })],
    ["as a delete of A's key", () => validOp("threads", "secret-pk-3", { opId, clock: 1, delete: true })]
  ]
  for (const [name, op] of variants) {
    it(`${name}: nothing of A changes or shows`, async () => {
      const before = outsideB()
      const response = await push(client("bob"), B, [op()])
      attacks.push(`opId of A pushed into B ${name}`)
      assert.deepStrictEqual(outsideB(), before, "A changed")
      assert.notInclude(JSON.stringify(response.body), SECRET)
      assert.notStrictEqual(response.body.results[0].replayed, true, "B's push was taken for a replay of A's op")
    })
  }
})
