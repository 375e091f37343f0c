/**
 * The Nitro plugin the Nuxt module installs. It registers this package's AuthWorkspaceStore,
 * SyncGatewayAdapter, sync admin adapter, admin stores and deployment-admin checker with the OR3
 * host, then starts the provider.
 *
 * Registration happens synchronously, before the first `await`: Nitro does not await plugins, and
 * the host's strict validator checks the registries right after the plugins ran. The registered
 * objects await the starting provider inside each method, so nothing waits for the database here.
 *
 * During `nuxt build` Nitro runs the plugins in a prerender bundle on the build machine: the
 * registrations are made there too, but no database is opened (every call answers 503).
 *
 * The core is imported through the package's own name: from `dist/` it resolves through the
 * package's `exports`, exactly as it does for the host.
 */
import { defineNitroPlugin, useRuntimeConfig } from "#imports"
import { registerProviderAdminAdapter } from "~~/server/admin/providers/registry"
import { registerAdminStoreProvider } from "~~/server/admin/stores/registry"
import { registerDeploymentAdminChecker } from "~~/server/auth/deployment-admin"
import { registerAuthWorkspaceStore } from "~~/server/auth/store/registry"
import { registerSyncGatewayAdapter } from "~~/server/sync/gateway/registry"
import {
  ADMIN_STORE_CAPABILITIES,
  createLazySqliteProvider,
  createSqliteProvider,
  type Or3,
  SQLITE_PROVIDER_ID
} from "or3-provider-sqlite"
import { decideRegistrations } from "../registrations.js"

/** The registries' `order` for this provider (stored by the host, not read by it yet). */
const REGISTRY_ORDER = 100

const LOG_PREFIX = "[or3-provider-sqlite]"

const plugin: Or3.NitroPluginLike = defineNitroPlugin(async (nitroApp) => {
  // Nitro replaces `import.meta.prerender` when it bundles the plugin: true only in the prerender
  // bundle (outside Nitro it is undefined).
  const decision = decideRegistrations(useRuntimeConfig(), { prerender: import.meta.prerender === true })
  if (!decision.authWorkspaceStore) return
  for (const warning of decision.warnings) console.warn(`${LOG_PREFIX} ${warning}`)

  // Started now; every facade method awaits it.
  const provider = createLazySqliteProvider(
    decision.openDatabase ? createSqliteProvider() : Promise.reject(new Error("not started while prerendering"))
  )

  registerAuthWorkspaceStore({ id: SQLITE_PROVIDER_ID, order: REGISTRY_ORDER, create: () => provider.authWorkspaceStore })
  if (decision.syncGatewayAdapter) {
    registerSyncGatewayAdapter({ id: SQLITE_PROVIDER_ID, order: REGISTRY_ORDER, create: () => provider.syncGatewayAdapter })
  }
  registerProviderAdminAdapter(provider.syncAdminAdapter)
  // The host calls these factories on every request: they hand out the same objects.
  registerAdminStoreProvider({
    id: SQLITE_PROVIDER_ID,
    order: REGISTRY_ORDER,
    createWorkspaceAccessStore: () => provider.workspaceAccessStore,
    createWorkspaceSettingsStore: () => provider.workspaceSettingsStore,
    createAdminUserStore: () => provider.adminUserStore,
    getCapabilities: () => ({ ...ADMIN_STORE_CAPABILITIES })
  })
  registerDeploymentAdminChecker(SQLITE_PROVIDER_ID, () => provider.deploymentAdminChecker)
  if (!decision.openDatabase) return
  nitroApp.hooks.hook("close", () => provider.dispose())

  // First await: the migrations. A failed start is logged for the operator; requests then get
  // 503 "SQLite provider unavailable" instead of the start-up error's text.
  try {
    await provider.ready
  } catch (error) {
    console.error(`${LOG_PREFIX} SQLite provider failed to start:`, error instanceof Error ? error.message : error)
  }
})

export default plugin
