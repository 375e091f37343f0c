/**
 * What `or3-sqlite` tells an operator: help that reads as plain text anywhere, messages that name
 * the setting actually used, and one wording for a database from a newer release (which `vacuum`
 * refuses too). The real binary, on real files.
 */
import { assert, beforeAll, describe, it } from "@effect/vitest"
import Database from "better-sqlite3"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { tempDir } from "./helpers/foundation.js"
import { buildCli } from "./support/cliBuild.js"
import { cli } from "./support/cliRun.js"

beforeAll(() => void buildCli(), 120_000)

const CLI_TIMEOUT = 240_000

describe("help", () => {
  it.scopedLive("is plain text naming or3-sqlite, its variables and exit codes, without @effect/cli boilerplate", () =>
    Effect.gen(function*() {
      const root = yield* cli(["--help"])
      const gc = yield* cli(["gc", "--help"], { NO_COLOR: "1" })
      for (const help of [root, gc]) {
        assert.strictEqual(help.code, 0, help.stderr)
        assert.notInclude(help.stdout, "\x1b[", "no escape codes on a pipe")
        assert.notInclude(help.stdout, "A user-defined piece of text")
        assert.notInclude(help.stdout, "--wizard")
        assert.include(help.stdout, "OR3_SQLITE_DB_PATH")
        assert.match(help.stdout, /^ {2}130 +interrupted/m)
      }
      assert.match(root.stdout, /^ {2}restore +put a backup in place/m)
      assert.match(gc.stdout, /^Usage: or3-sqlite gc --retention <duration>/)
      const wizard = yield* cli(["--wizard"])
      assert.strictEqual(wizard.code, 2)
      assert.match(wizard.stderr, /unknown option --wizard/)
    }), CLI_TIMEOUT)
})

describe("messages", () => {
  it.scopedLive("name the setting that was used: --db, OR3_SQLITE_DB_PATH or OR3_SQLITE_LIBSQL_URL", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const missing = Path.join(dir, "missing.sqlite")
      const fromEnv = yield* cli(["status"], { OR3_SQLITE_DB_PATH: missing })
      assert.match(fromEnv.stderr, /^or3-sqlite: no database at .*missing\.sqlite; check OR3_SQLITE_DB_PATH /)
      const fromUrl = yield* cli(["status"], { OR3_SQLITE_DRIVER: "libsql", OR3_SQLITE_LIBSQL_URL: `file:${missing}` })
      assert.match(fromUrl.stderr, /^or3-sqlite: no database at .*missing\.sqlite; check OR3_SQLITE_LIBSQL_URL /)
      const notDb = Path.join(dir, "notes.txt")
      Fs.writeFileSync(notDb, "not a database, but long enough to have a header of a hundred bytes ".repeat(4))
      const flag = yield* cli(["gc", "--retention", "1d", "--db", notDb], { OR3_SQLITE_DB_PATH: Path.join(dir, "other.sqlite") })
      assert.strictEqual(flag.code, 1)
      assert.match(flag.stderr, /^or3-sqlite: --db: cannot open .*notes\.txt/)
      for (const result of [fromEnv, fromUrl, flag]) assert.notInclude(result.stderr, "--db / OR3_SQLITE_DB_PATH")
      assert.deepStrictEqual(Fs.readdirSync(dir).sort(), ["notes.txt"])
    }), CLI_TIMEOUT)

  it.scopedLive("backup and vacuum refuse a database that is not a local file, before opening it", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const memory = yield* cli(["backup", Path.join(dir, "copy.sqlite"), "--db", ":memory:"])
      assert.strictEqual(memory.code, 1, memory.stderr)
      assert.match(memory.stderr, /^or3-sqlite: backup works on a local database file, not an in-memory database/)
      // Nothing listens on the discard port: opening the database would fail with a connection error.
      const remote = yield* cli(["vacuum"], { OR3_SQLITE_DRIVER: "libsql", OR3_SQLITE_LIBSQL_URL: "http://127.0.0.1:9" })
      assert.strictEqual(remote.code, 1, remote.stderr)
      assert.match(remote.stderr, /^or3-sqlite: vacuum works on a local database file; for a remote sqld\/Turso primary/)
      assert.deepStrictEqual(Fs.readdirSync(dir), [])
    }), CLI_TIMEOUT)

  it.scopedLive("backup to a folder that cannot be created (under /proc) fails at once and names it", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = Path.join(dir, "or3.sqlite")
      assert.strictEqual((yield* cli(["migrate", "--db", path])).code, 0)
      const result = yield* cli(["backup", "/proc/or3-sqlite-test/backups/copy.sqlite", "--db", path])
      assert.strictEqual(result.code, 1, result.stderr)
      assert.match(result.stderr, /^or3-sqlite: <file>: cannot create the folder of \/proc\/or3-sqlite-test\/backups\/copy\.sqlite/)
      assert.deepStrictEqual(Fs.readdirSync(dir), ["or3.sqlite"])
    }), CLI_TIMEOUT)

  it.scopedLive("a database from a newer release: one wording, and vacuum refuses it", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = Path.join(dir, "or3.sqlite")
      assert.strictEqual((yield* cli(["migrate", "--db", path])).code, 0)
      const db = new Database(path)
      db.prepare("INSERT INTO or3_sqlite_migrations (migration_id, name) VALUES (42, 'from_the_future')").run()
      const pagesBefore = (db.pragma("page_count", { simple: true }) as number)
      db.close()
      const wording = /^or3-sqlite: The database was migrated by a newer or3-provider-sqlite \(0042_from_the_future\); use that release or a later one/
      for (const command of ["migrate", "vacuum", "verify"]) {
        const result = yield* cli([command, "--db", path])
        assert.strictEqual(result.code, 1, `${command}: ${result.stdout}`)
        assert.match(result.stderr, wording, command)
      }
      const status = JSON.parse((yield* cli(["status", "--json", "--db", path])).stdout)
      assert.deepStrictEqual(status.schema.unknown, ["0042_from_the_future"])
      assert.strictEqual(status.pragmas.page_count, pagesBefore)
    }), CLI_TIMEOUT)
})
