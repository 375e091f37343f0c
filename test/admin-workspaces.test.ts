/**
 * WorkspaceAccessStore's workspace methods: the deployment-wide listing (search, deleted ones,
 * paging clamps, newest first), one workspace, create, soft delete and restore, user search;
 * times in epoch milliseconds from the Clock.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { InvalidInput, NotFound } from "../src/schema/errors.js"
import { AuthWorkspaceStore } from "../src/services/AuthWorkspaceStore.js"
import { WorkspaceAccessStore } from "../src/services/WorkspaceAccessStore.js"
import { failure, roleSeenBySync, withAdminStores } from "./support/adminStores.js"
import { dumpTables, user, wire } from "./support/workspaceStore.js"

/** 2026-02-14T10:00:00.123Z: a time whose seconds and milliseconds differ visibly. */
const T0 = 1_771_063_200_123

/** Workspaces `w0..w<n-1>` owned by one user, created one second apart (w0 oldest). */
const seedWorkspaces = (n: number) =>
  Effect.gen(function*() {
    const access = yield* WorkspaceAccessStore
    yield* TestClock.setTime(T0)
    const owner = yield* user("owner")
    const ids: Array<string> = []
    for (let i = 0; i < n; i++) {
      ids.push((yield* access.createWorkspace({ name: `w${i}`, description: i % 2 === 0 ? "even" : null, ownerUserId: owner })).workspaceId)
      yield* TestClock.adjust("1 second")
    }
    return { owner, ids }
  })

const names = (page: { readonly items: ReadonlyArray<{ readonly name: string }> }) => page.items.map((item) => item.name)

describe("listWorkspaces", () => {
  it.effect("newest first with owner e-mail, member count and the total; search on name and description", () =>
    withAdminStores(Effect.gen(function*() {
      const access = yield* WorkspaceAccessStore
      const { ids, owner } = yield* seedWorkspaces(3)
      yield* access.upsertMember({ workspaceId: ids[2], emailOrProviderId: "guest@example.com", role: "viewer" })
      const page = yield* access.listWorkspaces({ page: 1, perPage: 20 })
      assert.strictEqual(page.total, 3)
      assert.deepStrictEqual(page.items[0], {
        id: ids[2],
        name: "w2",
        description: "even",
        createdAt: T0 + 2000,
        deleted: false,
        ownerUserId: owner,
        ownerEmail: "owner@example.com",
        memberCount: 2
      })
      assert.deepStrictEqual(names(page), ["w2", "w1", "w0"])
      assert.notProperty(page.items[1], "description")

      const searched = yield* access.listWorkspaces({ search: "  EVEN ", page: 1, perPage: 20 })
      assert.deepStrictEqual([names(searched), searched.total], [["w2", "w0"], 2])
      assert.deepStrictEqual(names(yield* access.listWorkspaces({ search: "w1", page: 1, perPage: 20 })), ["w1"])
      // LIKE's wildcards are matched literally.
      assert.deepStrictEqual(yield* access.listWorkspaces({ search: "%", page: 1, perPage: 20 }), { items: [], total: 0 })
      assert.deepStrictEqual((yield* access.listWorkspaces({ search: "w_", page: 1, perPage: 20 })).total, 0)
      assert.strictEqual((yield* access.listWorkspaces({ search: "   ", page: 1, perPage: 20 })).total, 3)
    })))

  it.effect("page and perPage are clamped (page ≥ 1, perPage 1..100, 20 when NaN); past the end is empty", () =>
    withAdminStores(Effect.gen(function*() {
      const access = yield* WorkspaceAccessStore
      yield* seedWorkspaces(25)
      const page = (p: unknown, perPage: unknown) => access.listWorkspaces(wire({ page: p, perPage }))
      assert.deepStrictEqual(names(yield* page(2, 10)), ["w14", "w13", "w12", "w11", "w10", "w9", "w8", "w7", "w6", "w5"])
      assert.deepStrictEqual(names(yield* page(0, 1)), ["w24"])
      assert.deepStrictEqual(names(yield* page(-3, 0)), ["w24"])
      assert.deepStrictEqual(names(yield* page(2.9, 10.5)), names(yield* page(2, 10)))
      assert.lengthOf((yield* page(Number.NaN, Number.NaN)).items, 20)
      assert.lengthOf((yield* page(undefined, undefined)).items, 20)
      assert.lengthOf((yield* page(1, 1000)).items, 25)
      assert.lengthOf((yield* page(Number.POSITIVE_INFINITY, 10)).items, 10)
      assert.deepStrictEqual(yield* page(4, 10), { items: [], total: 25 })
      assert.deepStrictEqual(yield* page(1e12, 100), { items: [], total: 25 })
      assert.instanceOf(yield* failure(page("2", 10)), InvalidInput)
      assert.instanceOf(yield* failure(access.listWorkspaces(wire({ search: "x".repeat(300), page: 1, perPage: 1 }))), InvalidInput)
    })))

  it.effect("deleted workspaces only with includeDeleted; total follows the same filter", () =>
    withAdminStores(Effect.gen(function*() {
      const access = yield* WorkspaceAccessStore
      const { ids } = yield* seedWorkspaces(2)
      yield* access.softDeleteWorkspace({ workspaceId: ids[0], deletedAt: T0 + 99 })
      assert.deepStrictEqual(names(yield* access.listWorkspaces({ page: 1, perPage: 20 })), ["w1"])
      const all = yield* access.listWorkspaces({ includeDeleted: true, page: 1, perPage: 20 })
      assert.deepStrictEqual([names(all), all.total], [["w1", "w0"], 2])
      assert.deepInclude(all.items[1], { deleted: true, deletedAt: T0 + 99 })
    })))
})

describe("workspace lifecycle", () => {
  it.effect("createWorkspace: an existing owner becomes its owner member; createdAt is the Clock's ms", () =>
    withAdminStores(Effect.gen(function*() {
      const access = yield* WorkspaceAccessStore
      yield* TestClock.setTime(T0)
      const owner = yield* user("owner")
      const { workspaceId } = yield* access.createWorkspace({ name: "  Team  ", description: " Notes ", ownerUserId: owner })
      assert.deepStrictEqual(yield* access.getWorkspace({ workspaceId }), {
        id: workspaceId,
        name: "Team",
        description: "Notes",
        createdAt: T0,
        deleted: false,
        ownerUserId: owner,
        ownerEmail: "owner@example.com",
        memberCount: 1
      })
      assert.strictEqual(yield* roleSeenBySync(workspaceId, owner), "owner")

      const before = yield* dumpTables
      const missing = yield* failure(access.createWorkspace({ name: "X", ownerUserId: "ghost" }))
      assert.instanceOf(missing, NotFound)
      assert.strictEqual(missing.message, "Owner user not found: ghost")
      for (const bad of [{ name: " ", ownerUserId: owner }, { name: "x".repeat(101), ownerUserId: owner }, { name: "X", ownerUserId: "" }]) {
        assert.instanceOf(yield* failure(access.createWorkspace(wire(bad))), InvalidInput)
      }
      assert.deepStrictEqual(yield* dumpTables, before)
      assert.isNull(yield* access.getWorkspace({ workspaceId: "nope" }))
    })))

  it.effect("soft delete keeps the host's deletedAt (ms) and the first one; restore undoes it; both idempotent", () =>
    withAdminStores(Effect.gen(function*() {
      const access = yield* WorkspaceAccessStore
      const store = yield* AuthWorkspaceStore
      yield* TestClock.setTime(T0)
      const owner = yield* user("owner")
      const { workspaceId: home } = yield* store.getOrCreateDefaultWorkspace(owner)
      const { workspaceId } = yield* store.createWorkspace({ userId: owner, name: "Second" })
      yield* store.setActiveWorkspace({ userId: owner, workspaceId })

      yield* access.softDeleteWorkspace({ workspaceId, deletedAt: T0 + 5 })
      yield* access.softDeleteWorkspace({ workspaceId, deletedAt: T0 + 9 })
      assert.deepInclude(yield* access.getWorkspace({ workspaceId }), { deleted: true, deletedAt: T0 + 5 })
      yield* access.requireWorkspace({ workspaceId })
      // Deleted: sync refuses it, and its users are moved to another workspace.
      assert.isNull(yield* roleSeenBySync(workspaceId, owner))
      assert.strictEqual((yield* store.getOrCreateDefaultWorkspace(owner)).workspaceId, home)

      yield* access.restoreWorkspace({ workspaceId })
      yield* access.restoreWorkspace({ workspaceId })
      const restored = yield* access.getWorkspace({ workspaceId })
      assert.strictEqual(restored?.deleted, false)
      assert.notProperty(restored!, "deletedAt")
      assert.strictEqual(yield* roleSeenBySync(workspaceId, owner), "owner")

      for (const error of [
        yield* failure(access.softDeleteWorkspace({ workspaceId: "nope", deletedAt: 1 })),
        yield* failure(access.restoreWorkspace({ workspaceId: "nope" })),
        yield* failure(access.requireWorkspace({ workspaceId: "nope" }))
      ]) {
        assert.instanceOf(error, NotFound)
        assert.strictEqual(error.status, 404)
      }
      for (const deletedAt of [-1, 1.5, "1", undefined]) {
        assert.instanceOf(yield* failure(access.softDeleteWorkspace(wire({ workspaceId, deletedAt }))), InvalidInput)
      }
    })))
})

describe("searchUsers (access store)", () => {
  it.effect("matches e-mail, display name or id; blank finds nothing; limit clamped to 1..100 (20 by default)", () =>
    withAdminStores(Effect.gen(function*() {
      const access = yield* WorkspaceAccessStore
      const store = yield* AuthWorkspaceStore
      const alice = yield* store.getOrCreateUser({ provider: "t", providerUserId: "a", email: "alice@example.com", displayName: "Alice A" })
      for (let i = 0; i < 30; i++) yield* user(`member${i}`)
      assert.deepStrictEqual(yield* access.searchUsers({ query: "ALICE" }), [
        { userId: alice.userId, email: "alice@example.com", displayName: "Alice A" }
      ])
      assert.lengthOf(yield* access.searchUsers({ query: "lice a" }), 1)
      assert.lengthOf(yield* access.searchUsers({ query: alice.userId }), 1)
      assert.deepStrictEqual(yield* access.searchUsers({ query: "  " }), [])
      assert.deepStrictEqual(yield* access.searchUsers({ query: "%" }), [])
      assert.lengthOf(yield* access.searchUsers({ query: "member" }), 20)
      assert.lengthOf(yield* access.searchUsers({ query: "member", limit: 0 }), 1)
      assert.lengthOf(yield* access.searchUsers({ query: "member", limit: 500 }), 30)
      assert.lengthOf(yield* access.searchUsers(wire({ query: "member", limit: Number.NaN })), 20)
      assert.instanceOf(yield* failure(access.searchUsers(wire({ query: 7 }))), InvalidInput)
    })))
})
