/**
 * AdminUserStore (grants, the identity check behind the host's deployment-admin checker) and
 * WorkspaceSettingsStore (get/set and compare-and-set).
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { Limits } from "../src/schema/limits.js"
import { InvalidInput, NotFound } from "../src/schema/errors.js"
import { AdminUserStore } from "../src/services/AdminUserStore.js"
import { AuthWorkspaceStore } from "../src/services/AuthWorkspaceStore.js"
import { WorkspaceSettingsStore } from "../src/services/WorkspaceSettingsStore.js"
import { failure, withAdminStores } from "./support/adminStores.js"
import { user, wire } from "./support/workspaceStore.js"

const T0 = 1_771_063_200_123

const settingsRows = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql`SELECT workspace_id, key, value FROM workspace_settings ORDER BY 1, 2`).pipe(Effect.orDie)

describe("AdminUserStore", () => {
  it.effect("grant and revoke are idempotent; the list is newest grant first, createdAt in ms", () =>
    withAdminStores(Effect.gen(function*() {
      const admins = yield* AdminUserStore
      const store = yield* AuthWorkspaceStore
      yield* TestClock.setTime(T0)
      const alice = (yield* store.getOrCreateUser({ provider: "t", providerUserId: "a", email: "a@example.com", displayName: "Alice" })).userId
      const bob = yield* user("bob")
      yield* admins.grantAdmin({ userId: alice })
      yield* TestClock.adjust("5 seconds")
      yield* admins.grantAdmin({ userId: alice, createdByUserId: "someone-else" })
      yield* admins.grantAdmin({ userId: bob, createdByUserId: "root" })
      assert.deepStrictEqual(yield* admins.listAdmins, [
        { userId: bob, email: "bob@example.com", createdAt: T0 + 5000 },
        { userId: alice, email: "a@example.com", displayName: "Alice", createdAt: T0 }
      ])
      assert.isTrue(yield* admins.isAdmin({ userId: alice }))

      yield* admins.revokeAdmin({ userId: alice })
      yield* admins.revokeAdmin({ userId: alice })
      yield* admins.revokeAdmin({ userId: "never-granted" })
      assert.isFalse(yield* admins.isAdmin({ userId: alice }))
      assert.deepStrictEqual((yield* admins.listAdmins).map((a) => a.userId), [bob])
      assert.lengthOf(yield* admins.searchUsers({ query: "bob" }), 1)
    })))

  it.effect("only existing users can be granted (404); bad input is 400", () =>
    withAdminStores(Effect.gen(function*() {
      const admins = yield* AdminUserStore
      const missing = yield* failure(admins.grantAdmin({ userId: "ghost" }))
      assert.instanceOf(missing, NotFound)
      assert.strictEqual(missing.message, "User not found: ghost")
      for (const bad of [{}, { userId: "  " }, { userId: 5 }]) {
        assert.instanceOf(yield* failure(admins.grantAdmin(wire(bad))), InvalidInput)
        assert.instanceOf(yield* failure(admins.revokeAdmin(wire(bad))), InvalidInput)
        assert.instanceOf(yield* failure(admins.isAdmin(wire(bad))), InvalidInput)
      }
      assert.deepStrictEqual(yield* admins.listAdmins, [])
    })))

  it.effect("isAdminIdentity maps (provider, provider user id) to the user a grant names; anything else is false", () =>
    withAdminStores(Effect.gen(function*() {
      const admins = yield* AdminUserStore
      const store = yield* AuthWorkspaceStore
      const { userId } = yield* store.getOrCreateUser({ provider: "clerk", providerUserId: "user_2x" })
      const identity = { provider: "clerk", providerUserId: "user_2x" }
      assert.isFalse(yield* admins.isAdminIdentity(identity))
      yield* admins.grantAdmin({ userId })
      assert.isTrue(yield* admins.isAdminIdentity(identity))
      assert.isFalse(yield* admins.isAdminIdentity({ provider: "github", providerUserId: "user_2x" }))
      // The grant holds the internal id; the internal id as a provider id is no identity.
      assert.isFalse(yield* admins.isAdminIdentity({ provider: "clerk", providerUserId: userId }))
      for (const bad of [undefined, {}, { provider: "clerk" }, { provider: "", providerUserId: "user_2x" }, { provider: "clerk", providerUserId: "x".repeat(300) }]) {
        assert.isFalse(yield* admins.isAdminIdentity(bad))
      }
      yield* admins.revokeAdmin({ userId })
      assert.isFalse(yield* admins.isAdminIdentity(identity))
    })))
})

describe("WorkspaceSettingsStore", () => {
  it.effect("get is null until set; set overwrites; keys are exact and per workspace", () =>
    withAdminStores(Effect.gen(function*() {
      const settings = yield* WorkspaceSettingsStore
      assert.isNull(yield* settings.get("w1", "admin.guest_access.enabled"))
      yield* settings.set("w1", "admin.guest_access.enabled", "true")
      yield* settings.set("w1", "admin.guest_access.enabled", "false")
      yield* settings.set("w2", "admin.guest_access.enabled", "true")
      yield* settings.set("w1", " admin.guest_access.enabled", "spaced")
      yield* settings.set("w1", "plugins.settings.x", "")
      assert.strictEqual(yield* settings.get("w1", "admin.guest_access.enabled"), "false")
      assert.strictEqual(yield* settings.get(" w2 ", "admin.guest_access.enabled"), "true")
      assert.strictEqual(yield* settings.get("w1", " admin.guest_access.enabled"), "spaced")
      assert.strictEqual(yield* settings.get("w1", "plugins.settings.x"), "")
    })))

  it.effect("compareAndSet: null means 'only if absent'; otherwise only over the expected value", () =>
    withAdminStores(Effect.gen(function*() {
      const settings = yield* WorkspaceSettingsStore
      const key = "plugin:p:setup-values"
      assert.isTrue(yield* settings.compareAndSet("w1", key, null, "r1"))
      assert.isFalse(yield* settings.compareAndSet("w1", key, null, "lost"))
      assert.isFalse(yield* settings.compareAndSet("w1", key, "r0", "lost"))
      assert.isTrue(yield* settings.compareAndSet("w1", key, "r1", "r2"))
      assert.isFalse(yield* settings.compareAndSet("w2", key, "r1", "lost"))
      assert.strictEqual(yield* settings.get("w1", key), "r2")
      assert.isNull(yield* settings.get("w2", key))
    })))

  it.effect("bad input is 400 and writes nothing", () =>
    withAdminStores(Effect.gen(function*() {
      const settings = yield* WorkspaceSettingsStore
      yield* settings.set("w1", "k", "v")
      const huge = "x".repeat(Limits.maxSettingValueLength + 1)
      for (const attempt of [
        settings.set("", "k", "v"),
        settings.set("w1", "", "v"),
        settings.set("w1", "k".repeat(Limits.maxSettingKeyLength + 1), "v"),
        settings.set("w1", "k", huge),
        settings.set("w1", "k", wire(42)),
        settings.set("w1", "k", "\ud800"),
        settings.compareAndSet("w1", "k", wire(undefined), "v2"),
        settings.compareAndSet("w1", "k", "v", huge),
        settings.get("w1", wire(null))
      ]) {
        assert.instanceOf(yield* failure(attempt), InvalidInput)
      }
      assert.deepStrictEqual(yield* settingsRows, [{ workspace_id: "w1", key: "k", value: "v" }])
    })))
})
