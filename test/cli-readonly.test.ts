/**
 * The commands that only read never write: `status`, `verify`, `migrate --dry-run`, the source of
 * `backup` and `npm run inspect` leave a database byte for byte as it was, leave no `-wal`/`-shm`
 * files, and work on a read-only file in a read-only folder. Tests may run as root, which chmod
 * does not stop; then the CLI runs as `nobody`, for whom the permissions hold.
 */
import { assert, beforeAll, describe, it } from "@effect/vitest"
import Database from "better-sqlite3"
import { Effect } from "effect"
import * as ChildProcess from "node:child_process"
import { createHash } from "node:crypto"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { migrations } from "../src/migrations/index.js"
import { tempDir } from "./helpers/foundation.js"
import { bundle, repoRoot } from "./support/bundle.js"
import { buildCli } from "./support/cliBuild.js"
import { cli, type CliRunOptions, openGateway, seedPuts } from "./support/cliRun.js"
import { del } from "./support/ops.js"

beforeAll(() => void buildCli(), 120_000)

const CLI_TIMEOUT = 240_000

const md5 = (path: string) => createHash("md5").update(Fs.readFileSync(path)).digest("hex")

/** Header bytes 18-19: 1 for a rollback journal, 2 for WAL. */
const journalBytes = (path: string) => [...Fs.readFileSync(path).subarray(18, 20)]

/** A WAL database with some sync history, closed (so no -wal next to it), in a folder of its own. */
const closedDatabase = Effect.gen(function*() {
  const dir = yield* tempDir
  Fs.chmodSync(dir, 0o755)
  const folder = Path.join(dir, "data")
  const path = Path.join(folder, "or3.sqlite")
  yield* Effect.scoped(Effect.gen(function*() {
    const { gateway } = yield* openGateway(path)
    yield* seedPuts(gateway, "ws-r", { count: 50 })
    yield* gateway.push({ scope: { workspaceId: "ws-r" }, ops: [del({ pk: "k-3", clock: 4 })] })
  }))
  return { dir, folder, path }
})

/** Runs the read-only commands on `path`; returns their exit codes by name. */
const readAll = (path: string, backupTo: string, options: CliRunOptions) =>
  Effect.gen(function*() {
    const codes: Record<string, number | null> = {}
    const runs: Record<string, ReadonlyArray<string>> = {
      status: ["status", "--json", "--db", path],
      verify: ["verify", "--db", path],
      "migrate --dry-run": ["migrate", "--dry-run", "--db", path],
      backup: ["backup", backupTo, "--db", path]
    }
    for (const [name, args] of Object.entries(runs)) {
      const result = yield* cli(args, {}, options)
      codes[name] = result.code
      assert.strictEqual(result.code, 0, `${name}: ${result.stderr}`)
      if (name === "status") assert.strictEqual(JSON.parse(result.stdout).pragmas.journal_mode, "wal")
    }
    const inspected = yield* cli([path], {}, { ...options, script: "inspect" })
    codes.inspect = inspected.code
    assert.strictEqual(inspected.code, 0, inspected.stderr)
    assert.include(inspected.stdout, `schema    ${Object.keys(migrations).sort().at(-1)}`)
    // Opened `immutable` here, the connection itself would say "delete": the file is a WAL file.
    assert.include(inspected.stdout, "pragmas   journal_mode=wal synchronous=FULL")
    return codes
  })

describe("read-only commands", () => {
  it.scopedLive("leave the file byte for byte as it was and no -wal/-shm next to it", () =>
    Effect.gen(function*() {
      const { dir, folder, path } = yield* closedDatabase
      const before = md5(path)
      assert.deepStrictEqual(journalBytes(path), [2, 2])
      // Here SQLite can create the -wal/-shm a WAL read needs; they must be gone afterwards.
      const copy = Path.join(dir, "copy.sqlite")
      for (const args of [["status", "--db", path], ["backup", copy, "--db", path]]) {
        const result = yield* cli(args)
        assert.strictEqual(result.code, 0, result.stderr)
      }
      assert.strictEqual(md5(path), before)
      assert.deepStrictEqual(Fs.readdirSync(folder), ["or3.sqlite"])

      // A backup is a rollback-journal file: verifying it must not turn it into a WAL file.
      const copyBefore = md5(copy)
      assert.deepStrictEqual(journalBytes(copy), [1, 1])
      assert.strictEqual((yield* cli(["verify", "--db", copy])).code, 0)
      assert.strictEqual((yield* cli(["status", "--db", copy])).code, 0)
      assert.strictEqual(md5(copy), copyBefore)
      assert.deepStrictEqual(journalBytes(copy), [1, 1])
    }), CLI_TIMEOUT)

  it.scopedLive("work on a read-only file in a read-only folder", () =>
    Effect.gen(function*() {
      const { dir, folder, path } = yield* closedDatabase
      const before = md5(path)
      const out = Path.join(dir, "out")
      Fs.mkdirSync(out, { mode: 0o777 })
      Fs.chmodSync(out, 0o777)
      Fs.chmodSync(path, 0o444)
      Fs.chmodSync(folder, 0o555)
      const user = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined
      try {
        yield* readAll(path, Path.join(out, "copy.sqlite"), user === undefined ? {} : { user })
      } finally {
        Fs.chmodSync(folder, 0o755)
      }
      assert.strictEqual(md5(path), before)
      assert.deepStrictEqual(Fs.readdirSync(folder), ["or3.sqlite"])
      assert.isTrue(Fs.existsSync(Path.join(out, "copy.sqlite")))
    }), CLI_TIMEOUT)
})

const readOnlyFixture = Path.join(repoRoot, "test", "fixtures", "read-only-open.ts")

/** `test/fixtures/read-only-open.ts` as a child of its own: ReadOnlySqlite outside the CLI's entry. */
const readOnlyOpen = (path: string, args: ReadonlyArray<string>, user: { uid: number; gid: number } | undefined) =>
  Effect.async<{ users?: number; error?: { variable?: string; reason: string } }>((resume) => {
    const script = bundle({ cacheName: "or3-read-only-open", entries: { "read-only-open.mjs": readOnlyFixture }, inputs: [readOnlyFixture] })(
      "read-only-open.mjs"
    )
    const env = { ...process.env }
    delete env.SQLITE_USE_URI
    const child = ChildProcess.spawn(process.execPath, [script, path, ...args], { env, stdio: ["ignore", "pipe", "pipe"], ...user })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk) => (stdout += chunk))
    child.stderr.on("data", (chunk) => (stderr += chunk))
    child.on("close", (code) => {
      try {
        resume(Effect.succeed(JSON.parse(stdout)))
      } catch {
        resume(Effect.die(new Error(`read-only-open exited with ${code}: ${stderr}`)))
      }
    })
    return Effect.sync(() => void child.kill())
  })

describe("ReadOnlySqlite", () => {
  it.scopedLive("opens a WAL file in a read-only folder without the CLI's entry; refuses clearly when it cannot", () =>
    Effect.gen(function*() {
      const { folder, path } = yield* closedDatabase
      Fs.chmodSync(folder, 0o555)
      const user = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined
      try {
        // Here only an `immutable=1` URI opens the file: SQLite cannot create its -wal and -shm.
        assert.deepStrictEqual(yield* readOnlyOpen(path, [], user), { users: 0 })
        const refused = yield* readOnlyOpen(path, ["--driver-first"], user)
        assert.strictEqual(refused.error?.variable, "SQLITE_USE_URI", JSON.stringify(refused))
        assert.include(refused.error?.reason, path)
      } finally {
        Fs.chmodSync(folder, 0o755)
      }
      assert.deepStrictEqual(Fs.readdirSync(folder), ["or3.sqlite"])
    }), CLI_TIMEOUT)
})

describe("npm run inspect", () => {
  it.scopedLive("on a mistyped path fails clearly and creates nothing", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const typo = Path.join(dir, "no", "such", "or3.sqlite")
      const result = yield* cli([typo], {}, { script: "inspect" })
      assert.strictEqual(result.code, 1)
      assert.match(result.stderr, /^or3-sqlite: no database at .*no\/such\/or3\.sqlite; check the path argument/)
      assert.deepStrictEqual(Fs.readdirSync(dir), [])
    }), CLI_TIMEOUT)

  it.scopedLive("does not migrate what it inspects, and follows OR3_SQLITE_DRIVER=libsql to OR3_SQLITE_LIBSQL_URL", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = Path.join(dir, "libsql.sqlite")
      new Database(path).exec("CREATE TABLE notes (id TEXT)")
      const before = md5(path)
      const result = yield* cli([], { OR3_SQLITE_DRIVER: "libsql", OR3_SQLITE_LIBSQL_URL: `file:${path}` }, { script: "inspect" })
      assert.strictEqual(result.code, 0, result.stderr)
      assert.include(result.stdout, `database  ${path}`)
      assert.include(result.stdout, `(pending: ${Object.keys(migrations).sort().join(", ")})`)
      assert.match(result.stdout, /\n {2}notes +0(\n|$)/)
      assert.strictEqual(md5(path), before)
      assert.deepStrictEqual(Fs.readdirSync(dir), ["libsql.sqlite"])
    }), CLI_TIMEOUT)
})
