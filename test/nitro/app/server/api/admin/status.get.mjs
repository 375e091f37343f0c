// The host's admin status for the sync provider.
import { defineEventHandler } from "h3"
import { useRuntimeConfig } from "#imports"
import { getProviderAdminAdapter } from "../../admin/providers/registry.mjs"

export default defineEventHandler((event) => {
  const { provider } = useRuntimeConfig().sync
  return getProviderAdminAdapter("sync", provider).getStatus(event, { enabled: true, provider })
})
