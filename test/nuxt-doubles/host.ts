/**
 * Test double of the OR3 host modules the Nitro plugin imports. vitest.config.ts aliases
 * `~~/server/sync/gateway/registry`, `~~/server/auth/store/registry`,
 * `~~/server/admin/providers/registry` and `#imports` to this one file, so the plugin runs
 * unchanged against recording registries and a runtime config the test sets.
 */
import type {
  AuthWorkspaceStoreRegistryItem,
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
  admins: [] as Array<ProviderAdminAdapter>
}

export const resetHost = (config: Or3RuntimeConfig) => {
  host.config = config
  host.gateways = []
  host.stores = []
  host.admins = []
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
