/**
 * The package's code for child processes.
 *
 * The fixtures under `test/reliability/fixtures/` are plain Node ESM scripts that import the
 * package by its name (`or3-provider-sqlite`), so `node fixtures/x.mjs ...` also runs on its own
 * against the built package (`npm run build`; the name resolves through package.json `exports`).
 * For the tests they are bundled once per content (`test/support/bundle.ts`), with the name
 * aliased to `src/index.ts`: the children run the sources under test.
 */
import * as Path from "node:path"
import { bundle, filesUnder, repoRoot } from "../../support/bundle.js"

export { repoRoot }

const fixturesDir = Path.join(repoRoot, "test", "reliability", "fixtures")

/** Entry fixtures (the others are modules they import). */
const entries = ["sync-writer.mjs", "migrator.mjs", "gc-runner.mjs", "cli-writer.mjs"]

/** Bundles every entry fixture if needed; returns the path of the bundle of `name` (`bundled("sync-writer.mjs")`). */
export const buildFixtures = (): (name: string) => string =>
  bundle({
    cacheName: "or3-reliability",
    entries: Object.fromEntries(entries.map((name) => [name, Path.join(fixturesDir, name)])),
    inputs: filesUnder(fixturesDir, [".mjs"]),
    alias: { "or3-provider-sqlite": Path.join(repoRoot, "src", "index.ts") }
  })
