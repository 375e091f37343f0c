import { fileURLToPath } from "node:url"
import { configDefaults, defineConfig } from "vitest/config"

const hostDouble = fileURLToPath(new URL("./test/nuxt-doubles/host.ts", import.meta.url))

export default defineConfig({
  resolve: {
    alias: [
      // The package's own name, as the Nitro plugin imports it (the built plugin resolves it
      // through package.json `exports`; test/nuxt-dist.test.ts checks that path).
      { find: /^or3-provider-sqlite$/, replacement: fileURLToPath(new URL("./src/index.ts", import.meta.url)) },
      // The OR3 host modules the plugin imports; the host resolves them at runtime.
      { find: /^~~\/server\/(sync\/gateway|auth\/store|admin\/providers|admin\/stores)\/registry$/, replacement: hostDouble },
      { find: /^~~\/server\/auth\/deployment-admin$/, replacement: hostDouble },
      { find: /^#imports$/, replacement: hostDouble }
    ]
  },
  test: {
    include: ["test/**/*.test.ts"],
    // The Nitro production builds (~30 s of CPU) run on their own: `npm run test:nitro`.
    exclude: [...configDefaults.exclude, "test/nitro/**"],
    testTimeout: 30_000,
    pool: "forks"
  }
})
