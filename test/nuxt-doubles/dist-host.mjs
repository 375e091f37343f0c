// The OR3 host modules for the built plugin (test/nuxt-dist.test.ts): a Node resolve hook maps
// `~~/server/...` and `#imports` here. Plain JavaScript, because the child process runs dist/
// on Node without a TypeScript loader.
export const host = { config: {}, stores: [], gateways: [], admins: [], adminStores: [], adminCheckers: [] }

export const registerAuthWorkspaceStore = (item) => void host.stores.push(item)
export const listAuthWorkspaceStoreIds = () => host.stores.map((item) => item.id)
export const registerSyncGatewayAdapter = (item) => void host.gateways.push(item)
export const listSyncGatewayAdapterIds = () => host.gateways.map((item) => item.id)
export const registerProviderAdminAdapter = (adapter) => void host.admins.push(adapter)
export const registerAdminStoreProvider = (provider) => void host.adminStores.push(provider)
export const registerDeploymentAdminChecker = (id, create) => void host.adminCheckers.push({ id, create })
export const useRuntimeConfig = () => host.config
export const defineNitroPlugin = (plugin) => plugin

/** The host's strict validator (contract 6). */
export const validateProviders = () => {
  const { sync } = host.config
  if (sync?.enabled !== true) return
  if (!listSyncGatewayAdapterIds().includes(sync.provider) || !listAuthWorkspaceStoreIds().includes(sync.provider)) {
    throw new Error("[or3-cloud-config] Provider registration validation failed")
  }
}
