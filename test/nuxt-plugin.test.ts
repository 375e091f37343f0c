/**
 * The Nitro plugin and its registration decisions. The plugin is loaded from src/ with the host
 * modules (`~~/server/...`, `#imports`) aliased to test/nuxt-doubles/host.ts (vitest.config.ts);
 * `or3-provider-sqlite` is aliased to src/index.ts and wrapped here so a test can count or
 * replace the provider start.
 */
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import { vi } from "vitest"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import type { H3Error } from "h3"
import { createSqliteProvider } from "or3-provider-sqlite"
import plugin from "../src/nuxt/runtime/server/plugins/register.js"
import { decideRegistrations } from "../src/nuxt/runtime/server/registrations.js"
import type { Or3RuntimeConfig, PushBatch } from "../src/or3/types.js"
import { MigrationFailed } from "../src/schema/errors.js"
import { host, makeNitroApp, resetHost, validateProviders } from "./nuxt-doubles/host.js"
import { eventWithSession } from "./or3-doubles/services.js"

// The module is tested without a Nuxt instance: defineNuxtModule returns the definition as is.
vi.mock("@nuxt/kit", async (importOriginal) => {
  const original = await importOriginal<typeof import("@nuxt/kit")>()
  return {
    ...original,
    defineNuxtModule: vi.fn((definition: unknown) => Object.assign(() => undefined, definition)),
    addServerPlugin: vi.fn()
  }
})

vi.mock("or3-provider-sqlite", async (importOriginal) => {
  const original = await importOriginal<typeof import("../src/index.js")>()
  return { ...original, createSqliteProvider: vi.fn(original.createSqliteProvider) }
})

const config = (options: {
  auth?: unknown
  syncEnabled?: unknown
  provider?: unknown
  publicProvider?: unknown
}): Or3RuntimeConfig => ({
  auth: { enabled: options.auth },
  sync: { enabled: options.syncEnabled, provider: options.provider },
  public: { sync: { provider: options.publicProvider } }
})

describe("decideRegistrations", () => {
  const decided = (c: Or3RuntimeConfig | undefined) => {
    const { authWorkspaceStore, syncGatewayAdapter } = decideRegistrations(c)
    return { store: authWorkspaceStore, gateway: syncGatewayAdapter }
  }
  const nothing = { store: false, gateway: false }

  it("every combination of auth.enabled, sync.enabled, sync.provider and public.sync.provider", () => {
    const flags = [true, false, undefined]
    const providers = ["sqlite", "convex", undefined]
    for (const auth of flags) {
      for (const syncEnabled of flags) {
        for (const provider of providers) {
          for (const publicProvider of providers) {
            const selected = provider === "sqlite" || publicProvider === "sqlite"
            const expected = auth === true && selected
              ? { store: true, gateway: syncEnabled === true }
              : nothing
            assert.deepStrictEqual(
              decided(config({ auth, syncEnabled, provider, publicProvider })),
              expected,
              JSON.stringify({ auth, syncEnabled, provider, publicProvider })
            )
          }
        }
      }
    }
  })

  it("sync off but provider sqlite: the store (session provisioning needs it), no gateway", () => {
    assert.deepStrictEqual(decided(config({ auth: true, syncEnabled: false, provider: "sqlite", publicProvider: "sqlite" })), {
      store: true,
      gateway: false
    })
  })

  it("string flags from env count; other values do not; a missing config is off", () => {
    assert.deepStrictEqual(decided(config({ auth: "true", syncEnabled: "true", provider: "sqlite" })), {
      store: true,
      gateway: true
    })
    assert.deepStrictEqual(decided(config({ auth: 1, syncEnabled: true, provider: "sqlite" })), nothing)
    assert.isFalse(decided(config({ auth: true, syncEnabled: "yes", provider: "sqlite" })).gateway)
    assert.deepStrictEqual(decided(undefined), nothing)
    assert.deepStrictEqual(decided({}), nothing)
    assert.deepStrictEqual(decided(config({ auth: true, provider: "SQLite" })), nothing)
  })

  it("prerender (nuxt build): the same registrations, but the database is not opened", () => {
    const selected = config({ auth: true, syncEnabled: true, provider: "sqlite", publicProvider: "sqlite" })
    const atBuild = decideRegistrations(selected, { prerender: true })
    assert.deepStrictEqual(decided(selected), { store: true, gateway: true })
    assert.deepStrictEqual([atBuild.authWorkspaceStore, atBuild.syncGatewayAdapter, atBuild.openDatabase], [true, true, false])
    assert.isTrue(decideRegistrations(selected).openDatabase)
    assert.isTrue(decideRegistrations(selected, { prerender: false }).openDatabase)
    assert.isFalse(decideRegistrations(config({ auth: false, provider: "sqlite" })).openDatabase)
  })

  it("warns when the two provider keys disagree, and only then", () => {
    const split = decideRegistrations(config({ auth: true, syncEnabled: true, provider: "convex", publicProvider: "sqlite" }))
    assert.strictEqual(split.warnings.length, 1)
    assert.include(split.warnings[0], "OR3_SYNC_PROVIDER")
    const same = config({ auth: true, syncEnabled: true, provider: "sqlite", publicProvider: "sqlite" })
    assert.deepStrictEqual(decideRegistrations(same).warnings, [])
    assert.deepStrictEqual(decideRegistrations(config({ auth: true, provider: "sqlite" })).warnings, [])
  })
})

describe("Nitro plugin", () => {
  let dir: string
  const started = vi.mocked(createSqliteProvider)

  beforeEach(() => {
    dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "or3-plugin-"))
    vi.stubEnv("OR3_SQLITE_DB_PATH", Path.join(dir, "or3.sqlite"))
    started.mockClear()
  })
  afterEach(() => {
    vi.unstubAllEnvs()
    vi.restoreAllMocks()
    Fs.rmSync(dir, { recursive: true, force: true })
  })

  it("registers store, gateway and admin adapter before its first await; the validator passes", async () => {
    resetHost(config({ auth: true, syncEnabled: true, provider: "sqlite", publicProvider: "sqlite" }))
    const nitro = makeNitroApp()
    const running = plugin(nitro.app)

    // Synchronously, before anything was awaited:
    assert.deepStrictEqual(host.stores.map(({ id, order }) => ({ id, order })), [{ id: "sqlite", order: 100 }])
    assert.deepStrictEqual(host.gateways.map(({ id, order }) => ({ id, order })), [{ id: "sqlite", order: 100 }])
    assert.deepStrictEqual(host.admins.map(({ id, kind }) => ({ id, kind })), [{ id: "sqlite", kind: "sync" }])
    assert.deepStrictEqual(host.adminStores.map(({ id, order }) => ({ id, order })), [{ id: "sqlite", order: 100 }])
    assert.deepStrictEqual(host.adminCheckers.map(({ id }) => id), ["sqlite"])
    assert.strictEqual(nitro.closeHooks.length, 1)
    validateProviders()
    assert.strictEqual(started.mock.calls.length, 1)

    // Zero-arg factories, usable at once.
    const store = host.stores[0].create()
    const gateway = host.gateways[0].create()
    assert.strictEqual(gateway.id, "sqlite")
    assert.deepStrictEqual(gateway.capabilities, { snapshotBootstrap: "snapshot-v1", historyRetention: "snapshot-v1" })

    await running // migrations done
    const { userId } = await store.getOrCreateUser({ provider: "basic-auth", providerUserId: "alice" })
    const { workspaceId } = await store.getOrCreateDefaultWorkspace(userId)
    const event = eventWithSession({ userId, workspaceId })
    const batch: PushBatch = {
      scope: { workspaceId },
      ops: [
        {
          id: "op-row-1",
          tableName: "threads",
          operation: "put",
          pk: "t1",
          payload: { id: "t1", title: "Hello", status: "ready", deleted: false, pinned: false, created_at: 1, updated_at: 1, clock: 1 },
          stamp: { deviceId: "d1", opId: "6f1c1d0e-3b7a-4c55-9d55-2f4a3f7b9e01", hlc: "0001", clock: 1 },
          createdAt: 1,
          attempts: 0,
          status: "pending"
        }
      ]
    }
    const pushed = await gateway.push(event, batch)
    assert.strictEqual(pushed.results[0].success, true)
    const pulled = await gateway.pull(event, { scope: { workspaceId }, cursor: 0, limit: 10 })
    assert.deepStrictEqual(pulled.changes.map((change) => change.pk), ["t1"])
    assert.deepStrictEqual(await gateway.listWorkspaceIds?.(), [workspaceId])

    await nitro.close()
    const closed = await store.getWorkspaceRole({ userId, workspaceId }).catch((error: H3Error) => error)
    assert.strictEqual((closed as H3Error).statusCode, 500)
  })

  it("sync disabled with provider sqlite: store and admin adapter, no gateway", async () => {
    resetHost(config({ auth: true, syncEnabled: false, provider: "sqlite", publicProvider: "sqlite" }))
    const nitro = makeNitroApp()
    const running = plugin(nitro.app)
    assert.deepStrictEqual(host.stores.map(({ id }) => id), ["sqlite"])
    assert.deepStrictEqual(host.gateways, [])
    assert.deepStrictEqual(host.admins.map(({ id }) => id), ["sqlite"])
    assert.deepStrictEqual(host.adminStores.map(({ id }) => id), ["sqlite"])
    validateProviders()
    await running
    const store = host.stores[0].create()
    const { userId } = await store.getOrCreateUser({ provider: "basic-auth", providerUserId: "bob" })
    assert.strictEqual((await store.getOrCreateDefaultWorkspace(userId)).created, true)
    await nitro.close()
  })

  it("auth disabled, or another provider: registers nothing and opens no database", async () => {
    for (const c of [
      config({ auth: false, syncEnabled: true, provider: "sqlite", publicProvider: "sqlite" }),
      config({ auth: true, syncEnabled: true, provider: "convex", publicProvider: "convex" })
    ]) {
      resetHost(c)
      const nitro = makeNitroApp()
      await plugin(nitro.app)
      assert.deepStrictEqual([host.stores, host.gateways, host.admins, host.adminStores, host.adminCheckers], [[], [], [], [], []])
      assert.strictEqual(nitro.closeHooks.length, 0)
    }
    assert.strictEqual(started.mock.calls.length, 0)
    assert.deepStrictEqual(Fs.readdirSync(dir), [])
  })

  it("a failed start is logged, never thrown; requests get 503; close still works", async () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined)
    started.mockImplementationOnce(() =>
      Promise.reject(new MigrationFailed({ migration: "0002_next", cause: new Error("disk I/O error") })))
    resetHost(config({ auth: true, syncEnabled: true, provider: "sqlite", publicProvider: "sqlite" }))
    const nitro = makeNitroApp()
    await plugin(nitro.app)
    assert.strictEqual(error.mock.calls.length, 1)
    assert.include(String(error.mock.calls[0][0]), "[or3-provider-sqlite]")
    assert.include(String(error.mock.calls[0][1]), "Migration 0002_next failed")
    validateProviders()
    const failed = await host.stores[0]
      .create()
      .getOrCreateUser({ provider: "p", providerUserId: "x" })
      .catch((e: H3Error) => e)
    assert.strictEqual((failed as H3Error).statusCode, 503)
    await nitro.close()
  })

  it("a database left by a newer release: the start-up error names the unknown migration", async () => {
    const path = Path.join(dir, "or3.sqlite")
    const first = await createSqliteProvider({ path })
    await first.dispose()
    const Database = (await import("better-sqlite3")).default
    const db = new Database(path)
    db.prepare("INSERT INTO or3_sqlite_migrations (migration_id, name) VALUES (9001, 'from_the_future')").run()
    db.close()
    const error = await createSqliteProvider({ path }).catch((e: Error) => e)
    assert.instanceOf(error, Error)
    assert.include((error as Error).message, "9001_from_the_future")
  })
})

describe("Nuxt module", () => {
  it("adds the register plugin from next to itself", async () => {
    const kit = await import("@nuxt/kit")
    const { default: module } = await import("../src/nuxt/module.js")
    assert.strictEqual(typeof module, "function")
    const [definition] = vi.mocked(kit.defineNuxtModule).mock.calls[0] as unknown as [
      { meta: { name: string }; setup: () => void }
    ]
    assert.strictEqual(definition.meta.name, "or3-provider-sqlite")
    definition.setup()
    const [pluginPath] = vi.mocked(kit.addServerPlugin).mock.calls[0] as unknown as [string]
    assert.isTrue(pluginPath.endsWith(Path.join("nuxt", "runtime", "server", "plugins", "register")))
    assert.isTrue(Fs.existsSync(`${pluginPath}.ts`))
  })
})
