import { assert, describe, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, TestClock } from "effect"
import { Forbidden, InvalidInput, NotFound } from "../src/schema/errors.js"
import { AuthWorkspaceStore } from "../src/services/AuthWorkspaceStore.js"
import {
  countRows,
  dumpTables,
  user,
  userWithWorkspace,
  wire,
  withInterleavingStore,
  withStore
} from "./support/workspaceStore.js"

const activeOf = (userId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.map(
      sql<{ active: string | null }>`SELECT active_workspace_id AS active FROM users WHERE id = ${userId}`,
      ([row]) => row.active
    )).pipe(Effect.orDie)

/** Sets a membership's `created_at`, to arrange the order the repair rules look at. */
const setJoinedAt = (workspaceId: string, userId: string, createdAt: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`UPDATE workspace_members SET created_at = ${createdAt}
        WHERE workspace_id = ${workspaceId} AND user_id = ${userId}`).pipe(Effect.orDie)

/** Adds a membership directly (the admin store's job, not this service's). */
const addMember = (workspaceId: string, userId: string, role: string, createdAt = 0) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`INSERT INTO workspace_members (workspace_id, user_id, role, created_at)
        VALUES (${workspaceId}, ${userId}, ${role}, ${createdAt})`).pipe(Effect.orDie)

describe("AuthWorkspaceStore users", () => {
  it.effect("getUser only looks up; getOrCreateUser stores email (normalized) and display name on create", () =>
    withStore(Effect.gen(function*() {
      const store = yield* AuthWorkspaceStore
      assert.isNull(yield* store.getUser({ provider: "test", providerUserId: "alice" }))
      assert.strictEqual(yield* countRows("users"), 0)

      const { userId } = yield* store.getOrCreateUser({
        provider: "test",
        providerUserId: "alice",
        email: "  Alice@Example.COM ",
        displayName: " Alice "
      })
      assert.deepStrictEqual(yield* store.getUser({ provider: "test", providerUserId: "alice" }), {
        userId,
        email: "alice@example.com",
        displayName: "Alice"
      })
      // Known identity: same user, stored profile untouched.
      const again = yield* store.getOrCreateUser({ provider: "test", providerUserId: "alice", email: "new@example.com" })
      assert.strictEqual(again.userId, userId)
      assert.strictEqual((yield* store.getUser({ provider: "test", providerUserId: "alice" }))?.email, "alice@example.com")
      // Without profile fields the result has no email/displayName keys.
      const bob = yield* store.getOrCreateUser({ provider: "test", providerUserId: "bob" })
      assert.deepStrictEqual(yield* store.getUser({ provider: "test", providerUserId: "bob" }), { userId: bob.userId })
      // The same provider user id under another provider is another user.
      const other = yield* store.getOrCreateUser({ provider: "other", providerUserId: "alice" })
      assert.notStrictEqual(other.userId, userId)
    })))

  it.effect("20 concurrent getOrCreateUser calls for one identity make one user and one account", () =>
    withInterleavingStore(Effect.gen(function*() {
      const store = yield* AuthWorkspaceStore
      const results = yield* Effect.all(
        Array.from({ length: 20 }, () => store.getOrCreateUser({ provider: "test", providerUserId: "racer" })),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(new Set(results.map((r) => r.userId)).size, 1)
      assert.strictEqual(yield* countRows("users"), 1)
      assert.strictEqual(yield* countRows("auth_accounts"), 1)
    })))

  it.effect("bad identities fail with InvalidInput and write nothing", () =>
    withStore(Effect.gen(function*() {
      const store = yield* AuthWorkspaceStore
      for (const input of [{ provider: "", providerUserId: "x" }, { provider: "test", providerUserId: "   " }, {}]) {
        const error = yield* Effect.flip(store.getOrCreateUser(wire(input)))
        assert.instanceOf(error, InvalidInput)
        assert.instanceOf(yield* Effect.flip(store.getUser(wire(input))), InvalidInput)
      }
      assert.strictEqual(yield* countRows("users"), 0)
    })))
})

describe("AuthWorkspaceStore.getOrCreateDefaultWorkspace", () => {
  it.effect("creates My Workspace once, owned and active, then returns it", () =>
    withStore(Effect.gen(function*() {
      const store = yield* AuthWorkspaceStore
      const userId = yield* user("alice")
      const first = yield* store.getOrCreateDefaultWorkspace(userId)
      assert.strictEqual(first.workspaceName, "My Workspace")
      assert.isTrue(first.created)
      assert.strictEqual(yield* activeOf(userId), first.workspaceId)
      assert.strictEqual(yield* store.getWorkspaceRole({ userId, workspaceId: first.workspaceId }), "owner")
      assert.deepStrictEqual(yield* store.getOrCreateDefaultWorkspace(userId), { ...first, created: false })
      assert.strictEqual(yield* countRows("workspaces"), 1)
    })))

  it.effect("10 concurrent first calls create exactly one workspace", () =>
    withInterleavingStore(Effect.gen(function*() {
      const store = yield* AuthWorkspaceStore
      const userId = yield* user("alice")
      const results = yield* Effect.all(
        Array.from({ length: 10 }, () => store.getOrCreateDefaultWorkspace(userId)),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(new Set(results.map((r) => r.workspaceId)).size, 1)
      assert.strictEqual(results.filter((r) => r.created).length, 1)
      assert.strictEqual(yield* countRows("workspaces"), 1)
      assert.strictEqual(yield* countRows("workspace_members"), 1)
    })))

  it.effect("repairs a stale pointer to the earliest remaining membership (joined at, then workspace id)", () =>
    withStore(Effect.gen(function*() {
      const store = yield* AuthWorkspaceStore
      const sql = yield* SqlClient.SqlClient
      const { userId, workspaceId: home } = yield* userWithWorkspace("alice")
      const { workspaceId: second } = yield* store.createWorkspace({ userId, name: "Second" })
      const { workspaceId: third } = yield* store.createWorkspace({ userId, name: "Third" })
      // Joined `third` first, `second` and `home` later at the same instant: `third` is the earliest.
      yield* setJoinedAt(third, userId, 10)
      yield* setJoinedAt(second, userId, 20)
      yield* setJoinedAt(home, userId, 20)

      // Pointer at a workspace deleted behind the store's back (an admin soft delete).
      yield* sql`UPDATE workspaces SET deleted = 1 WHERE id = ${home}`.pipe(Effect.orDie)
      const repaired = yield* store.getOrCreateDefaultWorkspace(userId)
      assert.deepStrictEqual(repaired, { workspaceId: third, workspaceName: "Third", created: false })
      assert.strictEqual(yield* activeOf(userId), third)

      // Pointer at a workspace the user no longer belongs to: ties on joined-at go to the lower id.
      yield* sql`DELETE FROM workspace_members WHERE workspace_id = ${third}`.pipe(Effect.orDie)
      yield* sql`UPDATE workspaces SET deleted = 0 WHERE id = ${home}`.pipe(Effect.orDie)
      const expected = [home, second].sort()[0]
      assert.strictEqual((yield* store.getOrCreateDefaultWorkspace(userId)).workspaceId, expected)
      assert.strictEqual(yield* activeOf(userId), expected)
    })))

  it.effect("creates a new workspace when every membership is gone; unknown users are NotFound", () =>
    withStore(Effect.gen(function*() {
      const store = yield* AuthWorkspaceStore
      const { userId, workspaceId } = yield* userWithWorkspace("alice")
      yield* store.removeWorkspace({ userId, workspaceId })
      assert.isNull(yield* activeOf(userId))
      const fresh = yield* store.getOrCreateDefaultWorkspace(userId)
      assert.isTrue(fresh.created)
      assert.notStrictEqual(fresh.workspaceId, workspaceId)

      const before = yield* dumpTables
      const error = yield* Effect.flip(store.getOrCreateDefaultWorkspace("no-such-user"))
      assert.instanceOf(error, NotFound)
      assert.deepStrictEqual([error.entity, error.id], ["User", "no-such-user"])
      assert.instanceOf(yield* Effect.flip(store.getOrCreateDefaultWorkspace("  ")), InvalidInput)
      assert.deepStrictEqual(yield* dumpTables, before)
    })))
})

describe("AuthWorkspaceStore workspaces", () => {
  it.effect("listUserWorkspaces: live memberships only, oldest first, with role and isActive", () =>
    withStore(Effect.gen(function*() {
      const store = yield* AuthWorkspaceStore
      const { userId: alice, workspaceId: home } = yield* userWithWorkspace("alice")
      const bob = yield* user("bob")
      yield* TestClock.adjust(1000)
      const { workspaceId: shared } = yield* store.createWorkspace({
        userId: bob,
        name: " Shared ",
        description: " notes "
      })
      yield* addMember(shared, alice, "viewer")
      yield* TestClock.adjust(1000)
      const { workspaceId: gone } = yield* store.createWorkspace({ userId: alice, name: "Gone" })
      yield* store.removeWorkspace({ userId: alice, workspaceId: gone })

      assert.deepStrictEqual(yield* store.listUserWorkspaces(alice), [
        { id: home, name: "My Workspace", description: null, role: "owner", createdAt: 0, isActive: true },
        { id: shared, name: "Shared", description: "notes", role: "viewer", createdAt: 1000, isActive: false }
      ])
      assert.deepStrictEqual(yield* store.listUserWorkspaces("nobody"), [])
    })))

  it.effect("createWorkspace: the caller owns it; the active workspace moves only for a user without one", () =>
    withStore(Effect.gen(function*() {
      const store = yield* AuthWorkspaceStore
      const { userId, workspaceId: home } = yield* userWithWorkspace("alice")
      const { workspaceId } = yield* store.createWorkspace({ userId, name: "Team", description: "" })
      assert.strictEqual(yield* store.getWorkspaceRole({ userId, workspaceId }), "owner")
      assert.strictEqual(yield* activeOf(userId), home)
      assert.isNull((yield* store.listUserWorkspaces(userId))[1].description)

      // A user with no workspace at all gets the new one as active.
      const bob = yield* user("bob")
      const { workspaceId: bobs } = yield* store.createWorkspace({ userId: bob, name: "Bob's" })
      assert.strictEqual(yield* activeOf(bob), bobs)
    })))

  it.effect("bad names, descriptions and unknown users are typed errors that change nothing", () =>
    withStore(Effect.gen(function*() {
      const store = yield* AuthWorkspaceStore
      const { userId, workspaceId } = yield* userWithWorkspace("alice")
      const before = yield* dumpTables
      const bad = [
        { userId, name: "" },
        { userId, name: "   " },
        { userId, name: "x".repeat(101) },
        { userId, name: "ok", description: "d".repeat(1001) },
        { userId, name: 42 },
        { name: "ok" }
      ]
      for (const input of bad) {
        const created = yield* Effect.flip(store.createWorkspace(wire(input)))
        assert.instanceOf(created, InvalidInput)
        const updated = yield* Effect.flip(store.updateWorkspace(wire({ ...input, workspaceId })))
        assert.instanceOf(updated, InvalidInput)
      }
      const missing = yield* Effect.flip(store.createWorkspace({ userId: "ghost", name: "Ghost" }))
      assert.instanceOf(missing, NotFound)
      assert.strictEqual(missing.entity, "User")
      assert.deepStrictEqual(yield* dumpTables, before)

      // The limits themselves are accepted.
      yield* store.createWorkspace({ userId, name: "x".repeat(100), description: "d".repeat(1000) })
    })))

  it.effect("updateWorkspace: owner and editor may, viewer and outsiders may not; deleted or unknown is NotFound", () =>
    withStore(Effect.gen(function*() {
      const store = yield* AuthWorkspaceStore
      const { userId: owner, workspaceId } = yield* userWithWorkspace("owner")
      const editor = yield* user("editor")
      const viewer = yield* user("viewer")
      const outsider = yield* user("outsider")
      yield* addMember(workspaceId, editor, "editor")
      yield* addMember(workspaceId, viewer, "viewer")

      yield* store.updateWorkspace({ userId: owner, workspaceId, name: "Renamed", description: "About" })
      yield* store.updateWorkspace({ userId: editor, workspaceId, name: " Edited " })
      // No description: kept. Null: cleared.
      assert.deepStrictEqual(
        (yield* store.listUserWorkspaces(owner)).map((w) => [w.name, w.description]),
        [["Edited", "About"]]
      )
      yield* store.updateWorkspace({ userId: owner, workspaceId, name: "Edited", description: null })
      assert.isNull((yield* store.listUserWorkspaces(owner))[0].description)

      const before = yield* dumpTables
      for (const userId of [viewer, outsider]) {
        const error = yield* Effect.flip(store.updateWorkspace({ userId, workspaceId, name: "Nope" }))
        assert.instanceOf(error, Forbidden)
        assert.deepStrictEqual([error.userId, error.workspaceId, error.action], [userId, workspaceId, "workspace.update"])
      }
      const unknown = yield* Effect.flip(store.updateWorkspace({ userId: owner, workspaceId: "nope", name: "Nope" }))
      assert.instanceOf(unknown, NotFound)
      assert.deepStrictEqual(yield* dumpTables, before)

      yield* store.removeWorkspace({ userId: owner, workspaceId })
      const deleted = yield* Effect.flip(store.updateWorkspace({ userId: owner, workspaceId, name: "Nope" }))
      assert.instanceOf(deleted, NotFound)
      assert.deepStrictEqual([deleted.entity, deleted.id], ["Workspace", workspaceId])
    })))

  it.effect("removeWorkspace: owner only, soft delete, every member whose active it was is re-homed", () =>
    withStore(Effect.gen(function*() {
      const store = yield* AuthWorkspaceStore
      const sql = yield* SqlClient.SqlClient
      const { userId: owner, workspaceId: ownerHome } = yield* userWithWorkspace("owner")
      yield* TestClock.adjust(1000)
      const { workspaceId: doomed } = yield* store.createWorkspace({ userId: owner, name: "Doomed" })
      const a = yield* userWithWorkspace("a") // has a home of their own
      const b = yield* user("b") // only member of doomed and one other shared workspace
      const c = yield* user("c") // only member of doomed
      const d = yield* userWithWorkspace("d") // member of doomed, but active elsewhere
      for (const member of [a.userId, b, c, d.userId]) yield* addMember(doomed, member, "editor", 500)
      yield* addMember(ownerHome, b, "viewer", 900)
      for (const member of [owner, a.userId, b, c]) {
        yield* store.setActiveWorkspace({ userId: member, workspaceId: doomed })
      }

      const before = yield* dumpTables
      const error = yield* Effect.flip(store.removeWorkspace({ userId: a.userId, workspaceId: doomed }))
      assert.instanceOf(error, Forbidden)
      assert.strictEqual(error.action, "workspace.remove")
      assert.instanceOf(yield* Effect.flip(store.removeWorkspace({ userId: owner, workspaceId: "nope" })), NotFound)
      assert.deepStrictEqual(yield* dumpTables, before)

      yield* TestClock.adjust(1000)
      yield* store.removeWorkspace({ userId: owner, workspaceId: doomed })
      const [row] = yield* sql<{ deleted: number; deleted_at: number }>`
        SELECT deleted, deleted_at FROM workspaces WHERE id = ${doomed}`.pipe(Effect.orDie)
      assert.deepStrictEqual(row, { deleted: 1, deleted_at: 2000 })
      assert.strictEqual(yield* activeOf(owner), ownerHome)
      assert.strictEqual(yield* activeOf(a.userId), a.workspaceId)
      assert.strictEqual(yield* activeOf(b), ownerHome)
      assert.isNull(yield* activeOf(c))
      assert.strictEqual(yield* activeOf(d.userId), d.workspaceId)
      assert.isNull(yield* store.getWorkspaceRole({ userId: owner, workspaceId: doomed }))
      assert.instanceOf(yield* Effect.flip(store.removeWorkspace({ userId: owner, workspaceId: doomed })), NotFound)
    })))

  it.effect("a failure while re-homing leaves the workspace and every pointer as they were", () =>
    withStore(Effect.gen(function*() {
      const store = yield* AuthWorkspaceStore
      const sql = yield* SqlClient.SqlClient
      const { userId, workspaceId } = yield* userWithWorkspace("owner")
      const before = yield* dumpTables
      yield* sql`CREATE TEMP TRIGGER fail_rehome BEFORE UPDATE OF active_workspace_id ON users
                 BEGIN SELECT RAISE(ABORT, 'injected failure'); END`.pipe(Effect.orDie)
      const exit = yield* Effect.exit(store.removeWorkspace({ userId, workspaceId }))
      assert.isTrue(exit._tag === "Failure" && exit.cause._tag === "Die")
      assert.deepStrictEqual(yield* dumpTables, before)
    })))

  it.effect("setActiveWorkspace: members of live workspaces only", () =>
    withStore(Effect.gen(function*() {
      const store = yield* AuthWorkspaceStore
      const { userId: alice, workspaceId: home } = yield* userWithWorkspace("alice")
      const { userId: bob, workspaceId: bobs } = yield* userWithWorkspace("bob")
      const { workspaceId: other } = yield* store.createWorkspace({ userId: alice, name: "Other" })

      yield* store.setActiveWorkspace({ userId: alice, workspaceId: other })
      assert.deepStrictEqual(
        (yield* store.listUserWorkspaces(alice)).map((w) => [w.id, w.isActive]),
        [[home, false], [other, true]]
      )

      const before = yield* dumpTables
      const forbidden = yield* Effect.flip(store.setActiveWorkspace({ userId: alice, workspaceId: bobs }))
      assert.instanceOf(forbidden, Forbidden)
      assert.strictEqual(forbidden.reason, "not a member of this workspace")
      assert.instanceOf(yield* Effect.flip(store.setActiveWorkspace({ userId: alice, workspaceId: "nope" })), NotFound)
      assert.instanceOf(yield* Effect.flip(store.setActiveWorkspace(wire({ userId: alice }))), InvalidInput)
      assert.deepStrictEqual(yield* dumpTables, before)

      yield* store.removeWorkspace({ userId: alice, workspaceId: home })
      const deleted = yield* Effect.flip(store.setActiveWorkspace({ userId: alice, workspaceId: home }))
      assert.instanceOf(deleted, NotFound)
      assert.strictEqual(yield* activeOf(alice), other)
      assert.strictEqual(yield* activeOf(bob), bobs)
    })))

  it.effect("getWorkspaceRole: the role for members, null for outsiders and deleted workspaces", () =>
    withStore(Effect.gen(function*() {
      const store = yield* AuthWorkspaceStore
      const { userId: alice, workspaceId } = yield* userWithWorkspace("alice")
      const bob = yield* user("bob")
      assert.strictEqual(yield* store.getWorkspaceRole({ userId: alice, workspaceId }), "owner")
      assert.isNull(yield* store.getWorkspaceRole({ userId: bob, workspaceId }))
      assert.isNull(yield* store.getWorkspaceRole({ userId: alice, workspaceId: "nope" }))
      yield* addMember(workspaceId, bob, "editor")
      assert.strictEqual(yield* store.getWorkspaceRole({ userId: bob, workspaceId }), "editor")
      yield* store.removeWorkspace({ userId: alice, workspaceId })
      assert.isNull(yield* store.getWorkspaceRole({ userId: alice, workspaceId }))
      assert.isNull(yield* store.getWorkspaceRole({ userId: bob, workspaceId }))
    })))
})
