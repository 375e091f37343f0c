/**
 * The package's code for child processes.
 *
 * The fixtures under `test/reliability/fixtures/` are plain Node ESM scripts that import the
 * package by its name (`or3-provider-sqlite`), so `node fixtures/x.mjs ...` also runs on its own
 * against the built package (`npm run build`; the name resolves through package.json `exports`).
 * For the tests they are bundled once with esbuild (the TypeScript transpiler vite and vitest
 * already use), with the name aliased to `src/index.ts`: the children run the sources under test,
 * and one tree-shaken file starts in about half the time of `tsc` output that loads `effect`'s
 * hundreds of modules one by one. That matters with dozens of SIGKILL/restart cycles on two cores.
 * better-sqlite3 stays external (a native module).
 *
 * Bundles land in `node_modules/.cache/or3-reliability/bundle-<hash>/`, keyed by the content of
 * `src/` and the fixtures, so an unchanged tree is built once for all test files and runs.
 * Concurrent builders each write a private directory and rename it into place.
 */
import * as esbuild from "esbuild"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url))

const cacheRoot = Path.join(repoRoot, "node_modules", ".cache", "or3-reliability")
const fixturesDir = Path.join(repoRoot, "test", "reliability", "fixtures")

const files = (dir: string, suffixes: ReadonlyArray<string>): Array<string> =>
  Fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = Path.join(dir, entry.name)
    if (entry.isDirectory()) return files(path, suffixes)
    return suffixes.some((suffix) => entry.name.endsWith(suffix)) ? [path] : []
  })

const hashInputs = () => {
  const hash = Crypto.createHash("sha256")
  const inputs = [...files(Path.join(repoRoot, "src"), [".ts"]), ...files(fixturesDir, [".mjs"])].sort()
  for (const file of inputs) {
    hash.update(Path.relative(repoRoot, file)).update("\0").update(Fs.readFileSync(file)).update("\0")
  }
  return hash.digest("hex").slice(0, 16)
}

/**
 * Removes bundles of older sources, keeping the cache small: all but the three newest, and never
 * one younger than ten minutes (another run may be starting processes from it).
 */
const prune = (keep: string) => {
  const tenMinutesAgo = Date.now() - 10 * 60 * 1000
  const bundles = Fs.readdirSync(cacheRoot)
    .map((name) => Path.join(cacheRoot, name))
    .filter((path) => path !== keep)
    .flatMap((path) => {
      try {
        return [{ path, mtime: Fs.statSync(path).mtimeMs }]
      } catch {
        return []
      }
    })
    .sort((a, b) => b.mtime - a.mtime)
  for (const { mtime, path } of bundles.slice(2)) {
    if (mtime < tenMinutesAgo) Fs.rmSync(path, { recursive: true, force: true })
  }
}

/** Entry fixtures (the others are modules they import). */
const entries = ["sync-writer.mjs", "migrator.mjs", "gc-runner.mjs", "cli-writer.mjs"]

/**
 * Bundles every entry fixture if needed; returns the path of the runnable bundle of `name`
 * (`bundled("sync-writer.mjs")`).
 */
export const buildFixtures = async (): Promise<(name: string) => string> => {
  Fs.mkdirSync(cacheRoot, { recursive: true })
  const target = Path.join(cacheRoot, `bundle-${hashInputs()}`)
  const resolve = (name: string) => Path.join(target, name)
  if (entries.every((name) => Fs.existsSync(resolve(name)))) return resolve
  const staging = Fs.mkdtempSync(`${target}-building-`)
  try {
    await esbuild.build({
      entryPoints: entries.map((name) => Path.join(fixturesDir, name)),
      outdir: staging,
      outExtension: { ".js": ".mjs" },
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      external: ["better-sqlite3"],
      alias: { "or3-provider-sqlite": Path.join(repoRoot, "src", "index.ts") },
      // Bundled CommonJS code may call `require`; give it Node's.
      banner: { js: "import { createRequire as __or3CreateRequire } from 'node:module'; const require = __or3CreateRequire(import.meta.url);" },
      logLevel: "silent"
    })
    try {
      Fs.renameSync(staging, target)
    } catch (error) {
      if (!Fs.existsSync(resolve(entries[0]))) throw error
    }
  } finally {
    Fs.rmSync(staging, { recursive: true, force: true })
  }
  prune(target)
  return resolve
}
