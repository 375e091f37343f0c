/**
 * The admin dashboard on SQLite, through the Nitro plugin and the host's registries (doubles of
 * `~~/server/admin/stores/registry` and `~~/server/auth/deployment-admin`, see
 * test/nuxt-doubles/host.ts): what the plugin registers, the host's admin-store contract, every
 * store method on a file database, the deployment-admin checker, and the GC actions for both kinds
 * of admin.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import Database from "better-sqlite3"
import type { H3Error } from "h3"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { vi } from "vitest"
import plugin from "../src/nuxt/runtime/server/plugins/register.js"
import type { AdminStoreProvider, AuthWorkspaceStore, SessionContext } from "../src/or3/types.js"
import {
  getAdminStoreCapabilities,
  getAdminUserStore,
  getDeploymentAdminChecker,
  getWorkspaceAccessStore,
  getWorkspaceSettingsStore,
  host,
  makeNitroApp,
  resetHost
} from "./nuxt-doubles/host.js"
import { eventWithSession, rejection } from "./or3-doubles/services.js"

/**
 * The host's admin-store contract check (`shared/testing/contracts/admin.ts`, as the contract
 * describes it): all ten access methods, `get`/`set`, all five admin-user methods are functions,
 * and every capability is a boolean. Returns what is wrong.
 */
const contractProblems = (provider: AdminStoreProvider, event = eventWithSession()): Array<string> => {
  const problems: Array<string> = []
  const needs = (name: string, store: object, methods: ReadonlyArray<string>) => {
    for (const method of methods) {
      if (typeof (store as Record<string, unknown>)[method] !== "function") problems.push(`${name}.${method}`)
    }
  }
  needs("workspaceAccess", provider.createWorkspaceAccessStore(event), [
    "listMembers", "upsertMember", "setMemberRole", "removeMember", "listWorkspaces",
    "getWorkspace", "createWorkspace", "softDeleteWorkspace", "restoreWorkspace", "searchUsers"
  ])
  needs("workspaceSettings", provider.createWorkspaceSettingsStore(event), ["get", "set"])
  needs("adminUsers", provider.createAdminUserStore(event), ["listAdmins", "grantAdmin", "revokeAdmin", "isAdmin", "searchUsers"])
  const capabilities = provider.getCapabilities?.() ?? {}
  const flags = ["supportsServerSideAdmin", "supportsUserSearch", "supportsWorkspaceList", "supportsWorkspaceManagement", "supportsDeploymentAdminGrants"]
  for (const flag of flags) if (typeof (capabilities as Record<string, unknown>)[flag] !== "boolean") problems.push(`capability ${flag}`)
  for (const [flag, value] of Object.entries(capabilities)) if (typeof value !== "boolean") problems.push(`capability ${flag}`)
  return problems
}

/** An event as the host's `requireAdminApiContext` leaves it. */
const adminEvent = (kind: "super_admin" | "workspace_admin") => {
  const event = eventWithSession()
  event.context.admin = { principal: { kind } }
  return event
}

let dir: string
let nitro: ReturnType<typeof makeNitroApp>
let users: AuthWorkspaceStore
const config = { auth: { enabled: true }, sync: { enabled: true, provider: "sqlite" }, public: { sync: { provider: "sqlite" } } }

beforeAll(async () => {
  dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "or3-admin-"))
  vi.stubEnv("OR3_SQLITE_DB_PATH", Path.join(dir, "or3.sqlite"))
  resetHost(config)
  nitro = makeNitroApp()
  // The provider's start-up INFO lines (file, pragmas, migrations) are for operators, not test output.
  const log = vi.spyOn(console, "log").mockImplementation(() => undefined)
  const running = plugin(nitro.app)
  // Registered before the plugin's first await, under the sync provider id.
  assert.deepStrictEqual(host.adminStores.map(({ id, order }) => ({ id, order })), [{ id: "sqlite", order: 100 }])
  assert.deepStrictEqual(host.adminCheckers.map(({ id }) => id), ["sqlite"])
  await running
  log.mockRestore()
  users = host.stores[0].create()
})
afterAll(async () => {
  await nitro.close()
  vi.unstubAllEnvs()
  Fs.rmSync(dir, { recursive: true, force: true })
})

describe("registration", () => {
  it("meets the host's admin-store contract; every capability is true; the factories hand out the same objects", () => {
    const [provider] = host.adminStores
    assert.deepStrictEqual(contractProblems(provider), [])
    assert.deepStrictEqual(getAdminStoreCapabilities(), {
      supportsServerSideAdmin: true,
      supportsUserSearch: true,
      supportsWorkspaceList: true,
      supportsWorkspaceManagement: true,
      supportsDeploymentAdminGrants: true
    })
    const [a, b] = [eventWithSession(), eventWithSession()]
    assert.strictEqual(getWorkspaceAccessStore(a), getWorkspaceAccessStore(b))
    assert.strictEqual(getWorkspaceSettingsStore(a), getWorkspaceSettingsStore(b))
    assert.strictEqual(getAdminUserStore(a), getAdminUserStore(b))
    assert.strictEqual(getDeploymentAdminChecker(), getDeploymentAdminChecker())
  })
})

describe("workspace pages", () => {
  it("members: upsert by e-mail, provider id and user id; roles; removal; sync sees each change", async () => {
    const access = getWorkspaceAccessStore(eventWithSession())
    const { userId: owner } = await users.getOrCreateUser({ provider: "clerk", providerUserId: "owner-1", email: "owner@example.com" })
    const { workspaceId } = await users.getOrCreateDefaultWorkspace(owner)
    const { userId: bob } = await users.getOrCreateUser({ provider: "clerk", providerUserId: "bob-1" })

    await access.upsertMember({ workspaceId, emailOrProviderId: "Invitee@Example.com", role: "viewer" })
    await access.upsertMember({ workspaceId, emailOrProviderId: "bob-1", provider: "clerk", role: "editor" })
    await access.upsertMember({ workspaceId, emailOrProviderId: bob, role: "editor" })
    const listed = await access.listMembers({ workspaceId })
    assert.deepStrictEqual(listed.map((m) => [m.email ?? m.userId, m.role]), [
      ["owner@example.com", "owner"],
      ["invitee@example.com", "viewer"],
      [bob, "editor"]
    ])

    await access.setMemberRole({ workspaceId, userId: bob, role: "viewer" })
    assert.strictEqual(await users.getWorkspaceRole({ userId: bob, workspaceId }), "viewer")
    await access.removeMember({ workspaceId, userId: bob })
    assert.isNull(await users.getWorkspaceRole({ userId: bob, workspaceId }))

    // The last owner: 409 whose message names "last workspace owner" (both host generations).
    for (const refused of [
      await rejection(access.setMemberRole({ workspaceId, userId: owner, role: "editor" })),
      await rejection(access.removeMember({ workspaceId, userId: owner }))
    ]) {
      assert.strictEqual(refused.statusCode, 409)
      assert.include(refused.message, "last workspace owner")
    }
    const notMember = await rejection(access.removeMember({ workspaceId, userId: bob }))
    assert.strictEqual(notMember.statusCode, 404)
    const badRole = await rejection(access.setMemberRole({ workspaceId, userId: owner, role: "root" as "owner" }))
    assert.strictEqual(badRole.statusCode, 400)
    assert.lengthOf(await access.searchUsers({ query: "invitee" }), 1)
  })

  it("workspaces: create, list, get, soft delete, restore; times are epoch milliseconds", async () => {
    const access = getWorkspaceAccessStore(eventWithSession())
    const { userId: owner } = await users.getOrCreateUser({ provider: "clerk", providerUserId: "owner-2", email: "two@example.com" })
    const before = Date.now()
    const { workspaceId } = await access.createWorkspace({ name: "Research", description: "papers", ownerUserId: owner })
    const after = Date.now()
    const created = await access.getWorkspace({ workspaceId })
    assert.isAtLeast(created!.createdAt, before)
    assert.isAtMost(created!.createdAt, after)
    assert.deepInclude(created!, { name: "Research", deleted: false, ownerUserId: owner, ownerEmail: "two@example.com", memberCount: 1 })

    const found = await access.listWorkspaces({ search: "RESEARCH", page: 1, perPage: 20 })
    assert.deepStrictEqual([found.total, found.items[0].id], [1, workspaceId])
    const deletedAt = Date.now()
    await access.softDeleteWorkspace({ workspaceId, deletedAt })
    assert.deepInclude((await access.getWorkspace({ workspaceId }))!, { deleted: true, deletedAt })
    assert.deepStrictEqual(await access.listWorkspaces({ search: "research", page: 1, perPage: 20 }), { items: [], total: 0 })
    assert.strictEqual((await access.listWorkspaces({ search: "research", includeDeleted: true, page: Number.NaN, perPage: 500 })).total, 1)
    await access.restoreWorkspace({ workspaceId })
    assert.strictEqual((await access.getWorkspace({ workspaceId }))?.deleted, false)

    assert.isNull(await access.getWorkspace({ workspaceId: "nope" }))
    assert.strictEqual((await rejection(access.restoreWorkspace({ workspaceId: "nope" }))).statusCode, 404)
    assert.strictEqual((await rejection(access.createWorkspace({ name: "X", ownerUserId: "ghost" }))).statusCode, 404)
    assert.strictEqual((await rejection(access.createWorkspace({ name: " ", ownerUserId: owner }))).statusCode, 400)
  })

  it("settings: get, set, compare-and-set", async () => {
    const settings = getWorkspaceSettingsStore(eventWithSession())
    assert.isNull(await settings.get("w-settings", "admin.guest_access.enabled"))
    await settings.set("w-settings", "admin.guest_access.enabled", "true")
    assert.strictEqual(await settings.get("w-settings", "admin.guest_access.enabled"), "true")
    assert.isFunction(settings.compareAndSet)
    assert.isFalse(await settings.compareAndSet!("w-settings", "admin.guest_access.enabled", null, "false"))
    assert.isTrue(await settings.compareAndSet!("w-settings", "admin.guest_access.enabled", "true", "false"))
    assert.strictEqual(await settings.get("w-settings", "admin.guest_access.enabled"), "false")
    assert.strictEqual((await rejection(settings.set("w-settings", "", "x"))).statusCode, 400)
  })
})

describe("deployment admins", () => {
  it("a granted user passes the checker, a revoked one does not; grants list in ms, idempotently", async () => {
    const admins = getAdminUserStore(eventWithSession())
    const checker = () => getDeploymentAdminChecker()
    const { userId } = await users.getOrCreateUser({ provider: "clerk", providerUserId: "admin-1", email: "boss@example.com" })
    assert.isFalse(await checker().checkDeploymentAdmin("admin-1", "clerk"))

    const before = Date.now()
    await admins.grantAdmin({ userId })
    await admins.grantAdmin({ userId })
    assert.isTrue(await admins.isAdmin({ userId }))
    assert.isTrue(await checker().checkDeploymentAdmin("admin-1", "clerk"))
    assert.isFalse(await checker().checkDeploymentAdmin("admin-1", "github"))
    assert.isFalse(await checker().checkDeploymentAdmin(userId, "clerk"))
    const [listed] = (await admins.listAdmins()).filter((admin) => admin.userId === userId)
    assert.strictEqual(listed.email, "boss@example.com")
    assert.isAtLeast(listed.createdAt, before)
    assert.isAtMost(listed.createdAt, Date.now())
    assert.lengthOf(await admins.searchUsers({ query: "boss@" }), 1)

    await admins.revokeAdmin({ userId })
    await admins.revokeAdmin({ userId })
    assert.isFalse(await admins.isAdmin({ userId }))
    assert.isFalse(await checker().checkDeploymentAdmin("admin-1", "clerk"))
    assert.strictEqual((await rejection(admins.grantAdmin({ userId: "ghost" }))).statusCode, 404)
    // Session resolution asks with whatever the auth provider gave: odd input is "no", not an error.
    assert.isFalse(await checker().checkDeploymentAdmin("", "clerk"))
  })
})

describe("GC actions", () => {
  const changeLogRows = () => {
    const db = new Database(Path.join(dir, "or3.sqlite"), { readonly: true })
    try {
      return (db.prepare("SELECT count(*) AS n FROM change_log").get() as { n: number }).n
    } finally {
      db.close()
    }
  }

  it("the super admin collects every workspace, or the one named; a workspace admin only their own", async () => {
    const adapter = host.admins[0]
    const gateway = host.gateways[0].create()
    const { userId } = await users.getOrCreateUser({ provider: "clerk", providerUserId: "gc-owner" })
    const { workspaceId } = await users.getOrCreateDefaultWorkspace(userId)
    const pushed = await gateway.push(eventWithSession({ userId, workspaceId }), {
      scope: { workspaceId },
      ops: [1, 2].map((clock) => ({
        id: `op-${clock}`,
        tableName: "kv",
        operation: "put" as const,
        pk: "k1",
        payload: { id: "k1", name: "n", value: String(clock), created_at: 1, updated_at: 1, clock },
        stamp: { deviceId: "d1", opId: `6f1c1d0e-3b7a-4c55-9d55-2f4a3f7b9e0${clock}`, hlc: `000${clock}`, clock },
        createdAt: 1,
        attempts: 0,
        status: "pending" as const
      }))
    })
    assert.isTrue(pushed.results.every((result) => result.success))

    const superSession: SessionContext = { authenticated: true, provider: "admin", user: { id: "root" }, role: "owner", deploymentAdmin: true }
    const live = (await getWorkspaceAccessStore(eventWithSession()).listWorkspaces({ page: 1, perPage: 100 })).items.map((w) => w.id)
    const rowsBefore = changeLogRows()
    const all = (await adapter.runAction!(adminEvent("super_admin"), "sync.gc-change-log", undefined, {
      provider: "sqlite",
      enabled: true,
      session: superSession
    })) as { scope: string; workspaces: Array<{ workspaceId: string; deleted: number }>; deleted: number }
    assert.strictEqual(all.scope, "all")
    assert.sameMembers(all.workspaces.map((w) => w.workspaceId), live)
    assert.strictEqual(all.deleted, all.workspaces.reduce((sum, w) => sum + w.deleted, 0))
    assert.strictEqual(all.deleted, rowsBefore - changeLogRows())

    const named = (await adapter.runAction!(adminEvent("super_admin"), "sync.gc-tombstones", { workspaceId }, {
      provider: "sqlite",
      enabled: true,
      session: superSession
    })) as { scope: string; workspaceId: string; workspaces: Array<{ workspaceId: string }> }
    assert.deepStrictEqual([named.scope, named.workspaceId, named.workspaces.map((w) => w.workspaceId)], ["workspace", workspaceId, [workspaceId]])

    const ownerSession: SessionContext = { authenticated: true, user: { id: userId }, workspace: { id: workspaceId }, role: "owner", deploymentAdmin: true }
    const own = (await adapter.runAction!(adminEvent("workspace_admin"), "sync.gc-change-log", undefined, {
      provider: "sqlite",
      enabled: true,
      session: ownerSession
    })) as { workspaceId: string; workspaces: Array<unknown> }
    assert.deepStrictEqual([own.workspaceId, own.workspaces.length], [workspaceId, 1])
    const other = live.find((id) => id !== workspaceId)!
    const refused = await rejection(
      adapter.runAction!(adminEvent("workspace_admin"), "sync.gc-change-log", { workspaceId: other }, {
        provider: "sqlite",
        enabled: true,
        session: ownerSession
      })
    )
    assert.strictEqual((refused as H3Error).statusCode, 403)
  })
})
