/**
 * The built package works from dist/ the way the host loads it. The test copies the tests' shared
 * build (`support/distBuild.ts`: what `npm run build` emits) into a temp directory, next to a copy
 * of package.json and a link to node_modules, so it needs no prior `npm run build` and never
 * touches ./dist. A child Node process then runs the built Nitro plugin, with only the host's
 * `~~/...` and `#imports` specifiers redirected to a recording double (a Node resolve hook);
 * `or3-provider-sqlite` resolves through the package's own `exports`, as it will inside the host.
 */
import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { migrations } from "../src/migrations/index.js"
import { builtDist } from "./support/distBuild.js"

const repo = fileURLToPath(new URL("..", import.meta.url))
const doubles = Path.join(repo, "test", "nuxt-doubles")
const latestMigrationId = Math.max(...Object.keys(migrations).map((key) => Number(key.split("_")[0])))

describe("built package (dist)", () => {
  it("the built plugin imports the core by package name and registers before its first await", async () => {
    const root = Fs.mkdtempSync(Path.join(Os.tmpdir(), "or3-dist-"))
    try {
      const pkg = Path.join(root, "or3-provider-sqlite")
      Fs.mkdirSync(pkg)
      Fs.cpSync(await builtDist(), Path.join(pkg, "dist"), { recursive: true })
      const plugin = Path.join(pkg, "dist", "nuxt", "runtime", "server", "plugins", "register.js")
      Fs.copyFileSync(Path.join(repo, "package.json"), Path.join(pkg, "package.json"))
      Fs.symlinkSync(Path.join(repo, "node_modules"), Path.join(pkg, "node_modules"), "dir")
      Fs.copyFileSync(Path.join(doubles, "dist-check.mjs"), Path.join(pkg, "dist-check.mjs"))

      // The host's specifiers are left for the host to resolve.
      const built = Fs.readFileSync(plugin, "utf8")
      for (const specifier of [
        "#imports",
        "~~/server/sync/gateway/registry",
        "~~/server/auth/store/registry",
        "~~/server/admin/providers/registry",
        "~~/server/admin/stores/registry",
        "~~/server/auth/deployment-admin",
        "or3-provider-sqlite"
      ]) {
        assert.include(built, `from "${specifier}"`)
      }

      const hooks = Path.join(root, "register-hooks.mjs")
      Fs.writeFileSync(
        hooks,
        `import { register } from "node:module"\nregister(${JSON.stringify(pathToFileURL(Path.join(doubles, "dist-hooks.mjs")).href)})\n`
      )
      const env: NodeJS.ProcessEnv = { ...process.env, OR3_SQLITE_DB_PATH: Path.join(root, "data", "or3.sqlite") }
      delete env.VITEST
      delete env.NODE_OPTIONS
      const output = execFileSync(process.execPath, ["--import", hooks, Path.join(pkg, "dist-check.mjs")], {
        cwd: pkg,
        env: { ...env, NODE_ENV: "production" },
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"]
      })
      const result = JSON.parse(output.trim().split("\n").at(-1) ?? "{}")
      assert.deepStrictEqual(result, {
        core: Path.join(pkg, "dist", "index.js"),
        nuxt: Path.join(pkg, "dist", "nuxt", "module.js"),
        registeredBeforeAwait: {
          stores: ["sqlite"],
          gateways: ["sqlite"],
          admins: ["sync:sqlite"],
          adminStores: ["sqlite"],
          adminCheckers: ["sqlite"]
        },
        created: true,
        deploymentAdmin: true,
        schemaVersion: latestMigrationId,
        moduleIsFunction: true,
        pluginBuilt: true
      })
    } finally {
      Fs.rmSync(root, { recursive: true, force: true })
    }
  }, 240_000)
})
