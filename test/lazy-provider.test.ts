import { assert, describe, it } from "@effect/vitest"
import type { H3Error } from "h3"
import { createLazySqliteProvider, PROVIDER_UNAVAILABLE_MESSAGE } from "../src/facades/LazySqliteProvider.js"
import { makeSqliteProvider, type SqliteProvider } from "../src/facades/SqliteProvider.js"
import { MigrationFailed } from "../src/schema/errors.js"
import { eventWithSession, fakeProviderLayer, newCalls } from "./or3-doubles/services.js"

const deferred = <A>() => {
  let resolve!: (value: A) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<A>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

describe("lazy provider (what the Nitro plugin registers)", () => {
  it("exists at once; its methods wait for the start, then delegate", async () => {
    const start = deferred<SqliteProvider>()
    const lazy = createLazySqliteProvider(start.promise)
    assert.strictEqual(lazy.syncGatewayAdapter.id, "sqlite")
    assert.deepStrictEqual(lazy.syncGatewayAdapter.capabilities, {
      snapshotBootstrap: "snapshot-v1",
      historyRetention: "snapshot-v1"
    })
    assert.strictEqual(lazy.syncAdminAdapter.kind, "sync")

    let settled = false
    const user = lazy.authWorkspaceStore.getOrCreateUser({ provider: "p", providerUserId: "x" }).finally(() => {
      settled = true
    })
    const ids = lazy.syncGatewayAdapter.listWorkspaceIds()
    await new Promise((resolve) => setTimeout(resolve, 20))
    assert.isFalse(settled)

    const provider = await makeSqliteProvider(fakeProviderLayer(newCalls()))
    start.resolve(provider)
    assert.deepStrictEqual(await user, { userId: "u1" })
    assert.deepStrictEqual(await ids, ["w1", "w2"])
    assert.strictEqual(await lazy.ready, provider)
    await lazy.dispose()
  })

  it("maintenance hooks act locally before the start and are replayed in order after it", async () => {
    const start = deferred<SqliteProvider>()
    const lazy = createLazySqliteProvider(start.promise)
    const adapter = lazy.syncGatewayAdapter
    assert.deepStrictEqual(adapter.getMaintenanceState(), { enabled: true, state: "idle" })
    adapter.beginMaintenanceRun()
    adapter.failMaintenanceRun("early failure")
    assert.deepStrictEqual(adapter.getMaintenanceState(), { enabled: true, state: "failed", lastError: "early failure" })

    const provider = await makeSqliteProvider(fakeProviderLayer(newCalls()))
    start.resolve(provider)
    await lazy.ready
    await new Promise((resolve) => setTimeout(resolve, 0))
    assert.deepStrictEqual(provider.syncGatewayAdapter.getMaintenanceState(), {
      enabled: true,
      state: "failed",
      lastError: "early failure"
    })
    adapter.completeMaintenanceRun({ lastRun: "2026-02-02T00:00:00.000Z" })
    assert.strictEqual(provider.syncGatewayAdapter.getMaintenanceState().state, "idle")
    await lazy.dispose()
  })

  it("a failed start: 503 for every call, nothing unhandled, dispose resolves", async () => {
    const failure = new MigrationFailed({ migration: "0002_x", cause: new Error("SQLITE_ERROR near secret_column") })
    const lazy = createLazySqliteProvider(Promise.reject(failure))
    const calls: Array<Promise<unknown>> = [
      lazy.authWorkspaceStore.getOrCreateDefaultWorkspace("u1"),
      lazy.syncGatewayAdapter.pull(eventWithSession(), { scope: { workspaceId: "w1" }, cursor: 0, limit: 1 }),
      lazy.syncAdminAdapter.getStatus(eventWithSession(), { enabled: true, provider: "sqlite" })
    ]
    for (const call of calls) {
      const error = await call.then(
        () => assert.fail("expected a rejection"),
        (e: H3Error) => e
      )
      assert.strictEqual(error.statusCode, 503)
      assert.strictEqual(error.message, PROVIDER_UNAVAILABLE_MESSAGE)
      assert.notInclude(JSON.stringify(error.toJSON()), "secret_column")
    }
    // The start-up error itself stays available to the plugin, for the operator's log.
    assert.strictEqual(await lazy.ready.catch((e: unknown) => e), failure)
    lazy.syncGatewayAdapter.beginMaintenanceRun()
    assert.strictEqual(lazy.syncGatewayAdapter.getMaintenanceState().state, "running")
    await lazy.dispose()
  })
})
