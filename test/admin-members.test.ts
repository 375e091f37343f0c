/**
 * WorkspaceAccessStore's member methods: upsert by e-mail, provider id or user id, roles with
 * last-owner protection and ownership transfer, removal, and what sync sees afterwards.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { InvalidInput, LastWorkspaceOwner, NotFound } from "../src/schema/errors.js"
import { AuthWorkspaceStore } from "../src/services/AuthWorkspaceStore.js"
import { UNKNOWN_PROVIDER } from "../src/services/admin/memberMethods.js"
import { WorkspaceAccessStore } from "../src/services/WorkspaceAccessStore.js"
import { failure, roleSeenBySync, withAdminStores } from "./support/adminStores.js"
import { dumpTables, failOn, user, userWithWorkspace, wire } from "./support/workspaceStore.js"

const accountsOf = (userId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ provider: string; provider_user_id: string }>`
      SELECT provider, provider_user_id FROM auth_accounts WHERE user_id = ${userId} ORDER BY provider`).pipe(Effect.orDie)

const members = (workspaceId: string) =>
  Effect.flatMap(WorkspaceAccessStore, (store) => store.listMembers({ workspaceId }))

describe("upsertMember", () => {
  it.effect("an unknown e-mail provisions a user without an account; repeating it changes the role, not the rows", () =>
    withAdminStores(Effect.gen(function*() {
      const access = yield* WorkspaceAccessStore
      const { userId: ownerId, workspaceId } = yield* userWithWorkspace("owner")
      yield* access.upsertMember({ workspaceId, emailOrProviderId: "  New.Member@Example.com ", role: "viewer" })
      const listed = yield* members(workspaceId)
      assert.deepStrictEqual(listed.map(({ email, role }) => [email, role]), [
        ["owner@example.com", "owner"],
        ["new.member@example.com", "viewer"]
      ])
      const newId = listed[1].userId
      assert.deepStrictEqual(yield* accountsOf(newId), [])
      assert.strictEqual(yield* roleSeenBySync(workspaceId, newId), "viewer")

      yield* access.upsertMember({ workspaceId, emailOrProviderId: "NEW.MEMBER@example.com", role: "editor" })
      assert.deepStrictEqual((yield* members(workspaceId)).map((m) => [m.userId, m.role]), [
        [ownerId, "owner"],
        [newId, "editor"]
      ])
      assert.deepStrictEqual((yield* access.searchUsers({ query: "new.member" })).map((u) => u.userId), [newId])
    })))

  it.effect("an e-mail of a signed-in user finds that user (the earliest one with it)", () =>
    withAdminStores(Effect.gen(function*() {
      const access = yield* WorkspaceAccessStore
      const { workspaceId } = yield* userWithWorkspace("owner")
      const alice = yield* user("alice")
      yield* access.upsertMember({ workspaceId, emailOrProviderId: "Alice@Example.com", role: "editor" })
      assert.strictEqual(yield* roleSeenBySync(workspaceId, alice), "editor")
    })))

  it.effect("an e-mail prefers the user who signs in over an earlier stand-in with that e-mail", () =>
    withAdminStores(Effect.gen(function*() {
      const access = yield* WorkspaceAccessStore
      const store = yield* AuthWorkspaceStore
      const { userId: ownerId, workspaceId } = yield* userWithWorkspace("owner")
      const { workspaceId: other } = yield* store.createWorkspace({ userId: ownerId, name: "Other" })
      yield* access.upsertMember({ workspaceId, emailOrProviderId: "carol@example.com", role: "viewer" })
      const standIn = (yield* members(workspaceId))[1].userId
      const carol = yield* user("carol")
      assert.notStrictEqual(carol, standIn)

      yield* access.upsertMember({ workspaceId: other, emailOrProviderId: "Carol@Example.com", role: "editor" })
      assert.strictEqual(yield* roleSeenBySync(other, carol), "editor")
      assert.isNull(yield* roleSeenBySync(other, standIn))
      yield* access.upsertMember({ workspaceId, emailOrProviderId: "carol@example.com", role: "editor" })
      assert.deepStrictEqual((yield* members(workspaceId)).map((m) => [m.userId, m.role]), [
        [ownerId, "owner"],
        [standIn, "viewer"],
        [carol, "editor"]
      ])
    })))

  it.effect("a provider id: the account on the named provider, else on any provider, else a user id", () =>
    withAdminStores(Effect.gen(function*() {
      const access = yield* WorkspaceAccessStore
      const store = yield* AuthWorkspaceStore
      const { workspaceId } = yield* userWithWorkspace("owner")
      const clerk = yield* store.getOrCreateUser({ provider: "clerk", providerUserId: "user_2abc" })
      const plain = yield* user("plain")

      yield* access.upsertMember({ workspaceId, emailOrProviderId: "user_2abc", provider: "clerk", role: "viewer" })
      assert.strictEqual(yield* roleSeenBySync(workspaceId, clerk.userId), "viewer")
      yield* access.upsertMember({ workspaceId, emailOrProviderId: " user_2abc ", role: "editor" })
      assert.strictEqual(yield* roleSeenBySync(workspaceId, clerk.userId), "editor")
      yield* access.upsertMember({ workspaceId, emailOrProviderId: plain, role: "viewer" })
      assert.strictEqual(yield* roleSeenBySync(workspaceId, plain), "viewer")
      assert.strictEqual((yield* members(workspaceId)).length, 3)
    })))

  it.effect("an unknown provider id creates a user and that account, so their first sign-in finds the membership", () =>
    withAdminStores(Effect.gen(function*() {
      const access = yield* WorkspaceAccessStore
      const store = yield* AuthWorkspaceStore
      const { workspaceId } = yield* userWithWorkspace("owner")
      yield* access.upsertMember({ workspaceId, emailOrProviderId: "gh-42", provider: "github", role: "editor" })
      yield* access.upsertMember({ workspaceId, emailOrProviderId: "someone", role: "viewer" })
      const signedIn = yield* store.getOrCreateUser({ provider: "github", providerUserId: "gh-42" })
      assert.strictEqual(yield* roleSeenBySync(workspaceId, signedIn.userId), "editor")
      const someone = (yield* members(workspaceId))[2]
      assert.deepStrictEqual(yield* accountsOf(someone.userId), [{ provider: UNKNOWN_PROVIDER, provider_user_id: "someone" }])
      assert.isUndefined(someone.email)
    })))

  it.effect("a missing or deleted workspace is 404 and bad input 400; nothing is written either way", () =>
    withAdminStores(Effect.gen(function*() {
      const access = yield* WorkspaceAccessStore
      const store = yield* AuthWorkspaceStore
      const { userId, workspaceId } = yield* userWithWorkspace("owner")
      const { workspaceId: doomed } = yield* store.createWorkspace({ userId, name: "Doomed" })
      yield* access.softDeleteWorkspace({ workspaceId: doomed, deletedAt: 5 })
      const before = yield* dumpTables
      for (const target of ["nope", doomed]) {
        const missing = yield* failure(access.upsertMember({ workspaceId: target, emailOrProviderId: "x@example.com", role: "viewer" }))
        assert.instanceOf(missing, NotFound)
        assert.strictEqual(missing.status, 404)
      }
      for (const bad of [
        { workspaceId, emailOrProviderId: "broken@", role: "viewer" },
        { workspaceId, emailOrProviderId: "   ", role: "viewer" },
        { workspaceId, emailOrProviderId: "x".repeat(257), role: "viewer" },
        { workspaceId, emailOrProviderId: "a@example.com", role: "admin" },
        { workspaceId, emailOrProviderId: "a@example.com" }
      ]) {
        assert.instanceOf(yield* failure(access.upsertMember(wire(bad))), InvalidInput, JSON.stringify(bad).slice(0, 80))
      }
      assert.deepStrictEqual(yield* dumpTables, before)
    })))

  it.effect("one transaction: a failed membership insert also undoes the user it provisioned", () =>
    withAdminStores(Effect.gen(function*() {
      const access = yield* WorkspaceAccessStore
      const { workspaceId } = yield* userWithWorkspace("owner")
      const before = yield* dumpTables
      const restore = yield* failOn("INSERT", "workspace_members")
      const exit = yield* Effect.exit(access.upsertMember({ workspaceId, emailOrProviderId: "late@example.com", role: "viewer" }))
      yield* restore
      assert.isTrue(exit._tag === "Failure")
      assert.deepStrictEqual(yield* dumpTables, before)
    })))
})

describe("setMemberRole and removeMember", () => {
  it.effect("the last owner can be neither demoted nor removed (409, 'last workspace owner'); upsert too", () =>
    withAdminStores(Effect.gen(function*() {
      const access = yield* WorkspaceAccessStore
      const { userId, workspaceId } = yield* userWithWorkspace("owner")
      const demoted = yield* failure(access.setMemberRole({ workspaceId, userId, role: "editor" }))
      const removed = yield* failure(access.removeMember({ workspaceId, userId }))
      const upserted = yield* failure(access.upsertMember({ workspaceId, emailOrProviderId: userId, role: "viewer" }))
      for (const error of [demoted, removed, upserted]) {
        assert.instanceOf(error, LastWorkspaceOwner)
        assert.strictEqual(error.status, 409)
        assert.include(error.message, "last workspace owner")
      }
      assert.strictEqual(demoted.message, "Cannot demote the last workspace owner. Transfer ownership first.")
      assert.strictEqual(removed.message, "Cannot remove the last workspace owner. Transfer ownership first.")
      assert.deepStrictEqual((yield* members(workspaceId)).map((m) => m.role), ["owner"])
      assert.strictEqual(yield* roleSeenBySync(workspaceId, userId), "owner")
    })))

  it.effect("demoting the primary owner hands the workspace to the earliest other owner; same role is a no-op", () =>
    withAdminStores(Effect.gen(function*() {
      const access = yield* WorkspaceAccessStore
      const { userId: first, workspaceId } = yield* userWithWorkspace("first")
      const second = yield* user("second")
      const third = yield* user("third")
      yield* access.upsertMember({ workspaceId, emailOrProviderId: second, role: "owner" })
      yield* access.upsertMember({ workspaceId, emailOrProviderId: third, role: "owner" })
      yield* access.setMemberRole({ workspaceId, userId: third, role: "owner" })
      yield* access.setMemberRole({ workspaceId, userId: first, role: "viewer" })
      assert.strictEqual((yield* access.getWorkspace({ workspaceId }))?.ownerUserId, second)
      assert.strictEqual(yield* roleSeenBySync(workspaceId, first), "viewer")
      // Demoting an owner who is not the primary one leaves the primary owner alone.
      yield* access.setMemberRole({ workspaceId, userId: third, role: "editor" })
      assert.strictEqual((yield* access.getWorkspace({ workspaceId }))?.ownerUserId, second)
      assert.instanceOf(yield* failure(access.setMemberRole({ workspaceId, userId: second, role: "editor" })), LastWorkspaceOwner)
    })))

  it.effect("removing an owner transfers too; the user row stays; sync sees the removal at once", () =>
    withAdminStores(Effect.gen(function*() {
      const access = yield* WorkspaceAccessStore
      const { userId: first, workspaceId } = yield* userWithWorkspace("first")
      const second = yield* user("second")
      const viewer = yield* user("viewer")
      yield* access.upsertMember({ workspaceId, emailOrProviderId: second, role: "owner" })
      yield* access.upsertMember({ workspaceId, emailOrProviderId: viewer, role: "viewer" })
      yield* access.removeMember({ workspaceId, userId: first })
      yield* access.removeMember({ workspaceId, userId: viewer })
      assert.strictEqual((yield* access.getWorkspace({ workspaceId }))?.ownerUserId, second)
      assert.deepStrictEqual((yield* members(workspaceId)).map((m) => m.userId), [second])
      assert.isNull(yield* roleSeenBySync(workspaceId, first))
      assert.isNull(yield* roleSeenBySync(workspaceId, viewer))
      assert.lengthOf(yield* access.searchUsers({ query: "viewer@example.com" }), 1)
    })))

  it.effect("a non-member is 404 'Workspace member not found'; bad input is 400", () =>
    withAdminStores(Effect.gen(function*() {
      const access = yield* WorkspaceAccessStore
      const { workspaceId } = yield* userWithWorkspace("owner")
      const outsider = yield* user("outsider")
      for (const error of [
        yield* failure(access.setMemberRole({ workspaceId, userId: outsider, role: "viewer" })),
        yield* failure(access.removeMember({ workspaceId, userId: outsider })),
        yield* failure(access.removeMember({ workspaceId: "nope", userId: outsider }))
      ]) {
        assert.instanceOf(error, NotFound)
        assert.strictEqual(error.message, `Workspace member not found: ${outsider}`)
      }
      assert.instanceOf(yield* failure(access.setMemberRole(wire({ workspaceId, userId: outsider, role: "root" }))), InvalidInput)
      assert.instanceOf(yield* failure(access.removeMember(wire({ workspaceId }))), InvalidInput)
      assert.deepStrictEqual(yield* access.listMembers({ workspaceId: "nope" }), [])
    })))
})
