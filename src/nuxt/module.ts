/**
 * The Nuxt module `or3-provider-sqlite/nuxt`: the OR3 host lists it (as `<package>/nuxt`) when a
 * provider id maps to this package, and it adds the Nitro plugin that registers the provider.
 */
import { addServerPlugin, createResolver, defineNuxtModule } from "@nuxt/kit"

export default defineNuxtModule({
  meta: { name: "or3-provider-sqlite", configKey: "or3ProviderSqlite" },
  setup() {
    const resolver = createResolver(import.meta.url)
    addServerPlugin(resolver.resolve("./runtime/server/plugins/register"))
  }
})
