import { defineConfig } from "vitest/config"

/**
 * `npm run test:nitro`: the production-shaped test (test/nitro), which builds a Nitro app with the
 * package installed and serves it. Kept out of `npm test` for its build time; `.ci/run` runs it.
 */
export default defineConfig({
  test: {
    include: ["test/nitro/**/*.test.ts"],
    testTimeout: 30_000,
    pool: "forks"
  }
})
