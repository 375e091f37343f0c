/**
 * Package code for child processes, bundled once per content with esbuild (the transpiler vite and
 * vitest already use). One tree-shaken file starts in about half the time of `tsc` output, which
 * loads effect as hundreds of modules: with dozens of processes per test file on two cores, that
 * is most of a suite's time. better-sqlite3 and the libSQL client stay external (native code); they
 * and everything else external resolve from the repository's `node_modules`.
 *
 * A bundle lands in `node_modules/.cache/<name>/<hash>/`, keyed by the content of `src/` and of the
 * extra inputs, so every test file, worker and rerun on unchanged sources shares one build. The
 * global setup (`test/support/globalSetup.ts`) builds them before the first test file; a test file
 * run on its own builds what it needs the same way. A lock directory next to the build makes
 * concurrent builders of the same content wait for the first one.
 */
import * as esbuild from "esbuild"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url))

const srcDir = Path.join(repoRoot, "src")

/** Files under `dir` whose names end with one of `suffixes`, recursively, sorted. */
export const filesUnder = (dir: string, suffixes: ReadonlyArray<string>): Array<string> =>
  Fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = Path.join(dir, entry.name)
    if (entry.isDirectory()) return filesUnder(path, suffixes)
    return suffixes.some((suffix) => entry.name.endsWith(suffix)) ? [path] : []
  }).sort()

/** A short hash of the files' paths (relative to the repository) and contents. */
export const contentHash = (files: ReadonlyArray<string>): string => {
  const hash = Crypto.createHash("sha256")
  for (const file of files) {
    hash.update(Path.relative(repoRoot, file)).update("\0").update(Fs.readFileSync(file)).update("\0")
  }
  return hash.digest("hex").slice(0, 16)
}

/**
 * Removes builds of older sources, keeping the cache small: all but the three newest, and never
 * one younger than ten minutes (another run may be starting processes from it).
 */
const prune = (cacheRoot: string, keep: string) => {
  const tenMinutesAgo = Date.now() - 10 * 60 * 1000
  const builds = Fs.readdirSync(cacheRoot)
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
  for (const { mtime, path } of builds.slice(2)) {
    if (mtime < tenMinutesAgo) Fs.rmSync(path, { recursive: true, force: true })
  }
}

interface Slot {
  readonly cacheRoot: string
  /** The finished build's directory. */
  readonly target: string
  /** A directory holding the pid of the one process building `target`. */
  readonly lock: string
  readonly deadline: number
}

const slotFor = (cacheName: string, inputs: ReadonlyArray<string>): Slot => {
  const cacheRoot = Path.join(repoRoot, "node_modules", ".cache", cacheName)
  Fs.mkdirSync(cacheRoot, { recursive: true })
  const target = Path.join(cacheRoot, contentHash([...filesUnder(srcDir, [".ts"]), ...inputs]))
  return { cacheRoot, target, lock: `${target}.lock`, deadline: Date.now() + 10 * 60 * 1000 }
}

/** False when the lock's builder has died (or left no pid for a minute). */
const builderAlive = (lock: string): boolean => {
  let pid: number
  try {
    pid = Number(Fs.readFileSync(Path.join(lock, "pid"), "utf8"))
  } catch {
    // Between the builder's mkdir and its pid write, or gone.
    try {
      return Date.now() - Fs.statSync(lock).mtimeMs < 60_000
    } catch {
      return false
    }
  }
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** "built" when the build exists, "ours" when this process took the lock, "wait" while another builds. */
const claim = (slot: Slot): "built" | "ours" | "wait" => {
  if (Fs.existsSync(slot.target)) return "built"
  try {
    Fs.mkdirSync(slot.lock)
    Fs.writeFileSync(Path.join(slot.lock, "pid"), String(process.pid))
    // Finished by another builder between the check above and the lock.
    if (!Fs.existsSync(slot.target)) return "ours"
    Fs.rmSync(slot.lock, { recursive: true, force: true })
    return "built"
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
  }
  if (!builderAlive(slot.lock)) Fs.rmSync(slot.lock, { recursive: true, force: true })
  else if (Date.now() > slot.deadline) throw new Error(`${slot.lock}: another build has held this lock for ten minutes`)
  return "wait"
}

/** Moves a successful build into place; always removes the staging directory and the lock. */
const finish = (slot: Slot, staging: string, failed: boolean) => {
  try {
    if (!failed) Fs.renameSync(staging, slot.target)
  } finally {
    Fs.rmSync(staging, { recursive: true, force: true })
    Fs.rmSync(slot.lock, { recursive: true, force: true })
  }
  prune(slot.cacheRoot, slot.target)
}

/**
 * A private staging directory, opened to everyone (mkdtemp makes it 0700): the CLI tests run some
 * children as another user (`nobody`), who must read the build it becomes.
 */
const stagingFor = (slot: Slot) => {
  const staging = Fs.mkdtempSync(`${slot.target}-building-`)
  Fs.chmodSync(staging, 0o755)
  return staging
}

/** Blocks this thread for `ms` (the bundles are built and waited for synchronously: they take ~1 s). */
const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)

/**
 * Builds `build` into `node_modules/.cache/<cacheName>/<hash of src and inputs>/` unless that
 * directory exists, and returns it. `build` writes into the staging directory it is given. One
 * builder at a time per content: test files in other workers wait for it instead of repeating it.
 */
export const cachedBuild = (cacheName: string, inputs: ReadonlyArray<string>, build: (staging: string) => void): string => {
  const slot = slotFor(cacheName, inputs)
  for (let state = claim(slot); state !== "ours"; state = claim(slot)) {
    if (state === "built") return slot.target
    sleepSync(100)
  }
  const staging = stagingFor(slot)
  let failed = true
  try {
    build(staging)
    failed = false
  } finally {
    finish(slot, staging, failed)
  }
  return slot.target
}

/**
 * `cachedBuild` for a long build (tsc): waiting and building never block the worker, whose test
 * runner must keep answering vitest meanwhile.
 */
export const cachedBuildAsync = async (
  cacheName: string,
  inputs: ReadonlyArray<string>,
  build: (staging: string) => Promise<void>
): Promise<string> => {
  const slot = slotFor(cacheName, inputs)
  for (let state = claim(slot); state !== "ours"; state = claim(slot)) {
    if (state === "built") return slot.target
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  const staging = stagingFor(slot)
  let failed = true
  try {
    await build(staging)
    failed = false
  } finally {
    finish(slot, staging, failed)
  }
  return slot.target
}

export interface BundleSpec {
  /** The cache directory's name under `node_modules/.cache`. */
  readonly cacheName: string
  /** Output path (relative, ending in `.mjs`) -> entry file. */
  readonly entries: Readonly<Record<string, string>>
  /** Files besides `src/` whose content the bundle depends on (the entries outside `src/`). */
  readonly inputs?: ReadonlyArray<string>
  /** Import specifiers replaced by files (the package's own name -> `src/index.ts`). */
  readonly alias?: Readonly<Record<string, string>>
}

/** Bundles `spec` (once per content); returns the path of an output by its name in `entries`. */
export const bundle = (spec: BundleSpec): (output: string) => string => {
  const dir = cachedBuild(spec.cacheName, spec.inputs ?? [], (staging) => {
    esbuild.buildSync({
      entryPoints: Object.entries(spec.entries).map(([output, entry]) => ({ in: entry, out: output.replace(/\.mjs$/, "") })),
      outdir: staging,
      outExtension: { ".js": ".mjs" },
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      // Native code, and the optional packages a dynamic import loads only when asked for.
      external: ["better-sqlite3", "@libsql/*", "libsql", "@opentelemetry/*", "@effect/opentelemetry"],
      alias: { ...spec.alias },
      // Bundled CommonJS code may call `require`; give it Node's.
      banner: { js: "import { createRequire as __or3CreateRequire } from 'node:module'; const require = __or3CreateRequire(import.meta.url);" },
      logLevel: "silent"
    })
    // What `import.meta.url`-relative reads of the package's own package.json find (the CLI's
    // version): an output at `dist/cli/main.mjs` reads `../../package.json`, as in the package.
    const { name, version } = JSON.parse(Fs.readFileSync(Path.join(repoRoot, "package.json"), "utf8"))
    Fs.writeFileSync(Path.join(staging, "package.json"), JSON.stringify({ name, version, type: "module" }))
  })
  return (output) => {
    if (!(output in spec.entries)) throw new Error(`${output} is not an output of ${spec.cacheName}`)
    return Path.join(dir, output)
  }
}
