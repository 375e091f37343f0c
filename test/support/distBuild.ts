/**
 * The package as `npm run build` emits it, for the tests that check the built files: built once
 * per content of `src/` and the build inputs into `node_modules/.cache/or3-dist/<hash>/dist` (see
 * `bundle.ts`). `tsc` takes 10-20 s here, so the test files that need it share one build, and a
 * test copies what it needs, never editing the cache.
 *
 * The build runs `scripts/build.mjs` in a copy of the package's build inputs (next to a link to
 * `node_modules`), so the output is laid out exactly as `npm run build` lays out `dist/` (source
 * maps point at `../src/...`), without touching the repository's `dist/`.
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { cachedBuildAsync, repoRoot } from "./bundle.js"

const buildInputs = ["tsconfig.json", "tsconfig.build.json", "package.json", "scripts/build.mjs"]

/** The directory of the built `dist/` (absolute). */
export const builtDist = async (): Promise<string> => {
  const dir = await cachedBuildAsync("or3-dist", buildInputs.map((name) => Path.join(repoRoot, name)), async (staging) => {
    const pkg = Path.join(staging, "package")
    for (const name of [...buildInputs, "src"]) Fs.cpSync(Path.join(repoRoot, name), Path.join(pkg, name), { recursive: true })
    Fs.symlinkSync(Path.join(repoRoot, "node_modules"), Path.join(pkg, "node_modules"), "dir")
    const output = await new Promise<string>((resolve) => {
      const child = ChildProcess.spawn(process.execPath, [Path.join("scripts", "build.mjs")], { cwd: pkg })
      let text = ""
      child.stdout.on("data", (chunk) => (text += chunk))
      child.stderr.on("data", (chunk) => (text += chunk))
      child.on("close", () => resolve(text))
    })
    // Type errors are `npm run typecheck`'s business (tsc still emits); these tests are about the
    // emitted files, so only a build that emitted nothing fails them.
    if (!Fs.existsSync(Path.join(pkg, "dist", "index.js"))) throw new Error(`the build emitted nothing:\n${output}`)
    Fs.renameSync(Path.join(pkg, "dist"), Path.join(staging, "dist"))
    Fs.rmSync(pkg, { recursive: true, force: true })
  })
  return Path.join(dir, "dist")
}
