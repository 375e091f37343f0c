import * as Os from "node:os"
import { fileURLToPath } from "node:url"
import { configDefaults, defineConfig } from "vitest/config"

const hostDouble = fileURLToPath(new URL("./test/nuxt-doubles/host.ts", import.meta.url))

/** Test files that mock modules (`vi.mock`): each runs in a fresh worker, so no mock leaks out. */
const isolatedFiles = ["test/nuxt-plugin.test.ts", "test/checkpointer-fallback.test.ts"]

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
    testTimeout: 30_000,
    pool: "forks",
    // vitest's default is one worker fewer than the cores, which leaves one of two cores idle: the
    // main process only collects results, and many files wait on child processes and sockets.
    maxWorkers: Math.max(2, Os.availableParallelism() - 1),
    minWorkers: 1,
    // Builds the child-process bundles once, before the workers start.
    globalSetup: ["test/support/globalSetup.ts"],
    // Console output (Effect's INFO lines, h3 warnings, the suites' figures) is kept per test and
    // printed only for a test that fails. `--silent=false` shows it all.
    silent: "passed-only",
    // A dot per test and the summary; failures in full. `--reporter=default` lists every file.
    reporters: ["dot"],
    // Files share their worker's modules: effect and the sources load once per worker instead of
    // once per file (two thirds of the quick files' CPU time went to loading them again). Set
    // here, at the root, it also lets the pool reuse workers (a project's own `isolate` does not).
    isolate: false,
    projects: [
      // The Nitro production builds (~30 s of CPU) run on their own: `npm run test:nitro`.
      { extends: true, test: { name: "shared", include: ["test/**/*.test.ts"], exclude: [...configDefaults.exclude, "test/nitro/**", ...isolatedFiles] } },
      // Run after the shared files, in a fresh worker, with modules reset per file.
      { extends: true, test: { name: "isolated", include: isolatedFiles, isolate: true } }
    ]
  }
})
