/**
 * `or3-sqlite` as operators run it: the built entry in a child process (exit codes, stdout/stderr,
 * a second connection on the file), next to a gateway in this process that keeps pushing.
 *
 * Why a child process rather than the command in-process: the CLI's promises are about the
 * process (exit code, one line on stderr, JSON alone on stdout) and about being a *second
 * connection* beside a server; in-process the CLI would share this process's connection (one
 * client per file per process) and prove nothing about the write lock.
 */
import { assert, beforeAll, describe, it } from "@effect/vitest"
import Database from "better-sqlite3"
import { Effect, Fiber } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { migrations } from "../src/migrations/index.js"
import { tempDir } from "./helpers/foundation.js"
import { buildCli } from "./support/cliBuild.js"
import { cli, keepPushing, openGateway, seedPuts } from "./support/cliRun.js"
import { del, put } from "./support/ops.js"

beforeAll(() => void buildCli(), 120_000)

const json = (stdout: string) => JSON.parse(stdout)

const allKeys = Object.keys(migrations).sort()

/** Each CLI run is a Node process loading Effect (~2 s of CPU); a busy machine stretches that. */
const CLI_TIMEOUT = 240_000

describe("migrate", () => {
  it.scopedLive("--dry-run lists the pending migrations without applying them; migrate applies them", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      // The first step of the documented upgrade, on a path with no database yet: lists, creates nothing.
      const none = Path.join(dir, "none", "or3.sqlite")
      const planned = yield* cli(["migrate", "--dry-run", "--db", none])
      assert.strictEqual(planned.code, 0, planned.stderr)
      const every = Object.keys(migrations).sort()
      assert.include(planned.stdout, `${every.length} pending (not applied, --dry-run):\n${every.map((key) => `  ${key}`).join("\n")}`)
      assert.deepStrictEqual(Fs.readdirSync(dir), [])

      const db = Path.join(dir, "fresh.sqlite")
      new Database(db).close()
      const dry = yield* cli(["migrate", "--dry-run", "--db", db])
      assert.strictEqual(dry.code, 0, dry.stderr)
      assert.include(dry.stdout, `${allKeys.length} pending (not applied, --dry-run):\n${allKeys.map((key) => `  ${key}`).join("\n")}`)
      const tables = () => {
        const raw = new Database(db, { readonly: true })
        try {
          return raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()
        } finally {
          raw.close()
        }
      }
      assert.deepStrictEqual(tables(), [])

      const applied = json((yield* cli(["migrate", "--json"], { OR3_SQLITE_DB_PATH: db })).stdout)
      assert.deepStrictEqual(applied, {
        database: db,
        dryRun: false,
        pending: allKeys,
        applied: allKeys,
        schemaVersion: Number(allKeys.at(-1)!.split("_")[0])
      })
      const again = json((yield* cli(["migrate", "--dry-run", "--json", "--db", db])).stdout)
      assert.deepStrictEqual(again.pending, [])
      assert.isAbove(tables().length, 5)
    }), CLI_TIMEOUT)
})

describe("errors", () => {
  it.scopedLive("are one line on stderr with a non-zero code, never a stack trace", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const missing = yield* cli(["status", "--db", Path.join(dir, "nope.sqlite")])
      assert.strictEqual(missing.code, 1)
      assert.strictEqual(missing.stdout, "")
      assert.match(missing.stderr, /^or3-sqlite: no database at .*nope\.sqlite; check --db \(or3-sqlite migrate.*\n$/)
      assert.isFalse(Fs.existsSync(Path.join(dir, "nope.sqlite")))

      const unset = yield* cli(["status"])
      assert.strictEqual(unset.code, 1)
      assert.match(unset.stderr, /^or3-sqlite: OR3_SQLITE_DB_PATH: is required outside tests.*\(or pass --db <path>\)\n$/)

      const db = Path.join(dir, "db.sqlite")
      assert.strictEqual((yield* cli(["migrate", "--db", db])).code, 0)
      const pragma = yield* cli(["status", "--db", db], { OR3_SQLITE_PRAGMA_SYNCHRONOUS: "sometimes" })
      assert.strictEqual(pragma.code, 1)
      assert.match(pragma.stderr, /^or3-sqlite: OR3_SQLITE_PRAGMA_SYNCHRONOUS: must be one of FULL, NORMAL, EXTRA, OFF, got "sometimes"\n$/)

      const retention = yield* cli(["gc", "--retention", "10m", "--db", db])
      assert.strictEqual(retention.code, 2)
      assert.match(retention.stderr, /^or3-sqlite: --retention "10m": must be between 3600 s/)

      const driver = yield* cli(["status", "--db", db], { OR3_SQLITE_DRIVER: "d1" })
      assert.strictEqual(driver.code, 1)
      assert.match(driver.stderr, /Unsupported OR3_SQLITE_DRIVER value "d1"/)

      const usage = yield* cli(["frobnicate"])
      assert.strictEqual(usage.code, 2)
      for (const result of [missing, unset, pragma, retention, driver, usage]) {
        assert.notMatch(result.stderr, /\n\s+at /, "no stack trace")
      }
    }), CLI_TIMEOUT)
})

describe("status", () => {
  it.scopedLive("reports schema, pragmas, sizes and each workspace's head, cursors and counts (--json parses)", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const db = Path.join(dir, "status.sqlite")
      const { gateway } = yield* openGateway(db)
      yield* seedPuts(gateway, "ws-a", { count: 3 })
      yield* gateway.push({ scope: { workspaceId: "ws-a" }, ops: [del({ pk: "k-0", clock: 5 })] })
      yield* gateway.updateCursor({ scope: { workspaceId: "ws-a" }, deviceId: "phone", version: 2 }, { userId: "u1" })
      const result = yield* cli(["status", "--json", "--db", db])
      assert.strictEqual(result.code, 0, result.stderr)
      const report = json(result.stdout)
      assert.strictEqual(report.schema.version, Number(allKeys.at(-1)!.split("_")[0]))
      assert.deepStrictEqual(report.schema.pending, [])
      assert.strictEqual(report.database.driver, "better-sqlite3")
      assert.strictEqual(report.pragmas.journal_mode, "wal")
      assert.strictEqual(report.pragmas.synchronous, "FULL", "named as the text output names it")
      assert.strictEqual(report.pragmas.foreign_keys, 1)
      assert.strictEqual(report.pragmas.cache_size, -16384)
      assert.isAbove(report.database.fileBytes, 0)
      assert.isNumber(report.database.walBytes)
      const [ws] = report.workspaces
      assert.include(ws, { workspaceId: "ws-a", head: 4, horizon: 0, changeLog: 4, tombstones: 1 })
      assert.deepStrictEqual(ws.rows.messages, { live: 2, deleted: 1 })
      assert.deepStrictEqual(ws.cursors.map((c: any) => [c.deviceId, c.userId, c.version, c.behind]), [["phone", "u1", 2, 2]])

      const human = yield* cli(["status", "--db", db])
      assert.match(human.stdout, /head 4 {2}horizon 0 {2}change_log 4 {2}tombstones 1/)
      assert.match(human.stdout, /cursor phone \(user u1\) at 2, 2 behind/)
    }), CLI_TIMEOUT)
})

describe("verify", () => {
  it.scopedLive("passes on a consistent database and catches a tampered row and a lost tombstone", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const db = Path.join(dir, "verify.sqlite")
      const { gateway, sql } = yield* openGateway(db)
      yield* seedPuts(gateway, "ws-v", { count: 250 })
      yield* gateway.push({
        scope: { workspaceId: "ws-v" },
        ops: [put({ pk: "k-1", clock: 7 }), del({ pk: "k-2", clock: 9 }), del({ pk: "never-existed", clock: 3 }), put({ pk: "k-3", clock: 0 })]
      })
      const clean = yield* cli(["verify", "--json", "--db", db])
      assert.strictEqual(clean.code, 0, clean.stdout + clean.stderr)
      const ok = json(clean.stdout)
      assert.isTrue(ok.ok)
      assert.deepStrictEqual(ok.integrity, ["ok"])
      assert.strictEqual(ok.workspaces[0].keysChecked, 251)

      // Tamper: a payload nobody pushed, and the only memory of a delete.
      yield* sql`UPDATE s_messages SET data_json = '{"id":"k-7","text":"tampered"}' WHERE workspace_id = 'ws-v' AND pk = 'k-7'`
      yield* sql`DELETE FROM tombstones WHERE workspace_id = 'ws-v' AND pk = 'never-existed'`
      const bad = yield* cli(["verify", "--json", "--db", db])
      assert.strictEqual(bad.code, 3)
      const report = json(bad.stdout)
      assert.isFalse(report.ok)
      assert.deepStrictEqual(
        report.findings.map((f: any) => [f.check, f.table, f.pk]).sort(),
        [["replay", "messages", "k-7"], ["replay", "messages", "never-existed"]]
      )
      assert.match(report.findings.find((f: any) => f.pk === "k-7").detail, /payload/)
      assert.match(bad.stderr, /or3-sqlite: verify: 2 findings/)
      const human = yield* cli(["verify", "--db", db])
      assert.strictEqual(human.code, 3)
      assert.match(human.stdout, /FINDING \[replay\] ws-v messages\/k-7: .*payload/)
    }), CLI_TIMEOUT)
})

describe("next to a server that keeps pushing", () => {
  it.scopedLive("backup writes a consistent, verified copy while pushes continue", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const db = Path.join(dir, "live.sqlite")
      const { gateway } = yield* openGateway(db)
      yield* seedPuts(gateway, "ws-b", { count: 3000, bytes: 1000 })
      const counter = { pushes: 0 }
      const pusher = yield* Effect.fork(keepPushing(gateway, "ws-b", counter))
      yield* Effect.sleep("50 millis")
      const before = counter.pushes
      const copy = Path.join(dir, "backups", "copy.sqlite")
      const result = yield* cli(["backup", copy, "--json", "--db", db])
      const during = counter.pushes - before
      // A failed push fails the fiber: check it is still running before stopping it.
      assert.isTrue((yield* Fiber.poll(pusher))._tag === "None", "the pusher is still running")
      yield* Fiber.interrupt(pusher)
      assert.strictEqual(result.code, 0, result.stderr)
      assert.isAbove(during, 10, "pushes kept landing while the backup ran")
      const report = json(result.stdout)
      assert.strictEqual(report.integrity, "ok")
      assert.strictEqual(report.file, copy)
      assert.isTrue(Fs.existsSync(copy))
      assert.deepStrictEqual(Fs.readdirSync(Path.dirname(copy)), ["copy.sqlite"])
      // The copy is one commit's state: its rows equal the replay of its own log.
      const verified = yield* cli(["verify", "--json", "--db", copy])
      assert.strictEqual(verified.code, 0, verified.stdout)
      assert.isAtLeast(json(verified.stdout).workspaces[0].head, 30)
      // And it never overwrites.
      const again = yield* cli(["backup", copy, "--db", db])
      assert.strictEqual(again.code, 1)
      assert.match(again.stderr, /exists; backup never overwrites/)
    }), CLI_TIMEOUT)

  it.scopedLive("verify reports no false finding while pushes keep changing the rows it reads", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const db = Path.join(dir, "verify-live.sqlite")
      const { gateway } = yield* openGateway(db)
      yield* seedPuts(gateway, "ws-l", { count: 3000 })
      const counter = { pushes: 0 }
      const pusher = yield* Effect.fork(keepPushing(gateway, "ws-l", counter))
      yield* Effect.sleep("50 millis")
      const before = counter.pushes
      const result = yield* cli(["verify", "--json", "--db", db])
      const during = counter.pushes - before
      assert.isTrue((yield* Fiber.poll(pusher))._tag === "None", "the pusher is still running")
      yield* Fiber.interrupt(pusher)
      assert.strictEqual(result.code, 0, result.stdout + result.stderr)
      assert.isAbove(during, 10, "pushes kept landing while verify ran")
      const [ws] = json(result.stdout).workspaces
      assert.isAtLeast(ws.keysChecked, 3000)
    }), CLI_TIMEOUT)

  it.scopedLive("gc collects aged history in batches while pushes continue, and verify passes after", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const db = Path.join(dir, "gc.sqlite")
      const { gateway, sql } = yield* openGateway(db)
      yield* seedPuts(gateway, "ws-g", { count: 2500 })
      yield* seedPuts(gateway, "ws-g", { count: 2500, clock: 2 })
      yield* gateway.push({ scope: { workspaceId: "ws-g" }, ops: [del({ pk: "k-1", clock: 3 })] })
      yield* seedPuts(gateway, "ws-other", { count: 10 })
      // Two days old: outside a one-day window.
      const twoDays = 2 * 86_400_000
      yield* sql`UPDATE change_log SET created_at = created_at - ${twoDays}`
      yield* sql`UPDATE tombstones SET deleted_at = deleted_at - ${twoDays}`

      const counter = { pushes: 0 }
      const pusher = yield* Effect.fork(keepPushing(gateway, "ws-g", counter))
      yield* Effect.sleep("50 millis")
      const before = counter.pushes
      const result = yield* cli(["gc", "--retention", "1d", "--workspace", "ws-g", "--db", db, "--json"])
      const during = counter.pushes - before
      assert.isTrue((yield* Fiber.poll(pusher))._tag === "None", "the pusher is still running")
      yield* Fiber.interrupt(pusher)
      assert.strictEqual(result.code, 0, result.stderr)
      assert.isAbove(during, 5, "pushes kept landing while gc ran")
      const report = json(result.stdout)
      assert.strictEqual(report.retentionSeconds, 86_400)
      assert.deepStrictEqual(report.workspaces.map((ws: any) => ws.workspaceId), ["ws-g"])
      // 2501 superseded entries are compacted: the 2500 first puts and k-1's second put, which the
      // delete superseded. The delete (v5001) is old and no cursor holds it: it is forgotten (its
      // tombstone, row and entry), which raises the horizon.
      assert.strictEqual(report.workspaces[0].changeLogDeleted, 2501)
      assert.strictEqual(report.workspaces[0].tombstonesDeleted, 1)
      assert.strictEqual(report.workspaces[0].horizon, 5001)
      const [{ n }] = yield* sql<{ n: number }>`SELECT count(*) AS n FROM change_log WHERE workspace_id = 'ws-other'`
      assert.strictEqual(n, 10, "--workspace limits gc to that workspace")

      const verified = yield* cli(["verify", "--json", "--db", db])
      assert.strictEqual(verified.code, 0, verified.stdout)
      const ws = json(verified.stdout).workspaces.find((w: any) => w.workspaceId === "ws-g")
      assert.strictEqual(ws.horizon, 5001)
      assert.isAtLeast(ws.keysChecked, 2499)

      // Without --workspace: every workspace, plain progress lines on a non-terminal stderr.
      const all = yield* cli(["gc", "--retention", "1d", "--db", db])
      assert.strictEqual(all.code, 0, all.stderr)
      assert.match(all.stdout, /retention 86400 s: 2 workspace\(s\)/)
      assert.match(all.stderr, /^gc: 2 workspace\(s\) done \(\d+ rows looked at\)$/m)
    }), CLI_TIMEOUT)
})

describe("vacuum", () => {
  it.scopedLive("gives the pages GC freed back to the file system", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const db = Path.join(dir, "vacuum.sqlite")
      const { gateway, sql } = yield* openGateway(db)
      yield* seedPuts(gateway, "ws-x", { count: 1000, bytes: 2000 })
      yield* sql`DELETE FROM change_log`
      const result = yield* cli(["vacuum", "--json", "--db", db])
      assert.strictEqual(result.code, 0, result.stderr)
      const report = json(result.stdout)
      assert.isBelow(report.pagesAfter, report.pagesBefore)
      assert.isAbove(report.freePagesBefore, 0)
      // The true size: the database file after the WAL was truncated into it, the WAL not counted.
      assert.isTrue(report.checkpointed, result.stdout)
      assert.strictEqual(report.bytesAfter, Fs.statSync(db).size)
      assert.strictEqual(report.bytesAfter, report.pagesAfter * 4096)
      assert.strictEqual(report.walBytesAfter, 0)
    }), CLI_TIMEOUT)
})
