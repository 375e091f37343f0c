/**
 * AuthWorkspaceStore conformance: the identity and workspace rules that depend on the driver's
 * transactions (idempotent creation under concurrency, all-or-nothing writes).
 */
import { assert, it } from "@effect/vitest"
import { Effect } from "effect"
import { SqlClient } from "@effect/sql"
import { AuthWorkspaceStore } from "../../src/services/AuthWorkspaceStore.js"
import { type Services, servicesOver, type SqlLayer } from "./services.js"

export const registerStoreConformance = (sql: SqlLayer) => {
  const test = (name: string, body: Effect.Effect<void, unknown, Services>) =>
    it.effect(name, () => Effect.provide(body, servicesOver(sql)), 60_000)

  test("20 concurrent getOrCreateUser calls for one identity make one user and one account",
    Effect.gen(function*() {
      const store = yield* AuthWorkspaceStore
      const identity = { provider: "github", providerUserId: "42", email: " Ada@Example.com " }
      const users = yield* Effect.all(Array.from({ length: 20 }, () => store.getOrCreateUser(identity)), {
        concurrency: "unbounded"
      })
      assert.strictEqual(new Set(users.map((u) => u.userId)).size, 1)
      const sql = yield* SqlClient.SqlClient
      const [{ n }] = yield* sql<{ n: number }>`SELECT count(*) AS n FROM auth_accounts`
      assert.strictEqual(n, 1)
      const found = yield* store.getUser({ provider: "github", providerUserId: "42" })
      assert.strictEqual(found?.email, "ada@example.com")
    }))

  test("10 concurrent first getOrCreateDefaultWorkspace calls create exactly one workspace",
    Effect.gen(function*() {
      const store = yield* AuthWorkspaceStore
      const { userId } = yield* store.getOrCreateUser({ provider: "p", providerUserId: "1" })
      const results = yield* Effect.all(Array.from({ length: 10 }, () => store.getOrCreateDefaultWorkspace(userId)), {
        concurrency: "unbounded"
      })
      assert.strictEqual(new Set(results.map((r) => r.workspaceId)).size, 1)
      assert.strictEqual(results.filter((r) => r.created).length, 1)
      const listed = yield* store.listUserWorkspaces(userId)
      assert.deepStrictEqual(listed.map((w) => [w.name, w.role, w.isActive]), [["My Workspace", "owner", true]])
    }))

  test("workspace lifecycle: create, update, remove re-homes the member, role is null after",
    Effect.gen(function*() {
      const store = yield* AuthWorkspaceStore
      const { userId } = yield* store.getOrCreateUser({ provider: "p", providerUserId: "2" })
      const home = yield* store.getOrCreateDefaultWorkspace(userId)
      const { workspaceId } = yield* store.createWorkspace({ userId, name: "Team" })
      yield* store.setActiveWorkspace({ userId, workspaceId })
      yield* store.updateWorkspace({ userId, workspaceId, name: "Team 2" })
      yield* store.removeWorkspace({ userId, workspaceId })
      assert.isNull(yield* store.getWorkspaceRole({ userId, workspaceId }))
      const again = yield* store.getOrCreateDefaultWorkspace(userId)
      assert.deepStrictEqual([again.workspaceId, again.created], [home.workspaceId, false])
    }))
}
