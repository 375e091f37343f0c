// Runs the BUILT Nitro plugin the way the host would, from a copy of the package (its
// package.json next to dist/), and prints what happened as JSON. Started by
// test/nuxt-dist.test.ts with `node --import <register-hooks> <package>/dist-check.mjs`.
import * as Fs from "node:fs"
import { fileURLToPath } from "node:url"
import { host, validateProviders } from "#or3-test-host"

host.config = {
  auth: { enabled: true },
  sync: { enabled: true, provider: "sqlite" },
  public: { sync: { provider: "sqlite" } }
}

const { default: plugin } = await import("./dist/nuxt/runtime/server/plugins/register.js")
const closeHooks = []
const running = plugin({ hooks: { hook: (_name, handler) => void closeHooks.push(handler) } })
const registeredBeforeAwait = {
  stores: host.stores.map((item) => item.id),
  gateways: host.gateways.map((item) => item.id),
  admins: host.admins.map((adapter) => `${adapter.kind}:${adapter.id}`),
  adminStores: host.adminStores.map((provider) => provider.id),
  adminCheckers: host.adminCheckers.map((checker) => checker.id)
}
validateProviders()
await running

const store = host.stores[0].create()
const { userId } = await store.getOrCreateUser({ provider: "basic-auth", providerUserId: "from-dist" })
const workspace = await store.getOrCreateDefaultWorkspace(userId)
const status = await host.admins[0].getStatus({ context: {} }, { enabled: true, provider: "sqlite" })
// The admin stores and the checker work from dist too: a grant made through the store passes the checker.
await host.adminStores[0].createAdminUserStore({ context: {} }).grantAdmin({ userId })
const deploymentAdmin = await host.adminCheckers[0].create().checkDeploymentAdmin("from-dist", "basic-auth")
await Promise.all(closeHooks.map((hook) => hook()))

const { default: nuxtModule } = await import("or3-provider-sqlite/nuxt")
console.log(
  JSON.stringify({
    core: fileURLToPath(import.meta.resolve("or3-provider-sqlite")),
    nuxt: fileURLToPath(import.meta.resolve("or3-provider-sqlite/nuxt")),
    registeredBeforeAwait,
    created: workspace.created,
    deploymentAdmin,
    schemaVersion: status.details.schemaVersion,
    moduleIsFunction: typeof nuxtModule === "function",
    pluginBuilt: Fs.existsSync(fileURLToPath(new URL("./dist/nuxt/runtime/server/plugins/register.js", import.meta.url)))
  })
)
