/**
 * Ctrl-C and SIGTERM stop the long commands at once, roll back the unit of work in flight, leave no
 * partial file, and exit 130; the real binary on real files. The work is made slow on purpose,
 * through the CLI's test knobs, rather than with a database big enough to take seconds:
 * `OR3_CLI_TEST_GC_BATCH_DELAY_MS` holds each GC batch open before its COMMIT, and
 * `OR3_CLI_TEST_CHILD_DELAY_MS` holds the child process that runs a long statement (every child,
 * or only the jobs a list of `<job>:<ms>` names).
 */
import { assert, beforeAll, describe, it } from "@effect/vitest"
import Database from "better-sqlite3"
import { Effect, Layer, Logger, LogLevel } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { layerSqlFile } from "../src/layers/Migrations.js"
import { tempDir } from "./helpers/foundation.js"
import { buildCli } from "./support/cliBuild.js"
import { cli } from "./support/cliRun.js"

beforeAll(() => void buildCli(), 120_000)

const CLI_TIMEOUT = 240_000

/**
 * A migrated file whose workspace `ws-i` has `n` change-log entries three days old: entries
 * 1..n/2 put keys k-0..k-(n/2-1), entries n/2+1..n overwrite them. Built with one INSERT ... SELECT.
 */
const agedHistory = (n: number) =>
  Effect.gen(function*() {
    const path = Path.join(yield* tempDir, "or3.sqlite")
    const quiet = Logger.minimumLogLevel(LogLevel.Warning)
    yield* Effect.scoped(Layer.build(layerSqlFile(path, { backgroundCheckpoint: false }).pipe(Layer.provide(quiet))))
    const half = n / 2
    const old = Date.now() - 3 * 86_400_000
    const db = new Database(path)
    db.exec(`
      WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${n})
      INSERT INTO change_log (workspace_id, server_version, table_name, pk, op, payload_json, clock, hlc, device_id, op_id, owner_user_id, prior_version, created_at, superseded)
      SELECT 'ws-i', i, 'messages', 'k-' || ((i - 1) % ${half}), 'put', '{"id":"k-' || ((i - 1) % ${half}) || '"}',
        CASE WHEN i > ${half} THEN 2 ELSE 1 END, '0:0:dev', 'dev', 'op-' || i, NULL, CASE WHEN i > ${half} THEN i - ${half} ELSE 0 END, ${old},
        CASE WHEN i > ${half} THEN 0 ELSE 1 END
      FROM s;
      INSERT INTO s_messages (workspace_id, pk, data_json, clock, hlc, op_id, device_id, server_version, owner_user_id, deleted, created_at, updated_at)
      SELECT workspace_id, pk, payload_json, clock, hlc, op_id, device_id, server_version, NULL, 0, created_at, created_at
      FROM change_log WHERE workspace_id = 'ws-i' AND server_version > ${half};
      INSERT INTO sync_heads (workspace_id, head, horizon) VALUES ('ws-i', ${n}, 0);`)
    db.close()
    return path
  })

const read = <A>(path: string, query: string) => {
  const db = new Database(path, { readonly: true })
  try {
    return db.prepare(query).get() as A
  } finally {
    db.close()
  }
}

/** True when this process can take the file's write lock at once: no other process holds it open. */
const nobodyHolds = (path: string) => {
  const db = new Database(path, { timeout: 0 })
  try {
    db.pragma("locking_mode = EXCLUSIVE")
    db.exec("BEGIN EXCLUSIVE; COMMIT")
    return true
  } catch {
    return false
  } finally {
    db.close()
  }
}

describe("interrupted", () => {
  it.scopedLive("gc stops between batches: the batch in flight rolls back, the finished ones stay, progress counts rows", () =>
    Effect.gen(function*() {
      // 16000 superseded entries (compaction's rows) under 16000 winners.
      const path = yield* agedHistory(32_000)
      const result = yield* cli(
        ["gc", "--retention", "1d", "--db", path],
        { OR3_CLI_TEST_GC_BATCH_DELAY_MS: "400" },
        { interrupt: { signal: "SIGINT", when: /change log \([1-9]\d*\/16000\)/ } }
      )
      assert.strictEqual(result.code, 130, result.stderr)
      assert.strictEqual(result.stdout, "", "no success report")
      // The bar counts rows of the one workspace, not workspaces.
      assert.match(result.stderr, /^gc: ws-i: change log \(0\/16000\)$/m)
      const counted = Number(/change log \(([1-9]\d*)\/16000\)/.exec(result.stderr)![1])
      assert.isBelow(counted, 16_000)
      const { n } = read<{ n: number }>(path, "SELECT count(*) AS n FROM change_log WHERE superseded = 1")
      assert.isAbove(n, 0, "stopped before the end")
      assert.isBelow(n, 16_000, "the batches before the signal were kept")
      assert.strictEqual((16_000 - n) % 1000, 0, "whole batches only: the one in flight rolled back")
      assert.strictEqual(read<{ horizon: number }>(path, "SELECT horizon FROM sync_heads").horizon, 0)
      const verified = yield* cli(["verify", "--json", "--db", path])
      assert.strictEqual(verified.code, 0, verified.stdout)
    }), CLI_TIMEOUT)

  it.scopedLive("vacuum (SIGTERM) kills the VACUUM's process: the file is unchanged and nobody holds it", () =>
    Effect.gen(function*() {
      const path = yield* agedHistory(2000)
      Fs.writeFileSync(`${path}.before`, Fs.readFileSync(path))
      const result = yield* cli(["vacuum", "--db", path], { OR3_CLI_TEST_CHILD_DELAY_MS: "20000" }, {
        interrupt: { signal: "SIGTERM", when: /vacuum: rebuilding/ }
      })
      assert.strictEqual(result.code, 130, result.stderr)
      assert.strictEqual(result.stdout, "")
      assert.isTrue(nobodyHolds(path), "the child process is gone")
      assert.deepStrictEqual(Fs.readFileSync(path), Fs.readFileSync(`${path}.before`))
    }), CLI_TIMEOUT)

  it.scopedLive("backup stopped while it checks its copy leaves no file behind", () =>
    Effect.gen(function*() {
      // The check waits 20 s, so the signal lands while it does, however slow the machine. The copy
      // waits 1.5 s only so that the plain progress (a line a second at most) prints "verifying".
      const path = yield* agedHistory(2000)
      const backups = Path.join(Path.dirname(path), "backups")
      const result = yield* cli(["backup", Path.join(backups, "copy.sqlite"), "--db", path], { OR3_CLI_TEST_CHILD_DELAY_MS: "copy:1500,check:20000" }, {
        interrupt: { signal: "SIGINT", when: /verifying the copy/ }
      })
      assert.strictEqual(result.code, 130, result.stderr)
      assert.deepStrictEqual(Fs.readdirSync(backups), [], "neither the copy nor its partial file")
    }), CLI_TIMEOUT)

  it.scopedLive("verify stops during integrity_check", () =>
    Effect.gen(function*() {
      const path = yield* agedHistory(2000)
      const result = yield* cli(["verify", "--db", path], { OR3_CLI_TEST_CHILD_DELAY_MS: "20000" }, {
        interrupt: { signal: "SIGINT", when: /verify: integrity_check/ }
      })
      assert.strictEqual(result.code, 130, result.stderr)
      assert.strictEqual(result.stdout, "")
      assert.isTrue(nobodyHolds(path))
    }), CLI_TIMEOUT)
})
