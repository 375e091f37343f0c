/**
 * The CLI tests run `or3-sqlite` as operators do: `node <built>/cli/main.mjs ...` in a child
 * process, so exit codes, stdout/stderr separation and a second connection on the database file
 * are real.
 *
 * The build is an esbuild bundle of `src/cli/main.ts` (and `src/cli/inspect.ts`, `npm run
 * inspect`), once per content of `src/` (see `bundle.ts`): a bundled CLI starts in about half the
 * time of `tsc` output, and the CLI tests start dozens of them. The type check is `npm run
 * typecheck`'s; `test/nuxt-dist.test.ts` and `test/package.test.ts` run the real `tsc` output.
 */
import * as Path from "node:path"
import { bundle, repoRoot } from "./bundle.js"

const cli = () =>
  bundle({
    cacheName: "or3-sqlite-cli",
    entries: {
      "dist/cli/main.mjs": Path.join(repoRoot, "src", "cli", "main.ts"),
      "dist/cli/inspect.mjs": Path.join(repoRoot, "src", "cli", "inspect.ts")
    }
  })

/** Builds the CLI once per content of `src/` and returns the path of its entry (`or3-sqlite`). */
export const buildCli = (): string => cli()("dist/cli/main.mjs")

/** The same for `npm run inspect`'s entry. */
export const buildInspect = (): string => cli()("dist/cli/inspect.mjs")
