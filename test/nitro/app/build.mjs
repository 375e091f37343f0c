// Builds the stand-in app the way `nuxt build` builds the OR3 host: Nitro prerenders first (a
// separate `nitro-prerender` bundle run in this process, with this process's environment), then
// builds the node-server bundle into .output/. Run with the app root as the working directory.
import { build, copyPublicAssets, createNitro, prepare, prerender } from "nitropack"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const rootDir = process.cwd()
const moduleDir = dirname(fileURLToPath(import.meta.resolve("or3-provider-sqlite/nuxt")))

const nitro = await createNitro({
  rootDir,
  srcDir: join(rootDir, "server"),
  preset: "node-server",
  dev: false,
  logLevel: 1,
  compatibilityDate: "2025-07-15",
  sourceMap: false,
  // What src/nuxt/module.ts adds: the plugin next to the module, without an extension.
  plugins: [join(moduleDir, "runtime", "server", "plugins", "register")],
  // What Nuxt does for a module it installs from node_modules: the module's package goes into
  // build.transpile, which Nuxt passes to Nitro as an inline external. The package is bundled;
  // its dependencies (better-sqlite3 among them) stay external, traced into .output.
  externals: { inline: ["or3-provider-sqlite"] },
  runtimeConfig: {
    auth: { enabled: true, provider: "basic-auth" },
    sync: { enabled: true, provider: "sqlite" },
    public: { sync: { provider: "sqlite" } }
  },
  prerender: { routes: ["/registrations.json"] }
})
await prepare(nitro)
await copyPublicAssets(nitro)
await prerender(nitro)
await build(nitro)
await nitro.close()
