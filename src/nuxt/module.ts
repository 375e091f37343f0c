/**
 * The Nuxt module `or3-provider-sqlite/nuxt`: the OR3 host lists it (as `<package>/nuxt`) when a
 * provider id maps to this package, and it adds the Nitro plugin that registers the provider.
 */
import { addServerPlugin, createResolver, defineNuxtModule } from "@nuxt/kit"

/**
 * What Nuxt calls. Written out because `NuxtModule` lives in `@nuxt/schema`, a peer of
 * `@nuxt/kit` that this package does not install; without it the inferred type would leak
 * unresolved names into `dist/nuxt/module.d.ts`.
 */
export type Or3NuxtModule = (this: void, inlineOptions: Record<string, unknown>, nuxt: unknown) => unknown

const module: Or3NuxtModule = defineNuxtModule({
  meta: { name: "or3-provider-sqlite", configKey: "or3ProviderSqlite" },
  setup() {
    // No extension: Nitro resolves `.js` in dist/ and `.ts` in a source checkout.
    addServerPlugin(createResolver(import.meta.url).resolve("./runtime/server/plugins/register"))
  }
})

export default module
