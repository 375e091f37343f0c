/**
 * Runs once per `vitest run`, before any test file: builds the bundles that test files start as
 * child processes (the CLI, the reliability fixtures), so that test files in two workers do not
 * both build them. Each is cached by content (`bundle.ts`): on unchanged sources this only hashes
 * `src/`. The `tsc` build of the package (`distBuild.ts`) is left to the first test that needs it.
 */
import { buildFixtures } from "../reliability/support/build.js"
import { buildCli } from "./cliBuild.js"

export default function setup() {
  buildCli()
  buildFixtures()
}
