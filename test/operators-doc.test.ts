/**
 * docs/operators.md runs as written: every ```sh block is executed with bash, in order, against a
 * temporary database that a gateway filled first, with `or3-sqlite` on PATH (the built CLI) and the
 * doc's paths (/var/lib/or3, /var/backups/or3) moved into a temp directory. Each block must exit 0.
 * The doc must also name every OR3_SQLITE_* variable the layers read.
 */
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { otelPackages } from "../src/layers/Tracing.js"
import { tempDir } from "./helpers/foundation.js"
import { buildCli } from "./support/cliBuild.js"
import { openGateway, seedPuts } from "./support/cliRun.js"
import { del } from "./support/ops.js"

const root = fileURLToPath(new URL("..", import.meta.url))
const doc = Fs.readFileSync(Path.join(root, "docs", "operators.md"), "utf8")

/** The ```sh blocks of the doc, in order. */
const shellBlocks = [...doc.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((match) => match[1])

const hasSqlite3 = ChildProcess.spawnSync("sqlite3", ["-version"]).status === 0

/** The workspace the doc's `gc --workspace` example names. */
const DOC_WORKSPACE = "6d3c1f2e-8a4b-4c1e-9f1a-2b7d5e0c9a11"

let entry = ""
beforeAll(() => void (entry = buildCli()), 120_000)

describe("docs/operators.md", () => {
  it("names every OR3_SQLITE_* variable the layers read", () => {
    const layers = Path.join(root, "src", "layers")
    const read = new Set<string>()
    for (const file of Fs.readdirSync(layers)) {
      for (const match of Fs.readFileSync(Path.join(layers, file), "utf8").matchAll(/"(OR3_SQLITE_[A-Z_]+)"/g)) {
        read.add(match[1])
      }
    }
    assert.isAbove(read.size, 8)
    for (const variable of read) assert.include(doc, `\`${variable}\``, variable)
  })

  it("the OpenTelemetry install line is the one the provider names, at versions that resolve with effect 3.22", () => {
    assert.include(doc, `npm install ${otelPackages.join(" ")}\n`)
    for (const spec of otelPackages) assert.match(spec, /^@[a-z-]+\/[a-z-]+@\d+\.\d+\.\d+$/, "exact versions")
  })

  it("the cron line runs the app's own binary, never a bare npx that would ask the registry", () => {
    const cron = doc.split("\n").filter((line) => /^\d+ \d+ \* \* \*/.test(line))
    assert.isAbove(cron.length, 0)
    for (const line of cron) {
      assert.include(line, "node_modules/.bin/or3-sqlite")
      assert.notInclude(line, "npx")
    }
  })

  it.scopedLive("every sh block runs and exits 0, in order, against one database", () =>
    Effect.gen(function*() {
      assert.isAbove(shellBlocks.length, 5)
      const dir = yield* tempDir
      const lib = Path.join(dir, "lib")
      const backups = Path.join(dir, "backups")
      const bin = Path.join(dir, "bin")
      for (const d of [lib, backups, bin]) Fs.mkdirSync(d, { recursive: true })
      Fs.writeFileSync(Path.join(bin, "or3-sqlite"), `#!/bin/sh\nexec "${process.execPath}" "${entry}" "$@"\n`, { mode: 0o755 })
      const db = Path.join(lib, "or3.sqlite")

      // A database with some history, closed again before the doc's commands run (one of them moves it).
      yield* Effect.scoped(Effect.gen(function*() {
        const { gateway } = yield* openGateway(db)
        yield* seedPuts(gateway, DOC_WORKSPACE, { count: 120 })
        yield* seedPuts(gateway, "ws-second", { count: 30 })
        yield* gateway.push({ scope: { workspaceId: DOC_WORKSPACE }, ops: [del({ pk: "k-1", clock: 5 })] })
      }))

      const env: Record<string, string> = {}
      for (const [name, value] of Object.entries(process.env)) {
        if (value !== undefined && !name.startsWith("OR3_SQLITE_") && !name.startsWith("VITEST") && name !== "NODE_ENV") {
          env[name] = value
        }
      }
      Object.assign(env, { PATH: `${bin}:${process.env.PATH}`, OR3_SQLITE_DB_PATH: db })

      const ran: Array<string> = []
      for (const block of shellBlocks) {
        if (!hasSqlite3 && /^sqlite3 /m.test(block)) {
          console.warn("docs/operators.md: sqlite3 is not installed here; its block was not run:\n" + block)
          continue
        }
        const script = block.replaceAll("/var/lib/or3", lib).replaceAll("/var/backups/or3", backups)
        const result = yield* Effect.promise(() =>
          new Promise<{ code: number | null; out: string }>((resolve) => {
            const child = ChildProcess.spawn("bash", ["-euo", "pipefail", "-c", script], { cwd: dir, env })
            let out = ""
            child.stdout.on("data", (chunk) => (out += chunk))
            child.stderr.on("data", (chunk) => (out += chunk))
            child.on("close", (code) => resolve({ code, out }))
          })
        )
        assert.strictEqual(result.code, 0, `block failed:\n${block}\n--- output ---\n${result.out}`)
        ran.push(block)
      }
      // The restore block really replaced the file with the backup (the old one kept aside), and the
      // server's data is there.
      assert.isTrue(Fs.readdirSync(lib).some((name) => name.startsWith("or3.sqlite.replaced-")), Fs.readdirSync(lib).join(", "))
      const status = ChildProcess.spawnSync(Path.join(bin, "or3-sqlite"), ["status", "--json"], { env, encoding: "utf8" })
      assert.strictEqual(status.status, 0, status.stderr)
      const report = JSON.parse(status.stdout)
      assert.deepStrictEqual(report.workspaces.map((ws: { workspaceId: string }) => ws.workspaceId).sort(), [DOC_WORKSPACE, "ws-second"].sort())
      assert.isAtLeast(ran.length, hasSqlite3 ? shellBlocks.length : shellBlocks.length - 1)
    }).pipe(Effect.provide(Layer.empty)), 600_000)
})
