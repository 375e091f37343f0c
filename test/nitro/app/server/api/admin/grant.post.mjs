// What the host's admin routes and session resolution do with the admin registrations: grant a
// user deployment admin through the admin user store, then ask the deployment-admin checker with
// the auth provider's identity, as the session does.
import { defineEventHandler, readBody } from "h3"
import { useRuntimeConfig } from "#imports"
import { getAdminStoreProvider } from "../../admin/stores/registry.mjs"
import { getDeploymentAdminChecker } from "../../auth/deployment-admin.mjs"

export default defineEventHandler(async (event) => {
  const { userId, provider, providerUserId } = await readBody(event)
  const id = useRuntimeConfig().sync.provider
  const stores = getAdminStoreProvider(id)
  await stores.createAdminUserStore(event).grantAdmin({ userId })
  const { items } = await stores.createWorkspaceAccessStore(event).listWorkspaces({ page: 1, perPage: 5 })
  return {
    admins: (await stores.createAdminUserStore(event).listAdmins()).map((admin) => admin.userId),
    workspaces: items.length,
    checker: await getDeploymentAdminChecker(id).checkDeploymentAdmin(providerUserId, provider),
    capabilities: stores.getCapabilities()
  }
})
