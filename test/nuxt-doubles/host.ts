/**
 * Test double of the OR3 host modules the Nitro plugin imports. vitest.config.ts aliases
 * `~~/server/sync/gateway/registry`, `~~/server/auth/store/registry`,
 * `~~/server/admin/providers/registry`, `~~/server/admin/stores/registry`,
 * `~~/server/auth/deployment-admin` and `#imports` to this one file, so the plugin runs unchanged
 * against recording registries and a runtime config the test sets.
 */
import { createError, type H3Event } from "h3"
import type {
  AdminStoreCapabilities,
  AdminStoreProvider,
  AuthWorkspaceStoreRegistryItem,
  DeploymentAdminChecker,
  DeploymentAdminCheckerFactory,
  NitroAppLike,
  NitroPluginLike,
  Or3RuntimeConfig,
  ProviderAdminAdapter,
  SyncGatewayAdapterRegistryItem
} from "../../src/or3/types.js"

export const host = {
  config: {} as Or3RuntimeConfig,
  gateways: [] as Array<SyncGatewayAdapterRegistryItem>,
  stores: [] as Array<AuthWorkspaceStoreRegistryItem>,
  admins: [] as Array<ProviderAdminAdapter>,
  adminStores: [] as Array<AdminStoreProvider>,
  adminCheckers: [] as Array<{ id: string; create: DeploymentAdminCheckerFactory }>
}

export const resetHost = (config: Or3RuntimeConfig) => {
  host.config = config
  host.gateways = []
  host.stores = []
  host.admins = []
  host.adminStores = []
  host.adminCheckers = []
}

export const registerSyncGatewayAdapter = (item: SyncGatewayAdapterRegistryItem): void => {
  host.gateways.push(item)
}
export const listSyncGatewayAdapterIds = (): Array<string> => host.gateways.map((item) => item.id)
export const registerAuthWorkspaceStore = (item: AuthWorkspaceStoreRegistryItem): void => {
  host.stores.push(item)
}
export const listAuthWorkspaceStoreIds = (): Array<string> => host.stores.map((item) => item.id)
export const registerProviderAdminAdapter = (adapter: ProviderAdminAdapter): void => {
  host.admins.push(adapter)
}

export const registerAdminStoreProvider = (provider: AdminStoreProvider): void => {
  host.adminStores.push(provider)
}
export const registerDeploymentAdminChecker = (id: string, create: DeploymentAdminCheckerFactory): void => {
  host.adminCheckers.push({ id, create })
}

/** The entry registered last under the configured `sync.provider` (a host registry is a Map). */
const latest = <A extends { readonly id: string }>(items: ReadonlyArray<A>): A | undefined =>
  items.filter((item) => item.id === String(host.config.sync?.provider)).at(-1)

/**
 * What the host's admin store registry does on each request (contract 1): the provider registered
 * last under `sync.provider`, its factory called with the request's event; 501 when none is.
 */
export const adminStoreProvider = (): AdminStoreProvider => {
  const provider = latest(host.adminStores)
  if (provider === undefined) {
    const id = String(host.config.sync?.provider)
    throw createError({ statusCode: 501, statusMessage: `Workspace access store not implemented for provider: ${id}` })
  }
  return provider
}
export const getWorkspaceAccessStore = (event: H3Event) => adminStoreProvider().createWorkspaceAccessStore(event)
export const getWorkspaceSettingsStore = (event: H3Event) => adminStoreProvider().createWorkspaceSettingsStore(event)
export const getAdminUserStore = (event: H3Event) => adminStoreProvider().createAdminUserStore(event)

const noCapabilities: AdminStoreCapabilities = {
  supportsServerSideAdmin: false,
  supportsUserSearch: false,
  supportsWorkspaceList: false,
  supportsWorkspaceManagement: false,
  supportsDeploymentAdminGrants: false
}
export const getAdminStoreCapabilities = (): AdminStoreCapabilities =>
  latest(host.adminStores)?.getCapabilities?.() ?? noCapabilities

/** The host's checker lookup by `sync.provider`: a deny-all checker when none is registered. */
export const getDeploymentAdminChecker = (): DeploymentAdminChecker =>
  latest(host.adminCheckers)?.create() ?? { checkDeploymentAdmin: async () => false }

export const useRuntimeConfig = (): Or3RuntimeConfig => host.config
export const defineNitroPlugin = (plugin: NitroPluginLike): NitroPluginLike => plugin

/**
 * The host's strict validator (`server/plugins/01.validate-providers.ts`, contract 6): with sync
 * enabled, both the gateway and the store registries must hold `sync.provider`.
 */
export const validateProviders = (): void => {
  const sync = host.config.sync
  if (sync?.enabled !== true) return
  const id = String(sync.provider)
  if (!listSyncGatewayAdapterIds().includes(id) || !listAuthWorkspaceStoreIds().includes(id)) {
    throw new Error("[or3-cloud-config] Provider registration validation failed")
  }
}

/** A Nitro app that records `close` hooks; `close()` runs them like Nitro does on shutdown. */
export const makeNitroApp = () => {
  const closeHooks: Array<() => void | Promise<void>> = []
  const app: NitroAppLike = {
    hooks: {
      hook: (_name, handler) => {
        closeHooks.push(handler)
      }
    }
  }
  return { app, closeHooks, close: async () => void (await Promise.all(closeHooks.map((hook) => hook()))) }
}
