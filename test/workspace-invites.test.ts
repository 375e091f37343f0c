import { assert, describe, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Duration, Effect, TestClock } from "effect"
import { InvalidInput, NotFound } from "../src/schema/errors.js"
import type { WorkspaceRole } from "../src/schema/store.js"
import { AuthWorkspaceStore } from "../src/services/AuthWorkspaceStore.js"
import { clampInt, Limits } from "../src/schema/limits.js"
import { tokenHashesEqual } from "../src/services/workspace/invites.js"
import { countRows, dumpTables, user, userWithWorkspace, wire, withStore } from "./support/workspaceStore.js"

const invite = (
  workspaceId: string,
  invitedByUserId: string,
  email: string,
  tokenHash: string,
  role: WorkspaceRole = "editor",
  expiresAt = 10_000
) =>
  Effect.flatMap(AuthWorkspaceStore, (store) =>
    Effect.map(
      store.createInvite({ workspaceId, email, role, invitedByUserId, expiresAt, tokenHash }),
      (created) => created.inviteId
    ))

/** Invite times are epoch seconds (the host's unit); the test clock counts milliseconds. */
const passSeconds = (seconds: number) => TestClock.adjust(Duration.seconds(seconds))

const statusOf = (inviteId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.map(
      sql<{ status: string }>`SELECT status FROM workspace_invites WHERE id = ${inviteId}`,
      ([row]) => row.status
    )).pipe(Effect.orDie)

const addMember = (workspaceId: string, userId: string, role: WorkspaceRole) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`INSERT INTO workspace_members (workspace_id, user_id, role, created_at)
        VALUES (${workspaceId}, ${userId}, ${role}, 0)`).pipe(Effect.orDie)

describe("token hash comparison", () => {
  it("is plain equality, whatever the lengths", () => {
    assert.isTrue(tokenHashesEqual("abc", "abc"))
    assert.isFalse(tokenHashesEqual("abc", "abd"))
    assert.isFalse(tokenHashesEqual("abc", "abcd"))
    assert.isFalse(tokenHashesEqual("", "a"))
  })

  it("clamps list limits to 1..500, 100 by default", () => {
    assert.deepStrictEqual(
      [undefined, Number.NaN, 0, -5, 1, 2.9, 500, 501, Infinity].map((limit) =>
        clampInt(limit, Limits.minInviteListLimit, Limits.maxInviteListLimit, Limits.defaultInviteListLimit)
      ),
      [100, 100, 1, 1, 1, 2, 500, 500, 500]
    )
  })
})

describe("AuthWorkspaceStore invites", () => {
  it.effect("createInvite: stored pending with a normalized email; deleted or unknown workspace is NotFound", () =>
    withStore(Effect.gen(function*() {
      const store = yield* AuthWorkspaceStore
      const { userId, workspaceId } = yield* userWithWorkspace("owner")
      const inviteId = yield* invite(workspaceId, userId, "  Guest@Example.COM ", "hash-1", "viewer")
      assert.deepStrictEqual(yield* store.listInvites({ workspaceId }), [{
        id: inviteId,
        workspaceId,
        email: "guest@example.com",
        role: "viewer",
        status: "pending",
        invitedByUserId: userId,
        expiresAt: 10_000,
        tokenHash: "hash-1",
        acceptedAt: null,
        acceptedUserId: null,
        revokedAt: null,
        createdAt: 0,
        updatedAt: 0
      }])

      const before = yield* dumpTables
      const unknown = yield* Effect.flip(invite("nope", userId, "a@example.com", "h"))
      assert.instanceOf(unknown, NotFound)
      assert.deepStrictEqual([unknown.entity, unknown.id], ["Workspace", "nope"])
      for (const bad of [{ email: "not-an-email" }, { role: "admin" }, { tokenHash: "" }, { expiresAt: -1 }]) {
        const input = { workspaceId, email: "a@example.com", role: "editor", invitedByUserId: userId, tokenHash: "h", expiresAt: 1, ...bad }
        assert.instanceOf(yield* Effect.flip(store.createInvite(wire(input))), InvalidInput)
      }
      assert.deepStrictEqual(yield* dumpTables, before)

      yield* store.removeWorkspace({ userId, workspaceId })
      assert.instanceOf(yield* Effect.flip(invite(workspaceId, userId, "b@example.com", "h2")), NotFound)
    })))

  it.effect("listInvites: expires overdue pending invites first, filters by status, newest first, clamps the limit", () =>
    withStore(Effect.gen(function*() {
      const store = yield* AuthWorkspaceStore
      const { userId, workspaceId } = yield* userWithWorkspace("owner")
      const { workspaceId: otherWorkspace } = yield* store.createWorkspace({ userId, name: "Other" })
      const soon = yield* invite(workspaceId, userId, "a@example.com", "ha", "editor", 1_000)
      yield* passSeconds(10)
      const later = yield* invite(workspaceId, userId, "b@example.com", "hb", "editor", 50_000)
      const elsewhere = yield* invite(otherWorkspace, userId, "c@example.com", "hc", "editor", 1_000)

      yield* passSeconds(1_000) // now 1010: `soon` is overdue
      const all = yield* store.listInvites({ workspaceId })
      assert.deepStrictEqual(all.map((i) => [i.id, i.status]), [[later, "pending"], [soon, "expired"]])
      assert.strictEqual(all[1].updatedAt, 1_010)
      // Only the listed workspace's invites were touched.
      assert.strictEqual(yield* statusOf(elsewhere), "pending")
      assert.deepStrictEqual((yield* store.listInvites({ workspaceId, status: "expired" })).map((i) => i.id), [soon])
      assert.deepStrictEqual((yield* store.listInvites({ workspaceId, limit: 0 })).map((i) => i.id), [later])

      for (let i = 0; i < 120; i++) yield* invite(workspaceId, userId, `u${i}@example.com`, `h${i}`)
      assert.strictEqual((yield* store.listInvites({ workspaceId })).length, 100)
      assert.strictEqual((yield* store.listInvites({ workspaceId, limit: 10_000 })).length, 122)
      assert.instanceOf(yield* Effect.flip(store.listInvites({ workspaceId, status: "bogus" })), InvalidInput)
    })))

  it.effect("revokeInvite: pending only; unknown (or another workspace's) invite is NotFound", () =>
    withStore(Effect.gen(function*() {
      const store = yield* AuthWorkspaceStore
      const { userId, workspaceId } = yield* userWithWorkspace("owner")
      const { workspaceId: other } = yield* store.createWorkspace({ userId, name: "Other" })
      const pending = yield* invite(workspaceId, userId, "a@example.com", "ha")
      yield* passSeconds(5)
      yield* store.revokeInvite({ workspaceId, inviteId: pending, revokedByUserId: userId })
      const [revoked] = yield* store.listInvites({ workspaceId })
      assert.deepStrictEqual([revoked.status, revoked.revokedAt, revoked.updatedAt], ["revoked", 5, 5])
      const sql = yield* SqlClient.SqlClient
      const [who] = yield* sql<{ by: string }>`SELECT revoked_by_user_id AS by FROM workspace_invites WHERE id = ${pending}`
      assert.strictEqual(who.by, userId)

      const guest = yield* user("guest")
      const accepted = yield* invite(workspaceId, userId, "guest@example.com", "hg")
      yield* store.consumeInvite({ workspaceId, email: "guest@example.com", tokenHash: "hg", acceptedUserId: guest })
      const before = yield* dumpTables
      yield* store.revokeInvite({ workspaceId, inviteId: accepted, revokedByUserId: userId })
      yield* store.revokeInvite({ workspaceId, inviteId: pending, revokedByUserId: userId })
      const missing = yield* Effect.flip(store.revokeInvite({ workspaceId, inviteId: "nope", revokedByUserId: userId }))
      assert.instanceOf(missing, NotFound)
      assert.strictEqual(missing.message, "Invite not found: nope")
      const wrongWorkspace = yield* Effect.flip(
        store.revokeInvite({ workspaceId: other, inviteId: accepted, revokedByUserId: userId })
      )
      assert.instanceOf(wrongWorkspace, NotFound)
      assert.deepStrictEqual(yield* dumpTables, before)
    })))

  it.effect("validateInvite: each reason, and no writes", () =>
    withStore(Effect.gen(function*() {
      const store = yield* AuthWorkspaceStore
      const { userId, workspaceId } = yield* userWithWorkspace("owner")
      yield* invite(workspaceId, userId, "guest@example.com", "good", "viewer", 1_000)
      yield* invite(workspaceId, userId, "other@example.com", "theirs")
      const revoked = yield* invite(workspaceId, userId, "guest@example.com", "revoked")
      yield* store.revokeInvite({ workspaceId, inviteId: revoked, revokedByUserId: userId })
      const guest = yield* user("guest")
      yield* invite(workspaceId, userId, "guest@example.com", "used")
      yield* store.consumeInvite({ workspaceId, email: "guest@example.com", tokenHash: "used", acceptedUserId: guest })

      const validate = (email: string, tokenHash: string, ws = workspaceId) =>
        store.validateInvite({ workspaceId: ws, email, tokenHash })
      const before = yield* dumpTables
      assert.deepStrictEqual(yield* validate(" GUEST@example.com", "good"), { ok: true, role: "viewer" })
      assert.deepStrictEqual(yield* validate("guest@example.com", "wrong"), { ok: false, reason: "not_found" })
      assert.deepStrictEqual(yield* validate("guest@example.com", "theirs"), { ok: false, reason: "email_mismatch" })
      assert.deepStrictEqual(yield* validate("guest@example.com", "revoked"), { ok: false, reason: "revoked" })
      assert.deepStrictEqual(yield* validate("guest@example.com", "used"), { ok: false, reason: "already_used" })
      assert.deepStrictEqual(yield* validate("guest@example.com", "good", "nope"), { ok: false, reason: "not_found" })
      yield* passSeconds(1_000)
      assert.deepStrictEqual(yield* validate("guest@example.com", "good"), { ok: false, reason: "expired" })
      assert.deepStrictEqual(yield* dumpTables, before)

      yield* store.removeWorkspace({ userId, workspaceId })
      assert.deepStrictEqual(yield* validate("other@example.com", "theirs"), { ok: false, reason: "not_found" })
    })))

  it.effect("consumeInvite: joins with the invite role once; each failure reason changes nothing", () =>
    withStore(Effect.gen(function*() {
      const store = yield* AuthWorkspaceStore
      const { userId: owner, workspaceId } = yield* userWithWorkspace("owner")
      const guest = yield* user("guest")
      const inviteId = yield* invite(workspaceId, owner, "guest@example.com", "good", "editor", 1_000)
      yield* invite(workspaceId, owner, "late@example.com", "late", "editor", 1_000)
      const consume = (email: string, tokenHash: string, acceptedUserId = guest) =>
        store.consumeInvite({ workspaceId, email, tokenHash, acceptedUserId })

      const before = yield* dumpTables
      assert.deepStrictEqual(yield* consume("nobody@example.com", "good"), { ok: false, reason: "not_found" })
      assert.deepStrictEqual(yield* consume("guest@example.com", "bad"), { ok: false, reason: "token_mismatch" })
      const unknownUser = yield* Effect.flip(consume("guest@example.com", "good", "ghost"))
      assert.instanceOf(unknownUser, InvalidInput)
      assert.strictEqual(unknownUser.field, "input.acceptedUserId")
      assert.deepStrictEqual(yield* dumpTables, before)

      yield* passSeconds(7)
      assert.deepStrictEqual(yield* consume("Guest@Example.com", "good"), { ok: true, role: "editor" })
      assert.strictEqual(yield* store.getWorkspaceRole({ userId: guest, workspaceId }), "editor")
      const [accepted] = (yield* store.listInvites({ workspaceId, status: "accepted" }))
      assert.deepStrictEqual(
        [accepted.id, accepted.acceptedUserId, accepted.acceptedAt, accepted.updatedAt],
        [inviteId, guest, 7, 7]
      )

      const afterAccept = yield* dumpTables
      assert.deepStrictEqual(yield* consume("guest@example.com", "good"), { ok: false, reason: "already_used" })
      yield* passSeconds(1_000)
      assert.deepStrictEqual(yield* consume("late@example.com", "late"), { ok: false, reason: "expired" })
      assert.deepStrictEqual(yield* dumpTables, afterAccept)
    })))

  it.effect("an invite for an existing member keeps the stronger role: it can promote, never demote", () =>
    withStore(Effect.gen(function*() {
      const store = yield* AuthWorkspaceStore
      const { userId: owner, workspaceId } = yield* userWithWorkspace("owner")
      const viewer = yield* user("viewer")
      yield* addMember(workspaceId, viewer, "viewer")

      yield* invite(workspaceId, owner, "owner@example.com", "demote", "viewer")
      assert.deepStrictEqual(
        yield* store.consumeInvite({ workspaceId, email: "owner@example.com", tokenHash: "demote", acceptedUserId: owner }),
        { ok: true, role: "owner" }
      )
      assert.strictEqual(yield* store.getWorkspaceRole({ userId: owner, workspaceId }), "owner")

      yield* invite(workspaceId, owner, "viewer@example.com", "promote", "editor")
      assert.deepStrictEqual(
        yield* store.consumeInvite({ workspaceId, email: "viewer@example.com", tokenHash: "promote", acceptedUserId: viewer }),
        { ok: true, role: "editor" }
      )
      assert.strictEqual(yield* store.getWorkspaceRole({ userId: viewer, workspaceId }), "editor")
      assert.strictEqual(yield* countRows("workspace_members"), 2)

      // The same rule through acceptInviteAndProvisionUser, for a known identity.
      yield* invite(workspaceId, owner, "viewer@example.com", "again", "viewer")
      assert.deepStrictEqual(
        yield* store.acceptInviteAndProvisionUser({
          provider: "test",
          providerUserId: "viewer",
          email: "viewer@example.com",
          workspaceId,
          tokenHash: "again"
        }),
        { ok: true, userId: viewer, role: "editor", createdUser: false }
      )
    })))
})

describe("AuthWorkspaceStore.acceptInviteAndProvisionUser", () => {
  it.effect("provisions a new user, account, membership and active workspace, and uses the invite", () =>
    withStore(Effect.gen(function*() {
      const store = yield* AuthWorkspaceStore
      const { userId: owner, workspaceId } = yield* userWithWorkspace("owner")
      const inviteId = yield* invite(workspaceId, owner, "new@example.com", "tok", "viewer")
      const result = yield* store.acceptInviteAndProvisionUser({
        provider: "test",
        providerUserId: "newcomer",
        email: " New@Example.com ",
        displayName: "Newcomer",
        workspaceId,
        tokenHash: "tok"
      })
      assert.isTrue(result.ok)
      if (!result.ok) return
      assert.deepStrictEqual([result.role, result.createdUser], ["viewer", true])
      assert.deepStrictEqual(yield* store.getUser({ provider: "test", providerUserId: "newcomer" }), {
        userId: result.userId,
        email: "new@example.com",
        displayName: "Newcomer"
      })
      assert.deepStrictEqual(yield* store.getOrCreateDefaultWorkspace(result.userId), {
        workspaceId,
        workspaceName: "My Workspace",
        created: false
      })
      const [used] = yield* store.listInvites({ workspaceId })
      assert.deepStrictEqual([used.id, used.status, used.acceptedUserId], [inviteId, "accepted", result.userId])
    })))

  it.effect("an existing identity is not created again; its active workspace moves to the invite's", () =>
    withStore(Effect.gen(function*() {
      const store = yield* AuthWorkspaceStore
      const { userId: owner, workspaceId } = yield* userWithWorkspace("owner")
      const { userId: guest, workspaceId: guestHome } = yield* userWithWorkspace("guest")
      yield* invite(workspaceId, owner, "guest@example.com", "tok")
      const result = yield* store.acceptInviteAndProvisionUser({
        provider: "test",
        providerUserId: "guest",
        email: "guest@example.com",
        workspaceId,
        tokenHash: "tok"
      })
      assert.deepStrictEqual(result, { ok: true, userId: guest, role: "editor", createdUser: false })
      assert.strictEqual((yield* store.getOrCreateDefaultWorkspace(guest)).workspaceId, workspaceId)
      assert.deepStrictEqual(
        (yield* store.listUserWorkspaces(guest)).map((w) => [w.id, w.isActive]),
        [[workspaceId, true], [guestHome, false]]
      )
    })))

  it.effect("a refused invite provisions nothing", () =>
    withStore(Effect.gen(function*() {
      const store = yield* AuthWorkspaceStore
      const { userId: owner, workspaceId } = yield* userWithWorkspace("owner")
      yield* invite(workspaceId, owner, "guest@example.com", "tok", "editor", 1_000)
      const accept = (email: string, tokenHash: string) =>
        store.acceptInviteAndProvisionUser({ provider: "test", providerUserId: "guest", email, workspaceId, tokenHash })
      const before = yield* dumpTables
      assert.deepStrictEqual(yield* accept("guest@example.com", "nope"), { ok: false, reason: "not_found" })
      assert.deepStrictEqual(yield* accept("intruder@example.com", "tok"), { ok: false, reason: "email_mismatch" })
      assert.instanceOf(yield* Effect.flip(accept("not-an-email", "tok")), InvalidInput)
      yield* passSeconds(1_000)
      assert.deepStrictEqual(yield* accept("guest@example.com", "tok"), { ok: false, reason: "expired" })
      assert.deepStrictEqual(yield* dumpTables, before)
    })))
})
