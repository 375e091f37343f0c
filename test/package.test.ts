/**
 * What `npm publish` ships and what an app installs: the tarball's file list (`npm pack --dry-run`
 * on a copy of the package with the tests' shared build, `support/distBuild.ts`), the package
 * running without the optional libSQL packages, and the build script's freshness check.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { builtDist } from "./support/distBuild.js"

const repo = fileURLToPath(new URL("..", import.meta.url))
const pkgJson = JSON.parse(Fs.readFileSync(Path.join(repo, "package.json"), "utf8"))
const optionalPeers = ["@effect/sql-libsql", "@libsql/client"]

const withTempDir = async <A>(body: (dir: string) => Promise<A>): Promise<A> => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "or3-package-"))
  try {
    return await body(dir)
  } finally {
    Fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** The package as published from `dir`: package.json's `files`, from a copy of the repository's. */
const copyPackage = async (dir: string) => {
  for (const name of ["package.json", "README.md", "LICENSE"]) Fs.copyFileSync(Path.join(repo, name), Path.join(dir, name))
  for (const name of ["src", "docs"]) Fs.cpSync(Path.join(repo, name), Path.join(dir, name), { recursive: true })
  Fs.cpSync(await builtDist(), Path.join(dir, "dist"), { recursive: true })
}

const run = (command: string, args: ReadonlyArray<string>, cwd: string, env: NodeJS.ProcessEnv = process.env) => {
  const result = spawnSync(command, args, { cwd, env, encoding: "utf8" })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

describe("the published tarball", () => {
  it("holds the code, its sources for the maps, the docs the README names, README and LICENSE; nothing else", () =>
    withTempDir(async (dir) => {
      await copyPackage(dir)
      const packed = run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], dir)
      assert.strictEqual(packed.code, 0, packed.stderr)
      const files = new Set<string>(JSON.parse(packed.stdout)[0].files.map((file: { path: string }) => file.path))
      const list = [...files]

      for (const name of ["package.json", "README.md", "LICENSE", "dist/index.js", "dist/index.d.ts", "src/index.ts"]) {
        assert.isTrue(files.has(name), `${name} is not in the tarball`)
      }
      for (const target of Object.values(pkgJson.exports as Record<string, Record<string, string>>).flatMap(Object.values)) {
        assert.isTrue(files.has(Path.normalize(target)), `export ${target} is not in the tarball`)
      }
      const bin = Path.normalize(pkgJson.bin["or3-sqlite"])
      assert.isTrue(files.has(bin), `bin ${bin} is not in the tarball`)
      assert.match(Fs.readFileSync(Path.join(dir, bin), "utf8"), /^#!\/usr\/bin\/env node\n/)
      assert.deepStrictEqual(list.filter((file) => !/^(dist|src|docs)\//.test(file)).sort(), ["LICENSE", "README.md", "package.json"])
      // The build script's stamp is in dist/, and stays out of the tarball.
      assert.isTrue(Fs.existsSync(Path.join(dir, "dist", ".build-stamp.json")))
      assert.isFalse(files.has("dist/.build-stamp.json"))

      // Every source map points at sources that ship with it.
      const maps = list.filter((file) => file.endsWith(".js.map"))
      assert.isAbove(maps.length, 10)
      for (const map of maps) {
        const { sources } = JSON.parse(Fs.readFileSync(Path.join(dir, map), "utf8")) as { sources: Array<string> }
        for (const source of sources) {
          const shipped = Path.normalize(Path.join(Path.dirname(map), source))
          assert.isTrue(files.has(shipped), `${map} points at ${source}, which is not in the tarball`)
        }
      }

      // Every doc the README or a doc names, and every relative link between docs.
      for (const doc of ["README.md", ...list.filter((file) => file.startsWith("docs/"))]) {
        const text = Fs.readFileSync(Path.join(dir, doc), "utf8")
        for (const [named] of text.matchAll(/\bdocs\/[\w.-]+\.md\b/g)) assert.isTrue(files.has(named), `${doc} names ${named}, not in the tarball`)
        for (const [, link] of text.matchAll(/\]\((?!https?:|#)([^)#\s]+)/g)) {
          const target = Path.normalize(Path.join(Path.dirname(doc), link))
          assert.isTrue(files.has(target), `${doc} links to ${link}, not in the tarball`)
        }
      }

      assert.strictEqual(pkgJson.license, "MIT")
      assert.match(Fs.readFileSync(Path.join(dir, "LICENSE"), "utf8"), /^MIT License\n\nCopyright \(c\) \d{4} or3-provider-sqlite contributors\n/)
    }), 120_000)

  it("leaves the libSQL packages to apps that choose libSQL: optional peers, installed here for the tests", () => {
    for (const name of optionalPeers) {
      assert.isUndefined(pkgJson.dependencies[name], `${name} is a dependency: every install would fetch it`)
      assert.isString(pkgJson.peerDependencies[name])
      assert.deepStrictEqual(pkgJson.peerDependenciesMeta[name], { optional: true })
      assert.strictEqual(pkgJson.devDependencies[name], pkgJson.peerDependencies[name])
    }
    // The lockfile matches package.json (an `npm install` would otherwise rewrite it).
    const root = JSON.parse(Fs.readFileSync(Path.join(repo, "package-lock.json"), "utf8")).packages[""]
    for (const field of ["bin", "dependencies", "devDependencies", "peerDependencies", "peerDependenciesMeta"]) {
      assert.deepStrictEqual(root[field], pkgJson[field], `package-lock.json's ${field} differs from package.json's`)
    }
  })
})

/**
 * A node_modules like an app's without libSQL: links to every package of the repository's, less
 * the libSQL ones.
 */
const nodeModulesWithoutLibsql = (dir: string) => {
  const source = Path.join(repo, "node_modules")
  const target = Path.join(dir, "node_modules")
  const skipped = (name: string) => name === "libsql" || name === "@libsql" || name === "@effect/sql-libsql"
  const link = (from: string, to: string) => {
    Fs.mkdirSync(to, { recursive: true })
    for (const entry of Fs.readdirSync(from)) {
      const name = Path.relative(source, Path.join(from, entry))
      if (skipped(name) || entry === ".cache") continue
      if (entry.startsWith("@")) link(Path.join(from, entry), Path.join(to, entry))
      else Fs.symlinkSync(Path.join(from, entry), Path.join(to, entry))
    }
  }
  link(source, target)
}

describe("an install without the optional libSQL packages", () => {
  it("runs on better-sqlite3, CLI included, and a libSQL choice names the packages to install", () =>
    withTempDir(async (dir) => {
      const pkg = Path.join(dir, "node_modules", "or3-provider-sqlite")
      nodeModulesWithoutLibsql(dir)
      Fs.mkdirSync(pkg)
      await copyPackage(pkg)
      const script = Path.join(dir, "app.mjs")
      Fs.writeFileSync(script, [
        `import { createSqliteProvider } from "or3-provider-sqlite"`,
        `const provider = await createSqliteProvider({ path: process.argv[2] })`,
        `const { userId } = await provider.authWorkspaceStore.getOrCreateUser({ provider: "t", providerUserId: "1" })`,
        `console.log(JSON.stringify({ userId: typeof userId }))`,
        `await provider.dispose()`,
        `process.env.OR3_SQLITE_DRIVER = "libsql"`,
        `const failed = await createSqliteProvider().then(() => "opened", (error) => String(error?.message ?? error))`,
        `console.log(JSON.stringify({ failed }))`
      ].join("\n"))
      const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("OR3_SQLITE_") && !name.startsWith("VITEST")))
      const app = run(process.execPath, [script, Path.join(dir, "app.sqlite")], dir, { ...env, OR3_SQLITE_LIBSQL_URL: `file:${Path.join(dir, "l.sqlite")}` })
      assert.strictEqual(app.code, 0, app.stderr)
      // The provider's INFO lines share stdout with the script's JSON lines.
      const [opened, libsql] = app.stdout.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line))
      assert.deepStrictEqual(opened, { userId: "string" })
      for (const name of optionalPeers) assert.include(libsql.failed, `${name}@${pkgJson.peerDependencies[name]}`)

      const cli = run(process.execPath, [Path.join(pkg, pkgJson.bin["or3-sqlite"]), "migrate", "--db", Path.join(dir, "cli.sqlite")], dir, env)
      assert.strictEqual(cli.code, 0, cli.stderr)
    }), 120_000)
})

describe("scripts/build.mjs --if-stale (npm start, demo, inspect)", () => {
  it("rebuilds exactly when an input changed or an output is gone, and then from scratch", () =>
    withTempDir(async (dir) => {
      // A small project with the package's build script and the real tsc. Its few global types
      // stand in for the standard library, whose parsing would take most of each build's time.
      const write = (name: string, text: string) => {
        Fs.mkdirSync(Path.dirname(Path.join(dir, name)), { recursive: true })
        Fs.writeFileSync(Path.join(dir, name), text)
      }
      write("package.json", JSON.stringify({ type: "module" }))
      write("tsconfig.json", JSON.stringify({
        compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noLib: true, types: [], sourceMap: true }
      }))
      const globals = ["Array<T>", "Boolean", "CallableFunction", "Function", "IArguments", "NewableFunction", "Number", "Object", "RegExp", "String"]
      write("src/globals.d.ts", globals.map((name) => `interface ${name} {}\n`).join(""))
      write("tsconfig.build.json", JSON.stringify({ extends: "./tsconfig.json", compilerOptions: { rootDir: "src", outDir: "dist" }, include: ["src"] }))
      write("scripts/build.mjs", Fs.readFileSync(Path.join(repo, "scripts", "build.mjs"), "utf8"))
      write("src/a.ts", `export const a: string = "one"\n`)
      write("src/b.ts", `export const b: number = 1\n`)
      Fs.symlinkSync(Path.join(repo, "node_modules"), Path.join(dir, "node_modules"), "dir")
      const build = () => run(process.execPath, ["scripts/build.mjs", "--if-stale"], dir)
      const built = (name: string) => Path.join(dir, "dist", name)

      const first = build()
      assert.strictEqual(first.code, 0, first.stdout + first.stderr)
      assert.match(first.stdout, /^Building dist\//)
      assert.include(Fs.readFileSync(built("a.js"), "utf8"), `"one"`)
      const firstMtime = Fs.statSync(built("a.js")).mtimeMs

      const unchanged = build()
      assert.strictEqual(unchanged.stdout.trim(), "dist/ is up to date with src/")
      assert.strictEqual(Fs.statSync(built("a.js")).mtimeMs, firstMtime)

      // An edited source lands in dist/; a removed one leaves nothing behind.
      write("src/a.ts", `export const a: string = "two"\n`)
      Fs.rmSync(Path.join(dir, "src", "b.ts"))
      assert.match(build().stdout, /^Building dist\//)
      assert.include(Fs.readFileSync(built("a.js"), "utf8"), `"two"`)
      assert.isFalse(Fs.existsSync(built("b.js")))
      assert.isFalse(Fs.existsSync(built("b.js.map")))

      // An output deleted by hand is rebuilt.
      Fs.rmSync(built("a.js"))
      assert.match(build().stdout, /^Building dist\//)
      assert.include(Fs.readFileSync(built("a.js"), "utf8"), `"two"`)

      // A type error fails the build and leaves no stamp: the next start builds again.
      write("src/a.ts", `export const a: string = 3\n`)
      const broken = build()
      assert.notStrictEqual(broken.code, 0)
      assert.isFalse(Fs.existsSync(built(".build-stamp.json")))
    }), 60_000)
})
